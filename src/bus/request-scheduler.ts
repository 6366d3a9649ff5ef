import type { Role } from './users.js';

/** How much one connection of a role may ask (config `requests.<role>`). */
export interface RequestLimits {
  /** Requests of one connection waiting or running; beyond it the next is answered `busy` at once. */
  queue: number;
  /** Sustained requests a second per connection (token bucket); beyond it `busy`. */
  perSecond: number;
  /** Requests a connection may send in one go above the sustained rate. */
  burst: number;
  /** Big queries (tickets, report, stats, health) a second per connection. */
  bigQueriesPerSecond: number;
  /**
   * Requests of one connection handed to the hall at once (the rest wait in its line). The hall
   * serves what it was handed in arrival order, so this, not `queue`, is how many of a flooder's
   * requests another client's request can find ahead of it.
   */
  running: number;
}

export interface SchedulerLimits {
  byRole: Record<Role, RequestLimits>;
  /** Big queries waiting or running at once, whoever sent them: their answers are what costs memory. */
  bigQueriesAtOnce: number;
  /** Requests running at once (they share the hall's group commit); more wait in their lines. */
  concurrent: number;
}

/**
 * Defaults sized from the hall: a kiosk takes a few numbers a second at most, a dashboard polls
 * a few times a second and its operator presses a key now and then; 2000 tickets a day is
 * a few a second at the opening burst. Generous enough that no honest client meets them.
 */
export const DEFAULT_LIMITS: SchedulerLimits = {
  byRole: {
    device: { queue: 16, perSecond: 5, burst: 20, bigQueriesPerSecond: 1, running: 4 },
    // Staff tools (and the benchmarks) issue hundreds of tickets back to back: the rate is a
    // sanity cap, fairness comes from the round robin. 8 running, half the hall's first group
    // (FIRST_GROUP_COMMANDS, 16): another connection's request always fits in the next group
    // beside a flooder's, instead of waiting for a full group of the flooder's first.
    operator: { queue: 64, perSecond: 200, burst: 400, bigQueriesPerSecond: 5, running: 8 },
    observer: { queue: 8, perSecond: 5, burst: 10, bigQueriesPerSecond: 1, running: 2 },
    admin: { queue: 128, perSecond: 500, burst: 1000, bigQueriesPerSecond: 10, running: 32 },
    // A hall TV sends no requests; one that does is answered `forbidden`, a few at a time.
    display: { queue: 4, perSecond: 2, burst: 4, bigQueriesPerSecond: 1, running: 1 },
  },
  bigQueriesAtOnce: 2,
  // The hall's group commit takes 16 commands after a quiet moment and up to 128 under sustained
  // load (hall.ts, MAX_GROUP_COMMANDS): enough running at once to fill the largest group.
  concurrent: 128,
};

/** A page of tickets, its stats and a report in a row is fine; a polling loop is not. */
function bigBurst(limits: RequestLimits): number {
  return Math.max(2, 2 * limits.bigQueriesPerSecond);
}

