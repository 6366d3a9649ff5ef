import type { Logger } from '../platform/logger.js';
import { scrubContacts } from '../device-contract/contact.js';
import type { NoticeMessage, NoticeResult } from './gateway-protocol.js';

export interface OutboxOptions {
  /** Gateway ids in order of preference. */
  gateways: readonly string[];
  answerTimeoutMs: number;
  maxAttempts: number;
  maxAgeMs: number;
  /** Publishes the notice on `notify/<gatewayId>`. */
  send(gatewayId: string, message: NoticeMessage): void;
  /** Whether the notice still makes sense now (a "near" for a ticket already called does not). */
  stillWanted(message: NoticeMessage): boolean;
  now(): number;
  log: Logger;
}

/** What happened to notices since start, for `health` (never with a contact). */
export interface OutboxCounters {
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
  /** Sends again after a gateway did not answer in time or went offline. */
  retried: number;
  /** Sent maxAttempts times without an answer. */
  gaveUp: number;
  /** Dropped unsent: too old (no gateway online), or the ticket moved on. */
  expired: number;
  /** Dropped because too many waited (a gateway gone for very long on a busy day). */
  overflow: number;
  /** Answers for notices nobody waits for (a duplicate, or after the day ended). */
  strayAnswers: number;
}

interface Entry {
  message: NoticeMessage;
  queuedAt: number;
  /** The gateway of the last send, avoided for the next one when another is online. */
  lastGateway?: string;
}

interface InFlight extends Entry {
  gateway: string;
  sentAt: number;
  timer: NodeJS.Timeout;
}

const MAX_WAITING = 5000;
const SWEEP_MS = 60_000;

/**
 * The notices on their way to a gateway: sent to the first gateway online (in the configured
 * order), answered delivered or failed, sent again (to another gateway if one is online) when
 * no answer comes within the timeout, given up after maxAttempts. While no gateway is online
 * they wait — for at most maxAge, and only while they still make sense. Kept in memory: a
 * restart drops notices not yet answered (the ticket's next notice is still sent).
 * A `failed` answer is final: the gateway has tried (a number that does not exist, a blocked app
 * account) and a second try would fail the same way.
 */
export class NoticeOutbox {
  readonly counters: OutboxCounters = { queued: 0, sent: 0, delivered: 0, failed: 0, retried: 0, gaveUp: 0, expired: 0, overflow: 0, strayAnswers: 0 };
  private readonly online = new Set<string>();
  private waiting: Entry[] = [];
  private readonly inFlight = new Map<string, InFlight>();
  private readonly sweeper: NodeJS.Timeout;
  private warnedNoGateway = false;

  constructor(private readonly options: OutboxOptions) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  enqueue(message: Omit<NoticeMessage, 'attempt'>): void {
    this.counters.queued += 1;
    if (this.waiting.length >= MAX_WAITING) {
      const dropped = this.waiting.shift()!;
      this.counters.overflow += 1;
      this.options.log.warn({ notice: dropped.message.id, waiting: this.waiting.length }, 'too many notices waiting for a gateway: the oldest dropped');
    }
    this.waiting.push({ message: { ...message, attempt: 0 }, queuedAt: this.options.now() });
    this.pump();
  }

  gatewayState(gateway: string, online: boolean): void {
    if (!this.options.gateways.includes(gateway)) return;
    const was = this.online.has(gateway);
    if (online) this.online.add(gateway);
    else this.online.delete(gateway);
    if (was !== online) this.options.log.info({ gateway, online, waiting: this.waiting.length }, online ? 'notification gateway online' : 'notification gateway offline');
    if (!online) {
      // What it had not answered goes to another gateway (or waits for one) now, not after the timeout.
      for (const [id, flight] of this.inFlight) {
        if (flight.gateway !== gateway) continue;
        clearTimeout(flight.timer);
        this.inFlight.delete(id);
        this.retryOrGiveUp(flight, 'its gateway went offline');
      }
    }
    this.pump();
  }

