import type { SequencedEvent } from '../queue/events.js';
import type { Logger } from '../platform/logger.js';
import { REFUSED_REQUEST_PREFIX, type InProcessMessage, type RunningBroker } from './broker.js';
import { errorResponse, okResponse, parseRequest, RequestError, type ResponseEnvelope, type Transaction } from './request-envelope.js';
import { isTopicLevel, type Principal, type Role } from './users.js';
import type { Recipient } from './private-delivery.js';
import { BIG_QUERIES, DEFAULT_LIMITS, FairRequestScheduler, type Admission, type Asker, type SchedulerLimits } from './request-scheduler.js';

export { RequestError } from './request-envelope.js';

export interface Caller {
  username: string;
  role: Role;
  /** Device requests only: the request's `transaction`, if it had one (what makes a resend a resend). */
  transaction?: Transaction;
}

export interface BridgeHandlers {
  /**
   * Called as each request is started by the fair scheduler (request-scheduler.ts: one per
   * connection in turn), without waiting for the one before; the answers are published in that
   * order. Throw RequestError(code, message) to refuse;
   * anything else thrown becomes `internal-error`.
   */
  request(command: string, payload: Record<string, unknown>, caller: Caller, transaction?: Transaction): Promise<unknown>;
}

export interface BridgeCounters {
  requestsHandled: number;
  /** Requests answered with status "error" (malformed, refused by the handler, handler crashed, busy). */
  requestsFailed: number;
  /** Device messages dropped because they were not JSON. */
  devicePayloadsRejected: number;
  /** In-process publishes the broker could not take. */
  publishFailures: number;
  /** Requests answered `busy` at arrival (a connection over its queue, rate or big-query bound). */
  requestsBusy: number;
}

export interface BridgePublishOptions {
  retain?: boolean;
  qos?: 0 | 1;
  /** An answer: only this client receives it (see private-delivery.ts). */
  to?: Recipient;
}

export type DeviceMessageHandler = (payload: unknown, topic: string) => void | Promise<void>;

/** Handles one device-topic request (fields without `transaction`); same contract as BridgeHandlers.request. */
export type DeviceRequestHandler = (fields: Record<string, unknown>, caller: Caller) => Promise<unknown>;

/** Call to unsubscribe; `ready` resolves once the subscription is active in the broker. */
export type DeviceSubscription = (() => void) & { ready: Promise<void> };

/** `busy` answers sent per connection and second; further refusals in that second are silent. */
const BUSY_ANSWERS_PER_SECOND = 50;
/**
 * A big query (a ticket page is ~330 KB) is refused `busy` while the asker still has this much
 * of earlier answers unread: a client that does not read its answers is not given more to hold
 * (the broker would cut it at mqtt.limits.maxOutgoingBacklogBytes anyway).
 */
export const BIG_ANSWER_BACKLOG_BYTES = 512 * 1024;
/** The longest a refused connection's reading is held, whatever it waits for (a safety net, not a rule). */
const MAX_READ_HOLD_MS = 10_000;
/** The scheduler's name for answering a request refused at arrival (not a big query). */
const REFUSAL = '(refusal)';
/** How long stop() waits for the request in progress before publishing `offline` anyway. */
const STOP_DRAIN_MS = 5000;

/**
 * The hall's MQTT face on the broker: retained bridge state, the event stream, retained state
 * documents, device topics, and the request/response channel. All publishes go through one
 * FIFO chain so subscribers see them in the order the hall produced them (events by seq, a
 * window's state after the event that changed it); requests are handled one at a time in
 * arrival order because the queue engine's outcome depends on that order.
 */