/** The defaults with what the config (`requests:`) overrides. */
export function schedulerLimits(config: Partial<Record<Role, Partial<RequestLimits> | undefined>> & { bigQueriesAtOnce?: number; concurrent?: number } = {}): SchedulerLimits {
  const byRole = { ...DEFAULT_LIMITS.byRole };
  for (const role of Object.keys(byRole) as Role[]) byRole[role] = { ...byRole[role], ...stripUndefined(config[role] ?? {}) };
  return { byRole, bigQueriesAtOnce: config.bigQueriesAtOnce ?? DEFAULT_LIMITS.bigQueriesAtOnce, concurrent: config.concurrent ?? DEFAULT_LIMITS.concurrent };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Requests whose answers grow with the day (hundreds of KB): they get their own bounds. */
export const BIG_QUERIES: ReadonlySet<string> = new Set(['tickets', 'report', 'stats', 'health', 'events']);

export interface Asker {
  /** One connection: its MQTT client id (or the username when there is none). */
  key: string;
  role: Role;
}

export type Admission = { ok: true } | { ok: false; reason: string };

interface ClientLine {
  role: Role;
  jobs: Array<{ big: boolean; run: () => Promise<unknown> }>;
  /** Waiting plus running. */
  inFlight: number;
  /** Handed to the hall and not finished (at most `running` of its role). */
  running: number;
  tokens: number;
  bigTokens: number;
  refilledAt: number;
  /** In the round of clients with work (so it is not added twice). */
  inRound: boolean;
  /** whenRoom() callers waiting for this line to fall to half its queue. */
  roomWaiters: Array<() => void>;
}

/**
 * Fair service of requests: every connection has its own bounded line, and the hall takes one
 * request from each line in turn (round robin), with at most `running` of one connection's
 * requests handed to the hall at once. A client flooding requests waits behind its own
 * requests, not in front of everybody else's: another client's request finds at most `running`
 * of each other client's requests ahead of it in the hall. (Without that cap the whole of a
 * flooder's line went to the hall at once — its queue was below `concurrent` — and the hall's
 * arrival order put another operator's `issue` behind up to 64 of the flooder's, two or three
 * group commits: 60–200 ms at the start of an `issue` flood.) Requests reach the hall in the order they are started here
 * (the queue engine keeps that order), and refusals (`busy`) are decided at arrival, in O(1),
 * without touching the hall.
 */
export class FairRequestScheduler {
  private readonly lines = new Map<string, ClientLine>();
  /** Connections with work waiting, in service order. */
  private round: string[] = [];
  private roundHead = 0;
  private active = 0;
  private waiting = 0;
  private bigInFlight = 0;
  private idleWaiters: Array<() => void> = [];
  /** whenRoom() callers waiting for a big-query slot. */
  private bigWaiters: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly limits: SchedulerLimits = DEFAULT_LIMITS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Requests waiting or running. */
  pending(): number {
    return this.waiting;
  }

  /** Queues `run` for `asker`, or says why not (the caller answers `busy`). */
  offer(asker: Asker, command: string, run: () => Promise<unknown>): Admission {
    const limits = this.limits.byRole[asker.role];
    const line = this.lineOf(asker);
    this.refill(line, limits);
    const big = BIG_QUERIES.has(command);
    if (line.inFlight >= limits.queue) return { ok: false, reason: `this connection already has ${line.inFlight} requests waiting (the limit for role ${asker.role}); wait for their answers` };
    if (line.tokens < 1) return { ok: false, reason: `more than ${limits.perSecond} requests a second from this connection (role ${asker.role}); slow down` };
    if (big) {
      if (line.bigTokens < 1) return { ok: false, reason: `"${command}" builds a large answer: at most ${limits.bigQueriesPerSecond} such queries a second per connection (role ${asker.role})` };
      if (this.bigInFlight >= this.limits.bigQueriesAtOnce) return { ok: false, reason: `${this.bigInFlight} large queries (tickets, report, stats, health) are already being answered; retry shortly` };
      line.bigTokens -= 1;
      this.bigInFlight += 1;
    }
    line.tokens -= 1;
    line.inFlight += 1;
    line.jobs.push({ big, run });
    this.waiting += 1;
    this.enterRound(asker.key, line);
    this.pump();
    return { ok: true };
  }

  /** Resolves once nothing is waiting or running. */
  idle(): Promise<void> {
    if (this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves once `asker` could be admitted again with some headroom: its line half empty, a
   * tenth of a second's worth of its rate in hand, and for a big query a big-query token and a
   * free slot. The broker reads nothing more from a refused connection until then (back-pressure:
   * a flooder's bytes wait in its own socket instead of being parsed and refused one by one), so
   * the flooder costs the hall a read per half line or per tenth of a second, not per request.
   */
  async whenRoom(asker: Asker, command: string): Promise<void> {
    if (this.closed) return;
    const limits = this.limits.byRole[asker.role];
    const line = this.lineOf(asker);
    const roomAt = Math.floor(limits.queue / 2);
    if (line.inFlight > roomAt) await new Promise<void>((resolve) => line.roomWaiters.push(resolve));
    const tokensWanted = Math.min(limits.burst, Math.max(1, Math.ceil(limits.perSecond / 10)));
    this.refill(line, limits);
    if (line.tokens < tokensWanted) await this.sleep(((tokensWanted - line.tokens) / limits.perSecond) * 1000);
    if (!BIG_QUERIES.has(command)) return;
    this.refill(line, limits);
    if (line.bigTokens < 1) await this.sleep(((1 - line.bigTokens) / limits.bigQueriesPerSecond) * 1000);
    if (this.bigInFlight >= this.limits.bigQueriesAtOnce) await new Promise<void>((resolve) => this.bigWaiters.push(resolve));
  }

  /** Lets every whenRoom() caller go (the bridge is stopping: nothing holds a connection any more). */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const line of this.lines.values()) for (const resolve of line.roomWaiters.splice(0)) resolve();
    for (const resolve of this.bigWaiters.splice(0)) resolve();
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, Math.ceil(ms));
      timer.unref();
      this.timers.add(timer);
    });
  }

  /** Puts a line with work it may start into the round (once). */
  private enterRound(key: string, line: ClientLine): void {
    if (line.inRound || line.jobs.length === 0 || line.running >= this.limits.byRole[line.role].running) return;
    line.inRound = true;
    this.round.push(key);
  }

  /**
   * Starts requests, one per connection in turn, while fewer than `concurrent` are running:
   * those started in one go reach the hall in the same event-loop turn and share one journal
   * commit (Hall.submit), and a waiting connection never has more than one turn ahead of it.
   */
  private pump(): void {
    while (this.active < this.limits.concurrent && this.roundHead < this.round.length) {
      const key = this.round[this.roundHead++]!;
      const line = this.lines.get(key);
      if (!line) continue;
      line.inRound = false;
      const job = line.jobs.shift();
      if (!job) continue;
      line.running += 1;
      // Back to the end of the round if it has more and may run more: one request per client per turn.
      this.enterRound(key, line);
      this.active += 1;
      let done: Promise<unknown>;
      try {
        done = job.run();
      } catch {
        done = Promise.resolve();
      }
      // run() answers its own failures; nothing may stop the other clients' service.
      done.catch(() => undefined).finally(() => this.finished(key, line, job.big));
    }
    if (this.roundHead === this.round.length) {
      this.round = [];
      this.roundHead = 0;
    } else if (this.roundHead > 1024) {
      this.round = this.round.slice(this.roundHead);
      this.roundHead = 0;
    }
  }

  private finished(key: string, line: ClientLine, big: boolean): void {
    this.active -= 1;
    this.waiting -= 1;
    line.inFlight -= 1;
    line.running -= 1;
    if (this.lines.get(key) === line) this.enterRound(key, line);
    if (line.roomWaiters.length > 0 && line.inFlight <= Math.floor(this.limits.byRole[line.role].queue / 2)) for (const resolve of line.roomWaiters.splice(0)) resolve();
    if (big) {
      this.bigInFlight -= 1;
      for (const resolve of this.bigWaiters.splice(0)) resolve();
    }
    this.pump();
    if (this.waiting === 0) {
      this.forgetQuietLines();
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private lineOf(asker: Asker): ClientLine {
    let line = this.lines.get(asker.key);
    if (!line) {
      const limits = this.limits.byRole[asker.role];
      line = { role: asker.role, jobs: [], inFlight: 0, running: 0, tokens: limits.burst, bigTokens: bigBurst(limits), refilledAt: this.now(), inRound: false, roomWaiters: [] };
      this.lines.set(asker.key, line);
    }
    // A client id taken over by another user's session is judged by the newcomer's role.
    line.role = asker.role;
    return line;
  }

  private refill(line: ClientLine, limits: RequestLimits): void {
    const now = this.now();
    const seconds = (now - line.refilledAt) / 1000;
    if (seconds <= 0) return;
    line.refilledAt = now;
    line.tokens = Math.min(limits.burst, line.tokens + seconds * limits.perSecond);
    line.bigTokens = Math.min(bigBurst(limits), line.bigTokens + seconds * limits.bigQueriesPerSecond);
  }

  /**
   * Lines of connections that have gone quiet hold only their token buckets; dropping them when
   * there are many keeps memory bounded by the clients actually asking.
   */
  private forgetQuietLines(): void {
    if (this.lines.size < 256) return;
    for (const [key, line] of this.lines) if (line.inFlight === 0) this.lines.delete(key);
  }
}