  answer(gateway: string, result: NoticeResult): void {
    const flight = this.inFlight.get(result.id);
    let entry: Entry | undefined = flight;
    if (flight) {
      clearTimeout(flight.timer);
      this.inFlight.delete(result.id);
    } else {
      // A late answer to a notice already queued again after a timeout: no second send.
      const index = this.waiting.findIndex((waiting) => waiting.message.id === result.id);
      if (index >= 0) entry = this.waiting.splice(index, 1)[0];
    }
    if (!entry) {
      this.counters.strayAnswers += 1;
      this.options.log.debug({ notice: result.id, gateway }, 'answer for a notice nobody waits for');
      return;
    }
    const fields = { notice: entry.message.id, kind: entry.message.kind, ticket: entry.message.ticket, gateway, attempt: entry.message.attempt, ms: flight ? this.options.now() - flight.sentAt : null };
    if (result.status === 'delivered') {
      this.counters.delivered += 1;
      this.options.log.info(fields, 'notice delivered');
    } else {
      this.counters.failed += 1;
      this.options.log.warn({ ...fields, reason: result.reason === undefined ? null : scrubContacts(result.reason) }, 'notice failed at the gateway');
    }
  }

  /** Forgets the notices of a ticket that is over (finished, voided, a no-show). */
  dropTicket(ticket: string): void {
    this.waiting = this.waiting.filter((entry) => entry.message.ticket !== ticket);
    for (const [id, flight] of this.inFlight) {
      if (flight.message.ticket !== ticket) continue;
      clearTimeout(flight.timer);
      this.inFlight.delete(id);
    }
  }

  /** Day end: everything unsent or unanswered is dropped with the contacts. */
  clear(): number {
    const dropped = this.waiting.length + this.inFlight.size;
    for (const flight of this.inFlight.values()) clearTimeout(flight.timer);
    this.inFlight.clear();
    this.waiting = [];
    return dropped;
  }

  pending(): { waiting: number; inFlight: number; gatewaysOnline: string[] } {
    return { waiting: this.waiting.length, inFlight: this.inFlight.size, gatewaysOnline: this.options.gateways.filter((g) => this.online.has(g)) };
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.clear();
  }

  private pump(): void {
    while (this.waiting.length > 0) {
      const entry = this.waiting[0]!;
      if (this.stale(entry)) {
        this.waiting.shift();
        continue;
      }
      const gateway = this.pickGateway(entry.lastGateway);
      if (!gateway) {
        if (!this.warnedNoGateway) {
          this.warnedNoGateway = true;
          this.options.log.warn({ waiting: this.waiting.length, gateways: this.options.gateways }, 'no notification gateway online: notices wait for one');
        }
        return;
      }
      this.warnedNoGateway = false;
      this.waiting.shift();
      this.send(entry, gateway);
    }
  }

  private send(entry: Entry, gateway: string): void {
    const message: NoticeMessage = { ...entry.message, attempt: entry.message.attempt + 1 };
    const timer = setTimeout(() => this.timedOut(message.id), this.options.answerTimeoutMs);
    timer.unref();
    this.inFlight.set(message.id, { ...entry, message, gateway, sentAt: this.options.now(), timer, lastGateway: gateway });
    this.counters.sent += 1;
    this.options.send(gateway, message);
  }

  private timedOut(id: string): void {
    const flight = this.inFlight.get(id);
    if (!flight) return;
    this.inFlight.delete(id);
    this.retryOrGiveUp(flight, `no answer within ${this.options.answerTimeoutMs} ms`);
    this.pump();
  }

  private retryOrGiveUp(flight: InFlight, why: string): void {
    const fields = { notice: flight.message.id, gateway: flight.gateway, attempt: flight.message.attempt, why };
    if (flight.message.attempt >= this.options.maxAttempts) {
      this.counters.gaveUp += 1;
      this.options.log.warn(fields, 'notice given up: no gateway answered');
      return;
    }
    this.counters.retried += 1;
    this.options.log.info(fields, 'notice not answered: sending it again');
    this.waiting.unshift({ message: flight.message, queuedAt: flight.queuedAt, lastGateway: flight.gateway });
  }

  private pickGateway(avoid: string | undefined): string | undefined {
    const online = this.options.gateways.filter((gateway) => this.online.has(gateway));
    return online.find((gateway) => gateway !== avoid) ?? online[0];
  }

  private stale(entry: Entry): boolean {
    const tooOld = this.options.now() - entry.queuedAt > this.options.maxAgeMs;
    if (!tooOld && this.options.stillWanted(entry.message)) return false;
    this.counters.expired += 1;
    this.options.log.info({ notice: entry.message.id, why: tooOld ? 'too old' : 'the ticket moved on' }, 'notice dropped unsent');
    return true;
  }

  private sweep(): void {
    this.waiting = this.waiting.filter((entry) => !this.stale(entry));
  }
}