export class MqttBridge {
  private readonly base: string;
  private readonly requestPrefix: string;
  private readonly stats: BridgeCounters = { requestsHandled: 0, requestsFailed: 0, devicePayloadsRejected: 0, publishFailures: 0, requestsBusy: 0 };
  private readonly scheduler: FairRequestScheduler;
  private readonly busyAnswers = new Map<string, { second: number; count: number }>();
  private publishChain: Promise<void> = Promise.resolve();
  private openBatch: PublishBatch | undefined;
  private batchesInFlight = 0;
  private requestChain: Promise<void> = Promise.resolve();
  private handlers: BridgeHandlers | undefined;
  private unsubscribeRequests: (() => Promise<void>) | undefined;
  private readonly deviceSubscriptions = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly broker: RunningBroker,
    hallId: string,
    private readonly log: Logger,
    limits: SchedulerLimits = DEFAULT_LIMITS,
  ) {
    this.scheduler = new FairRequestScheduler(limits);
    if (!isTopicLevel(hallId)) throw new Error(`hallId "${hallId}" must be one MQTT topic level (no '/', '+', '#')`);
    this.base = `hall/${hallId}`;
    this.requestPrefix = `${this.base}/bridge/request/`;
  }

  get baseTopic(): string {
    return this.base;
  }

  counters(): Readonly<BridgeCounters & { requestsWaiting: number }> {
    return { ...this.stats, requestsWaiting: this.scheduler.pending() };
  }

  /** Listens for requests, then announces retained `bridge/state` online (overwriting a stale offline). */
  async start(handlers: BridgeHandlers): Promise<void> {
    if (this.handlers) throw new Error('MqttBridge.start() called twice');
    this.handlers = handlers;
    const unsubscribeRequests = await this.broker.subscribe(`${this.requestPrefix}+`, (message) => this.onRequest(message));
    const unsubscribeRefused = await this.broker.subscribe(`${REFUSED_REQUEST_PREFIX}${this.requestPrefix}+`, (message) => this.onRefusedRequest(message));
    this.unsubscribeRequests = async () => {
      await unsubscribeRequests();
      await unsubscribeRefused();
    };
    await this.enqueue('bridge/state', JSON.stringify({ state: 'online' }), { retain: true, qos: 1 });
    this.log.info({ base: this.base }, 'mqtt bridge online');
  }

  /**
   * undefined when every publish handed over so far has gone to the broker; otherwise a promise
   * that resolves when they have (the hall waits for it before its next group of commands, so a
   * group's answers and events leave before the next group is executed).
   */
  outputsPending(): Promise<void> | undefined {
    return this.batchesInFlight > 0 ? this.publishChain : undefined;
  }

  publishInfo(info: object): void {
    this.publishRetained('bridge/info', info);
  }

  /**
   * The events of one command, in seq order. They are handed to the broker together rather
   * than each waiting for the one before (a call-next at a busy window publishes finished, then
   * called): the broker keeps the order of publishes it is given in one go, and the call reaches
   * subscribers one broker round sooner.
   */
  publishEvents(events: readonly SequencedEvent[]): void {
    if (events.length === 0) return;
    const payloads = events.map((event) => serialize(event, 'event'));
    void this.enqueueAll('event', payloads, { qos: 1, retain: false });
  }

  /** e.g. `window/<id>`, `queue/<serviceId>`, `stats/today`, `device/<id>`, `device/<id>/availability`. */
  publishRetained(subtopic: string, payload: unknown): void {
    this.publish(subtopic, payload, { retain: true, qos: 1 });
  }

  /** Removes a retained document (an empty retained message), e.g. for a device removed from the config. */
  clearRetained(subtopic: string): void {
    assertSubtopic(subtopic);
    void this.enqueue(subtopic, Buffer.alloc(0), { retain: true, qos: 1 });
  }

  /** Any topic under the base; the payload is sent as JSON (a Buffer is sent as is). */
  publish(subtopic: string, payload: unknown, options: BridgePublishOptions = {}): void {
    assertSubtopic(subtopic);
    const body = Buffer.isBuffer(payload) ? payload : serialize(payload, subtopic);
    void this.enqueue(subtopic, body, { retain: options.retain ?? false, qos: options.qos ?? 1, ...(options.to ? { to: options.to } : {}) });
  }

  /**
   * Messages a networked device publishes on `device/<deviceId>/<subtopic>` (subtopic may use
   * `+`/`#`). Only JSON payloads from network clients reach the handler: the hall's own
   * publishes there (commands to the device) and empty retained-clears are skipped.
   */
  subscribeDevice(deviceId: string, subtopic: string, handler: DeviceMessageHandler): DeviceSubscription {
    if (!isTopicLevel(deviceId)) throw new Error(`deviceId "${deviceId}" must be one MQTT topic level`);
    if (!subtopic || subtopic.startsWith('/') || subtopic.endsWith('/')) throw new Error(`device subtopic "${subtopic}" is not a topic`);
    return this.subscribeRaw(`${this.base}/device/${deviceId}/${subtopic}`, async (message) => {
      if (!message.publisher || message.payload.length === 0) return;
      let payload: unknown;
      try {
        payload = JSON.parse(message.payload.toString('utf8'));
      } catch {
        this.stats.devicePayloadsRejected++;
        this.log.warn({ device: deviceId, topic: message.topic, user: message.publisher.username, bytes: message.payload.length }, 'device message is not JSON; dropped');
        return;
      }
      try {
        await handler(payload, message.topic);
      } catch (err) {
        this.log.error({ err, device: deviceId, topic: message.topic }, 'device message handler failed');
      }
    });
  }

  /** A broker subscription that stop() cancels; `ready` resolves once it is active. */
  private subscribeRaw(filter: string, onMessage: (message: InProcessMessage) => Promise<void>): DeviceSubscription {
    let cancelled = false;
    let unsubscribe: (() => Promise<void>) | undefined;
    const release = (undo: () => Promise<void>): void => {
      undo().catch((err: unknown) => this.log.warn({ err, topic: filter }, 'unsubscribe failed'));
    };
    const cancel = (): void => {
      if (cancelled) return;
      cancelled = true;
      this.deviceSubscriptions.delete(cancel);
      if (unsubscribe) release(unsubscribe);
    };
    this.deviceSubscriptions.add(cancel);
    const guarded = async (message: InProcessMessage): Promise<void> => {
      if (!cancelled) await onMessage(message);
    };
    const ready = this.broker.subscribe(filter, guarded).then(
      (undo) => {
        unsubscribe = undo;
        if (cancelled) release(undo);
      },
      (err: unknown) => this.log.error({ err, topic: filter }, 'could not subscribe to device topic'),
    );
    return Object.assign(cancel, { ready });
  }

  /**
   * Requests on a device topic: `device/<deviceId>/<subtopic>` → `device/<deviceId>/<subtopic>/response`,
   * in exactly the envelope of `bridge/request` (request-envelope.ts: the caller's `transaction`
   * echoed, `status`, `data` or `code` + `error`) and counted with the bridge's requests. Every
   * device kind that takes requests comes through here (DeviceContext.handleRequest), so the
   * shape is written once. They take their turn in the same fair scheduler as `bridge/request`
   * (one line per connection, whichever topic it asks on: a flooding kiosk is told `busy` and
   * read no further, like a flooding dashboard), but do not wait behind the bridge's request
   * chain for their answer: a ticket print takes seconds and must not hold up a call-next.
   */
  serveDeviceRequests(deviceId: string, subtopic: string, handler: DeviceRequestHandler): DeviceSubscription {
    if (!isTopicLevel(deviceId)) throw new Error(`deviceId "${deviceId}" must be one MQTT topic level`);
    assertSubtopic(subtopic);
    const command = `device/${deviceId}/${subtopic}`;
    const responseTopic = `${command}/response`;
    return this.subscribeRaw(`${this.base}/${command}`, async (message) => {
      if (!message.publisher || message.payload.length === 0) return; // the hall's own publishes, retained clears
      this.onDeviceRequest(message, command, responseTopic, handler);
    });
  }

  private onDeviceRequest(message: InProcessMessage, command: string, responseTopic: string, handler: DeviceRequestHandler): void {
    if (this.stopped) return;
    const parsed = parseRequest(message.payload);
    if (!parsed.ok) {
      this.answerInTurn(message, command, parsed.transaction, errorResponse(parsed.transaction, parsed.error), responseTopic);
      return;
    }
    const publisher = message.publisher!;
    const who: Caller = { username: publisher.username, role: publisher.role, ...(parsed.transaction !== undefined ? { transaction: parsed.transaction } : {}) };
    const asker = recipientOf(message);
    const line = lineOf(message, publisher);
    const admitted = this.scheduler.offer(line, command, async () => {
      let response: ResponseEnvelope;
      try {
        response = okResponse(parsed.transaction, await handler(parsed.fields, who));
      } catch (err) {
        response = errorResponse(parsed.transaction, err);
        if (!(err instanceof RequestError)) this.log.error({ err, request: command, user: who.username }, 'device request handler threw');
      }
      this.respondOn(responseTopic, command, parsed.transaction, response, asker);
    });
    if (admitted.ok) return;
    this.answerBusy(responseTopic, command, parsed.transaction, admitted.reason, asker);
    if (message.clientId !== undefined) this.holdReading(message.clientId, () => this.scheduler.whenRoom(line, command));
  }

  /** Stops taking requests, lets the one in progress answer, then publishes retained offline. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const unsubscribe = this.unsubscribeRequests;
    this.unsubscribeRequests = undefined;
    await unsubscribe?.();
    this.scheduler.close();
    await this.drainRequests();
    for (const cancel of [...this.deviceSubscriptions]) cancel();
    const offline = this.enqueue('bridge/state', JSON.stringify({ state: 'offline' }), { retain: true, qos: 1 });
    this.stopped = true;
    await offline;
    this.log.info({ base: this.base }, 'mqtt bridge offline');
  }

  private async drainRequests(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_DRAIN_MS);
    });
    const outcome = await Promise.race([this.scheduler.idle().then(() => this.requestChain).then(() => 'drained' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.log.warn({ pending: this.scheduler.pending() }, 'requests still running at stop; going offline anyway');
  }

  private onRequest(message: InProcessMessage): void {
    if (this.stopped || !this.handlers) return;
    const handlers = this.handlers;
    const command = message.topic.slice(this.requestPrefix.length);
    const parsed = parseRequest(message.payload);
    const caller = message.publisher;
    const asker = recipientOf(message);

    if (!parsed.ok) {
      this.answerInTurn(message, command, parsed.transaction, errorResponse(parsed.transaction, parsed.error));
      return;
    }
    if (!caller) {
      // Only authenticated network clients have a principal; the ACL admits nobody else here.
      this.respond(command, parsed.transaction, errorResponse(parsed.transaction, new RequestError('unknown-caller', 'the request has no authenticated sender')), undefined);
      return;
    }
    const who: Caller = { username: caller.username, role: caller.role };
    const clientId = message.clientId;
    if (clientId !== undefined && BIG_QUERIES.has(command)) {
      const backlog = this.broker.outgoingBacklog(clientId);
      if (backlog > BIG_ANSWER_BACKLOG_BYTES) {
        this.answerBusy(`bridge/response/${command}`, command, parsed.transaction, `${Math.round(backlog / 1024)} KB of earlier answers to this connection are not read yet; read them before asking for "${command}"`, asker);
        this.holdReading(clientId, () => this.broker.drained(clientId));
        return;
      }
    }
    // Started by the fair scheduler, one connection at a time in turn; the requests it starts in
    // one go reach the hall in the same turn and share a commit. Answers go out in start order.
    const line = lineOf(message, caller);
    const admitted: Admission = this.scheduler.offer(line, command, () => {
      const outcome = settle(() => handlers.request(command, parsed.fields, who, parsed.transaction));
      this.requestChain = this.requestChain.then(async () => {
        let response: ResponseEnvelope;
        const result = await outcome;
        if (result.ok) response = okResponse(parsed.transaction, result.value);
        else {
          response = errorResponse(parsed.transaction, result.err);
          if (!(result.err instanceof RequestError)) this.log.error({ err: result.err, request: command, user: who.username }, 'request handler threw');
        }
        this.respond(command, parsed.transaction, response, asker);
      });
      return outcome;
    });
    if (admitted.ok) return;
    this.answerBusy(`bridge/response/${command}`, command, parsed.transaction, admitted.reason, asker);
    if (clientId !== undefined) this.holdReading(clientId, () => this.scheduler.whenRoom(line, command));
  }

  /**
   * Back-pressure on a connection over its bounds: the broker reads no more of it until `until`
   * (its line has room again, its answers drained), so what it sends meanwhile waits in its own
   * socket and TCP slows it down. Without this the broker parsed and refused every packet of a
   * flood, and the other clients' requests waited behind that work (seconds, not milliseconds).
   */
  private holdReading(clientId: string, until: () => Promise<void>): void {
    this.broker.holdReading(clientId, () => {
      let timer: NodeJS.Timeout | undefined;
      const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, MAX_READ_HOLD_MS)));
      return Promise.race([until(), cap]).finally(() => clearTimeout(timer));
    });
  }

  /**
   * `busy`, at once and cheaply: counted, not logged one by one (a flood would flood the log),
   * and published straight to the broker (QoS 0) rather than behind the answers and events in
   * the publish chain, so a flooder's refusals never delay anybody else's answer.
   */
  private answerBusy(responseTopic: string, command: string, transaction: Transaction | undefined, reason: string, asker: Recipient | undefined): void {
    this.stats.requestsBusy++;
    this.stats.requestsFailed++;
    if ((this.stats.requestsBusy & (this.stats.requestsBusy - 1)) === 0) {
      this.log.warn({ request: command, user: asker?.username ?? null, clientId: asker?.clientId ?? null, busy: this.stats.requestsBusy, reason }, 'request refused: busy (logged at 1, 2, 4, 8 ... refusals)');
    }
    if (!asker || this.stopped || !this.mayAnswerBusy(asker)) return;
    const body = JSON.stringify(errorResponse(transaction, new RequestError('busy', reason)));
    this.broker.publish(`${this.base}/${responseTopic}`, body, { qos: 0, retain: false, to: asker }).catch((err: unknown) => {
      this.stats.publishFailures++;
      this.log.error({ err, request: command }, 'could not publish a busy answer');
    });
  }

  /**
   * At most BUSY_ANSWERS_PER_SECOND `busy` answers a second per connection: a flooder learns it
   * is refused, but the broker does not spend as much on answering its flood as on reading it.
   * The rest are counted (requestsBusy) and dropped; such a client times out and resends.
   */
  private mayAnswerBusy(asker: Recipient): boolean {
    const key = asker.clientId ?? `user:${asker.username}`;
    const second = Math.floor(performance.now() / 1000);
    let window = this.busyAnswers.get(key);
    if (!window || window.second !== second) {
      if (this.busyAnswers.size > 1024) this.busyAnswers.clear();
      window = { second, count: 0 };
      this.busyAnswers.set(key, window);
    }
    window.count += 1;
    return window.count <= BUSY_ANSWERS_PER_SECOND;
  }

  /** A request the ACL refused (the sender's role may not make requests): answered, not executed. */
  private onRefusedRequest(message: InProcessMessage): void {
    if (this.stopped) return;
    const command = message.topic.slice(REFUSED_REQUEST_PREFIX.length + this.requestPrefix.length);
    const parsed = parseRequest(message.payload);
    const who = message.publisher;
    const forbidden = new RequestError(
      'forbidden',
      `${who ? `user "${who.username}" (role ${who.role})` : 'this user'} may not send requests: they need the operator or admin role`,
    );
    this.answerInTurn(message, command, parsed.transaction, errorResponse(parsed.transaction, forbidden));
  }

  /**
   * A refusal decided at arrival (`forbidden`, `bad-request`) still takes a turn and a token of
   * its connection's line: an observer flooding requests it may not make is held and told `busy`
   * like any other flooder, instead of being answered (and logged) once per request.
   */
  private answerInTurn(message: InProcessMessage, command: string, transaction: Transaction | undefined, response: ResponseEnvelope, responseTopic = `bridge/response/${command}`): void {
    const asker = recipientOf(message);
    const caller = message.publisher;
    if (!caller || !asker) {
      this.respondOn(responseTopic, command, transaction, response, asker);
      return;
    }
    const line = lineOf(message, caller);
    const admitted = this.scheduler.offer(line, REFUSAL, () => {
      this.respondOn(responseTopic, command, transaction, response, asker);
      return Promise.resolve();
    });
    if (admitted.ok) return;
    this.answerBusy(responseTopic, command, transaction, admitted.reason, asker);
    if (message.clientId !== undefined) this.holdReading(message.clientId, () => this.scheduler.whenRoom(line, REFUSAL));
  }

  /** Answers on `bridge/response/<command>`, delivered only to the client that asked. */
  private respond(command: string, transaction: Transaction | undefined, response: ResponseEnvelope, asker: Recipient | undefined): void {
    this.respondOn(`bridge/response/${command}`, command, transaction, response, asker);
  }

  private respondOn(topic: string, command: string, transaction: Transaction | undefined, response: ResponseEnvelope, asker: Recipient | undefined): void {
    let body: string;
    try {
      body = JSON.stringify(response);
    } catch (err) {
      response = errorResponse(transaction, new RequestError('internal-error', `the result could not be encoded as JSON: ${(err as Error).message}`));
      body = JSON.stringify(response);
    }
    if (response.status === 'ok') this.stats.requestsHandled++;
    else {
      this.stats.requestsFailed++;
      this.log.warn({ request: command, user: asker?.username ?? null, transaction: transaction ?? null, code: response.code, error: response.error }, 'request refused');
    }
    // Without an authenticated asker (a malformed will, say) there is nobody to answer privately.
    if (!asker) return;
    void this.enqueue(topic, body, { qos: 1, retain: false, to: asker });
  }

  /** Never rejects: failures are logged and counted, and the chain carries on. */
  private enqueue(subtopic: string, payload: string | Buffer, options: { retain: boolean; qos: 0 | 1; to?: Recipient }): Promise<void> {
    return this.enqueueAll(subtopic, [payload], options);
  }

  /**
   * Publishes after everything enqueued before. What is enqueued while the broker is still busy
   * with earlier publishes waits in one open batch, and the whole batch goes to the broker in
   * one go when its turn comes (the broker keeps the order of publishes handed over together
   * when they take the same path through it: same QoS and retain flag). Otherwise every publish
   * would wait a whole event-loop turn (aedes completes a write on setImmediate) for the one
   * before, and a burst's answers would trail far behind its commits.
   */
  private enqueueAll(subtopic: string, payloads: ReadonlyArray<string | Buffer>, options: { retain: boolean; qos: 0 | 1; to?: Recipient }): Promise<void> {
    if (this.stopped) {
      this.log.debug({ topic: subtopic }, 'publish after bridge stop dropped');
      return Promise.resolve();
    }
    const topic = `${this.base}/${subtopic}`;
    const open = this.openBatch;
    if (open && open.retain === options.retain && open.qos === options.qos) {
      for (const payload of payloads) open.messages.push({ topic, payload, ...(options.to ? { to: options.to } : {}) });
      return open.done;
    }
    const batch: PublishBatch = { retain: options.retain, qos: options.qos, messages: payloads.map((payload) => ({ topic, payload, ...(options.to ? { to: options.to } : {}) })), done: Promise.resolve() };
    this.openBatch = batch;
    this.batchesInFlight++;
    batch.done = this.publishChain.then(() => {
      if (this.openBatch === batch) this.openBatch = undefined;
      const { retain, qos, messages } = batch;
      const publishing = messages.map(({ topic, payload, to }) =>
        this.broker.publish(topic, payload, { retain, qos, ...(to ? { to } : {}) }).catch((err: unknown) => {
          this.stats.publishFailures++;
          this.log.error({ err, topic }, 'mqtt publish failed');
        }),
      );
      return Promise.all(publishing).then(() => {
        this.batchesInFlight--;
      });
    });
    this.publishChain = batch.done;
    return batch.done;
  }
}

/** Publishes waiting for their turn, to go to the broker together. */
interface PublishBatch {
  retain: boolean;
  qos: 0 | 1;
  /** `to`: an answer, delivered only to its asker (private-delivery.ts). */
  messages: Array<{ topic: string; payload: string | Buffer; to?: Recipient }>;
  done: Promise<void>;
}

/** The scheduler line of the connection that sent `message`: one per connection, whatever topic it asks on. */
function lineOf(message: InProcessMessage, publisher: Principal): Asker {
  return { key: message.clientId ?? `user:${publisher.username}`, role: publisher.role };
}

function recipientOf(message: InProcessMessage): Recipient | undefined {
  if (!message.publisher) return undefined;
  return { username: message.publisher.username, ...(message.clientId !== undefined ? { clientId: message.clientId } : {}) };
}

/** A handler's outcome as a value: a throw (sync or async) never escapes as a rejection. */
async function settle(run: () => Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; err: unknown }> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    return { ok: false, err };
  }
}

function assertSubtopic(subtopic: string): void {
  if (!subtopic || subtopic.startsWith('/') || subtopic.endsWith('/') || /[+#\u0000]/.test(subtopic)) {
    throw new Error(`"${subtopic}" is not a publishable subtopic under the hall base`);
  }
}

function serialize(payload: unknown, what: string): string {
  try {
    const text = JSON.stringify(payload);
    if (text === undefined) throw new Error('nothing to encode');
    return text;
  } catch (err) {
    throw new Error(`payload for ${what} cannot be encoded as JSON: ${(err as Error).message}`, { cause: err });
  }
}
