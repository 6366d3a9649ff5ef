import type { CommandResult, DeviceContext, DeviceDriver, QueueCommand, SequencedEvent } from '../../src/device-contract/index.js';
import { SerialLink } from '../../src/platform/serial/serial-link.js';
import { Deferred } from '../../src/platform/deferred.js';
import { decodeLine, encodeHostFrame, type RejectionReason } from './codec.js';
import { fitArgText } from './gb2312.js';
import { LineFramer, type RawLine } from './line-framer.js';
import { MAX_TEXT_BYTES, type HostMessage, type PadFrame, type PadKey } from './messages.js';
import type { CounterPadOptions } from './options.js';
import { padScreen, refusalText, type PadScreen } from './screen.js';

/**
 * Host side of one line of counter pads (firmware-protocols/counter-pad.md): key frames become
 * queue commands, answered with an ACK carrying the result; hall events keep each pad's display
 * and LED current; a finished ticket opens the rating prompt.
 */

/** A repeated frame (same address, seq and bytes) within this time is a resend, not a new key. */
const DEDUP_WINDOW_MS = 30_000;

type Ack = { ok: boolean; text?: string };

interface PadCounters {
  keys: number;
  duplicates: number;
  refused: number;
  ratings: number;
  ratingTimeouts: number;
  ratingRefused: number;
  sendFailures: number;
}

interface PadRecord {
  address: number;
  windowId: string;
  online: boolean;
  lastHeardAt: number | undefined;
  firmware: string | undefined;
  /** The last key frame accepted: its bytes and, once decided, its ACK (resent for duplicates). */
  lastFrame: { key: string; at: number; ack: Ack | undefined } | undefined;
  hostSeq: number;
  outstanding: { seq: number; bytes: Buffer; message: HostMessage; resends: number; timer: NodeJS.Timeout } | undefined;
  queue: HostMessage[];
  shown: PadScreen | undefined;
  rating: { number: string; deadline: NodeJS.Timeout } | undefined;
  /** The open rating's RATE-REQ is still to be sent (after the ACK and the display: see onHallEvent). */
  promptDue: boolean;
  /** Key frames accepted whose ACK has not been written yet: the pad's other frames wait for it. */
  acksPending: number;
  counters: PadCounters;
}

export interface CounterPadPadState extends PadCounters {
  address: number;
  window: string;
  online: boolean;
  firmware?: string;
  lastHeardAt?: number;
  ratingOpenFor?: string;
}

export interface CounterPadState {
  linkOpen: boolean;
  pads: CounterPadPadState[];
  rejectedLines: Partial<Record<RejectionReason | 'overflow', number>>;
  unknownAddress: number;
  echoes: number;
  /** Deferred work (ACKs, display refreshes) that threw and was caught (see src/platform/deferred.ts). */
  deferredFailures: number;
}

export class CounterPadDriver implements DeviceDriver {
  readonly kind = 'counter-pad';
  private readonly link: SerialLink<RawLine>;
  private readonly pads = new Map<number, PadRecord>();
  private readonly byWindow = new Map<string, PadRecord>();
  private readonly deferred: Deferred;
  private readonly rejected: Partial<Record<RejectionReason | 'overflow', number>> = {};
  private unknownAddress = 0;
  private echoes = 0;
  private waitingDirty = false;
  private readonly refreshSoon = new Set<PadRecord>();
  private refreshScheduled = false;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private started = false;

  constructor(
    readonly id: string,
    private readonly options: CounterPadOptions,
    private readonly ctx: DeviceContext,
  ) {
    this.deferred = new Deferred(ctx.log);
    this.link = new SerialLink<RawLine>({ path: options.port, baudRate: options.baudRate, log: ctx.log, framer: () => new LineFramer() });
    for (const { address, window } of options.pads) {
      const pad: PadRecord = {
        address,
        windowId: window,
        online: false,
        lastHeardAt: undefined,
        firmware: undefined,
        lastFrame: undefined,
        hostSeq: 0,
        outstanding: undefined,
        queue: [],
        shown: undefined,
        rating: undefined,
        promptDue: false,
        acksPending: 0,
        counters: { keys: 0, duplicates: 0, refused: 0, ratings: 0, ratingTimeouts: 0, ratingRefused: 0, sendFailures: 0 },
      };
      this.pads.set(address, pad);
      this.byWindow.set(window, pad);
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.link.on('open', () => this.onLinkOpen());
    this.link.on('close', (reason) => this.onLinkClose(reason));
    this.link.on('frame', (line) => this.onLine(line));
    this.unsubscribe = this.ctx.bus.on('event', (event) => this.onHallEvent(event));
    const heartbeatMs = this.options.heartbeatSeconds * 1000;
    this.timers.push(setInterval(() => this.checkLiveness(), Math.max(50, heartbeatMs / 2)));
    this.timers.push(setInterval(() => this.refreshWaitingCounts(), this.options.waitingRefreshMs));
    this.ctx.setAvailability(false, 'connecting');
    this.link.start();
    this.publishState();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.unsubscribe?.();
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const pad of this.pads.values()) {
      if (pad.outstanding) clearTimeout(pad.outstanding.timer);
      pad.outstanding = undefined;
      pad.queue = [];
      if (pad.rating) clearTimeout(pad.rating.deadline);
      pad.rating = undefined;
    }
    this.link.removeAllListeners();
    await this.link.close();
    this.ctx.setAvailability(false, 'stopped');
  }

  /** The device state as published on `device/<id>` (also read by tests). */
  state(): CounterPadState {
    return {
      linkOpen: this.link.isOpen,
      pads: [...this.pads.values()].map((pad) => ({
        address: pad.address,
        window: pad.windowId,
        online: pad.online,
        ...(pad.firmware !== undefined ? { firmware: pad.firmware } : {}),
        ...(pad.lastHeardAt !== undefined ? { lastHeardAt: pad.lastHeardAt } : {}),
        ...(pad.rating ? { ratingOpenFor: pad.rating.number } : {}),
        ...pad.counters,
      })),
      rejectedLines: { ...this.rejected },
      unknownAddress: this.unknownAddress,
      echoes: this.echoes,
      deferredFailures: this.deferred.failures,
    };
  }

  // ------------------------------------------------------------ link

  private onLinkOpen(): void {
    this.ctx.setAvailability(true);
    // Whatever the pads showed before is unknown now: resend everything.
    for (const pad of this.pads.values()) this.resync(pad);
    this.publishState();
  }

  private onLinkClose(reason: string): void {
    this.ctx.setAvailability(false, `serial line ${reason}`);
    for (const pad of this.pads.values()) {
      pad.online = false;
      if (pad.outstanding) clearTimeout(pad.outstanding.timer);
      pad.outstanding = undefined;
      pad.queue = [];
    }
    this.publishState();
  }

  private onLine(line: RawLine): void {
    if (line.overflow) return this.countRejected('overflow', `line longer than the protocol allows (starts ${line.bytes.toString('latin1')})`);
    const decoded = decodeLine(line.bytes);
    if (!decoded.ok) return this.countRejected(decoded.reason, decoded.detail, decoded.address);
    const frame = decoded.frame;
    if (frame.direction === 'to-pad') {
      this.echoes += 1; // our own frame echoed by the transceiver, or another host on the line
      return;
    }
    const pad = this.pads.get(frame.address);
    if (!pad) {
      this.unknownAddress += 1;
      this.ctx.log.warn({ address: frame.address, verb: frame.message.verb }, 'frame from a pad address not in the config');
      return;
    }
    this.heard(pad);
    if (frame.message.verb === 'ACK') return this.onPadAck(pad, frame.seq);
    const key = line.bytes.toString('latin1');
    const last = pad.lastFrame;
    if (last && last.key === key && Date.now() - last.at < DEDUP_WINDOW_MS) {
      pad.counters.duplicates += 1;
      this.ctx.log.debug({ window: pad.windowId, address: pad.address, seq: frame.seq }, 'repeated frame: ACK again, not executed');
      if (last.ack) this.sendAck(pad, frame.seq, last.ack);
      return;
    }
    const record = { key, at: Date.now(), ack: undefined as Ack | undefined };
    pad.lastFrame = record;
    pad.acksPending += 1;
    void this.handle(pad, frame)
      .catch((err: unknown) => {
        this.ctx.log.error({ err, window: pad.windowId, address: pad.address }, 'counter-pad frame handling failed');
        return { ok: false, text: '系统错误' } satisfies Ack;
      })
      .then((ack) => {
        record.ack = ack;
        // The window's LED frame and the MQTT event (queued as the command committed) go out
        // first: they face the waiting customers and the hall. The staff member's ACK follows a
        // turn of the event loop later, far less than its own time on the wire. It is the first
        // frame on the pad's line for this key: the display, LED and rating prompt the key caused
        // follow in the next turn, after every ACK written in this one (on a 19200-baud line a
        // prompt is ~14 ms and a display ~20 ms; 16 pads' worth ahead of an ACK held it > 0.5 s).
        this.deferred.immediate('counter-pad ack', () => {
          this.sendAck(pad, frame.seq, ack);
          this.refreshSoonFor(pad);
          this.publishState();
        });
        // Outside the guarded job, right after it: the pad's display and prompt must not wait
        // for an ACK that a throw in that job lost (the pad resends and gets the remembered one).
        setImmediate(() => {
          pad.acksPending -= 1;
          if (this.refreshSoon.has(pad)) this.refreshSoonFor(pad);
        });
      });
  }

  private countRejected(reason: RejectionReason | 'overflow', detail: string, address?: number): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    this.ctx.log.warn({ reason, detail, address }, 'counter-pad line rejected');
    this.publishState();
  }

  private heard(pad: PadRecord): void {
    pad.lastHeardAt = Date.now();
    if (pad.online) return;
    pad.online = true;
    this.ctx.log.info({ window: pad.windowId, address: pad.address }, 'counter pad online');
    this.resync(pad);
    this.publishState();
  }

  private checkLiveness(): void {
    const limit = 3 * this.options.heartbeatSeconds * 1000;
    const now = Date.now();
    for (const pad of this.pads.values()) {
      if (pad.online && (pad.lastHeardAt === undefined || now - pad.lastHeardAt > limit)) {
        pad.online = false;
        this.ctx.log.warn({ window: pad.windowId, address: pad.address }, 'counter pad silent for 3 heartbeats: offline');
        this.publishState();
      }
    }
  }

  // ------------------------------------------------------------ pad → host

  private async handle(pad: PadRecord, frame: PadFrame): Promise<Ack> {
    const message = frame.message;
    switch (message.verb) {
      case 'HEARTBEAT':
        pad.firmware = message.firmware;
        return { ok: true };
      case 'RATING':
      case 'RATE-TIMEOUT':
        return this.onRating(pad, message.ticket, message.verb === 'RATING' ? message.level : undefined);
      case 'ACK':
        return { ok: true };
      default:
        return this.onKey(pad, message);
    }
  }

  private async onKey(pad: PadRecord, key: PadKey): Promise<Ack> {
    pad.counters.keys += 1;
    const command = this.commandFor(pad, key);
    if ('refusal' in command) {
      pad.counters.refused += 1;
      return { ok: false, text: command.refusal };
    }
    const result = await this.ctx.submit(command);
    const log = this.ctx.log.child({ window: pad.windowId, address: pad.address });
    if (!result.ok) {
      pad.counters.refused += 1;
      log.info({ key: key.verb, code: result.code, reason: result.message }, 'pad key refused');
      return { ok: false, text: refusalText(result.code) };
    }
    const ticket = result.ticket?.number ?? this.ticketOf(result);
    // The hall logs the events the key caused (ticket called, finished ...): this line adds only which key.
    log.debug({ key: key.verb, ticket }, 'pad key done');
    return ticket ? { ok: true, text: ticket } : { ok: true };
  }

  private ticketOf(result: CommandResult): string | undefined {
    if (!result.ok) return undefined;
    for (const event of result.events) if ('number' in event && typeof event.number === 'string') return event.number;
    return undefined;
  }

  private commandFor(pad: PadRecord, key: PadKey): QueueCommand | { refusal: string } {
    const windowId = pad.windowId;
    switch (key.verb) {
      case 'LOGIN':
        // The PIN is not checked here: the queue model has no staff directory yet.
        return { type: 'login', windowId, staffId: key.staffId };
      case 'LOGOUT':
        return { type: 'logout', windowId };
      case 'NEXT':
        return { type: 'call-next', windowId };
      case 'RECALL':
        return { type: 'recall', windowId };
      case 'SKIP':
        return { type: 'skip', windowId };
      case 'START':
        return { type: 'start', windowId };
      case 'FINISH':
        return { type: 'finish', windowId };
      case 'PAUSE':
        return key.reason === undefined ? { type: 'pause', windowId } : { type: 'pause', windowId, reason: key.reason };
      case 'RESUME':
        return { type: 'resume', windowId };
      case 'TRANSFER': {
        const number = this.ctx.hall.window(windowId)?.current;
        if (!number) return { refusal: '无当前号码' };
        if ('toServiceId' in key) return { type: 'transfer', number, toServiceId: key.toServiceId };
        const target = this.ctx.hall.model.windows.find((w) => w.number === key.toWindowNumber);
        if (!target) return { refusal: `无${key.toWindowNumber}号窗口` };
        return { type: 'transfer', number, toWindowId: target.id };
      }
    }
  }

  private async onRating(pad: PadRecord, number: string, level: 1 | 2 | 3 | 4 | 5 | undefined): Promise<Ack> {
    if (pad.rating?.number === number) {
      clearTimeout(pad.rating.deadline);
      pad.rating = undefined;
    }
    const command: QueueCommand =
      level === undefined ? { type: 'rate', windowId: pad.windowId, number, timedOut: true } : { type: 'rate', windowId: pad.windowId, number, rating: level };
    return this.submitRating(pad, command);
  }

  private async submitRating(pad: PadRecord, command: Extract<QueueCommand, { type: 'rate' }>): Promise<Ack> {
    const log = this.ctx.log.child({ window: pad.windowId, address: pad.address, ticket: command.number });
    let result: CommandResult;
    try {
      result = await this.ctx.submit(command);
    } catch (err) {
      pad.counters.ratingRefused += 1;
      log.error({ err }, 'rating could not be recorded');
      return { ok: false, text: '系统错误' };
    }
    if (!result.ok) {
      // Twice, late, wrong ticket: the engine is the judge; the pad just learns it was not kept.
      pad.counters.ratingRefused += 1;
      log.warn({ code: result.code, reason: result.message }, 'rating refused by the queue');
      this.publishState();
      return { ok: false, text: refusalText(result.code) };
    }
    if (command.timedOut) pad.counters.ratingTimeouts += 1;
    else pad.counters.ratings += 1;
    log.info({ rating: command.rating, timedOut: command.timedOut === true }, 'rating recorded');
    this.publishState();
    return { ok: true };
  }

  private onPadAck(pad: PadRecord, seq: number): void {
    const outstanding = pad.outstanding;
    if (!outstanding || outstanding.seq !== seq) return;
    clearTimeout(outstanding.timer);
    pad.outstanding = undefined;
    this.pump(pad);
  }

  // ------------------------------------------------------------ host → pad

  private sendAck(pad: PadRecord, seq: number, ack: Ack): void {
    const text = ack.text === undefined ? undefined : fitArgText(ack.text, MAX_TEXT_BYTES).text;
    const message: HostMessage = ack.ok ? (text === undefined ? { verb: 'ACK', ok: true } : { verb: 'ACK', ok: true, text }) : { verb: 'ACK', ok: false, text: text ?? '' };
    // ACKs are never acknowledged, so they skip the per-pad queue.
    this.write(encodeHostFrame(pad.address, seq, message));
  }

  /** Queues a frame that the pad must ACK. A newer DISP, LED or RATE-REQ replaces a queued one (each replaces the last on the pad too). */
  private sendToPad(pad: PadRecord, message: HostMessage): void {
    if (!this.link.isOpen) return;
    if (message.verb === 'DISP' || message.verb === 'LED' || message.verb === 'RATE-REQ') pad.queue = pad.queue.filter((queued) => queued.verb !== message.verb);
    pad.queue.push(message);
    this.pump(pad);
  }

  private pump(pad: PadRecord): void {
    if (pad.outstanding || !this.link.isOpen) return;
    const message = pad.queue.shift();
    if (!message) return;
    const seq = pad.hostSeq;
    pad.hostSeq = (pad.hostSeq + 1) % 16;
    const bytes = encodeHostFrame(pad.address, seq, message);
    pad.outstanding = { seq, bytes, message, resends: 0, timer: this.ackTimer(pad) };
    this.write(bytes);
  }

  private ackTimer(pad: PadRecord): NodeJS.Timeout {
    return setTimeout(() => this.onAckTimeout(pad), this.options.ackTimeoutMs + Math.random() * 50);
  }

  private onAckTimeout(pad: PadRecord): void {
    const outstanding = pad.outstanding;
    if (!outstanding) return;
    // A pad known to be offline gets one try: retrying into silence only delays the others.
    if (outstanding.resends < this.options.hostResends && pad.online) {
      outstanding.resends += 1;
      outstanding.timer = this.ackTimer(pad);
      this.write(outstanding.bytes);
      return;
    }
    pad.counters.sendFailures += 1;
    this.ctx.log.debug({ window: pad.windowId, address: pad.address, verb: outstanding.message.verb }, 'pad did not acknowledge');
    pad.outstanding = undefined;
    this.pump(pad);
  }

  /** The port's stream keeps writes in order; frames written in one turn leave in one go. */
  private write(bytes: Buffer): void {
    this.link.write(bytes).catch((err: unknown) => this.ctx.log.debug({ err }, 'counter-pad write failed (line down?)'));
  }

  // ------------------------------------------------------------ hall → pad

  private onHallEvent(event: SequencedEvent): void {
    const touched = new Set<PadRecord>();
    for (const field of ['windowId', 'fromWindowId', 'toWindowId'] as const) {
      const windowId = (event as Partial<Record<typeof field, string>>)[field];
      const pad = windowId ? this.byWindow.get(windowId) : undefined;
      if (pad) touched.add(pad);
    }
    if (event.type === 'ticket.finished') {
      const pad = this.byWindow.get(event.windowId);
      if (pad) this.openRating(pad, event.number);
    }
    if (event.type === 'ticket.transferred' && event.toWindowId) {
      const pad = this.byWindow.get(event.toWindowId);
      if (pad) this.sendToPad(pad, { verb: 'BEEP', count: 2 });
    }
    // Display updates wait until the event's other listeners (the LED frame of the called
    // window above all) have run, and several events of one command (finished + called) give
    // one update: the ACK already told the staff member the result.
    for (const pad of touched) this.refreshSoonFor(pad);
    // Anything else may change waiting counts: coalesced (see refreshWaitingCounts).
    this.waitingDirty = true;
  }

  /**
   * The pad's display, LED and a due rating prompt, after the current turn. A pad whose key
   * still waits for its ACK is left out: the ACK goes first and brings the pad back here.
   */
  private refreshSoonFor(pad: PadRecord): void {
    this.refreshSoon.add(pad);
    if (this.refreshScheduled) return;
    this.refreshScheduled = true;
    this.deferred.immediate('counter-pad display refresh', () => {
      const pads = [...this.refreshSoon].filter((p) => p.acksPending === 0);
      for (const p of pads) this.refreshSoon.delete(p);
      if (!this.started) return;
      for (const p of pads) {
        this.refreshPad(p);
        this.sendPromptIfDue(p);
      }
    });
    // Reset outside the guarded job, right after it: a throw there must not stop every later refresh.
    setImmediate(() => (this.refreshScheduled = false));
  }

  private openRating(pad: PadRecord, number: string): void {
    if (pad.rating) clearTimeout(pad.rating.deadline);
    const deadlineMs = (this.options.rateTimeoutSeconds + this.options.rateMarginSeconds) * 1000;
    const deadline = setTimeout(() => {
      if (pad.rating?.number !== number) return;
      pad.rating = undefined;
      this.ctx.log.info({ window: pad.windowId, address: pad.address, ticket: number }, 'pad did not answer the rating prompt: recorded as timed out');
      void this.submitRating(pad, { type: 'rate', windowId: pad.windowId, number, timedOut: true });
    }, deadlineMs);
    pad.rating = { number, deadline };
    // Sent with the pad's display update, after the ACK of the key that finished the ticket.
    pad.promptDue = true;
    this.refreshSoonFor(pad);
    this.publishState();
  }

  private sendPromptIfDue(pad: PadRecord): void {
    if (!pad.promptDue) return;
    pad.promptDue = false;
    if (pad.rating) this.sendToPad(pad, { verb: 'RATE-REQ', ticket: pad.rating.number, timeoutSeconds: this.options.rateTimeoutSeconds });
  }

  private refreshPad(pad: PadRecord): void {
    let screen: PadScreen;
    try {
      screen = padScreen(this.ctx.hall, pad.windowId);
    } catch (err) {
      this.ctx.log.error({ err, window: pad.windowId }, 'could not compute the pad display');
      return;
    }
    const shown = pad.shown;
    if (!this.link.isOpen) return;
    if (!shown || shown.line1 !== screen.line1 || shown.line2 !== screen.line2) {
      this.sendToPad(pad, { verb: 'DISP', line1: fitArgText(screen.line1, MAX_TEXT_BYTES).text, line2: fitArgText(screen.line2, MAX_TEXT_BYTES).text });
    }
    if (!shown || shown.led.colour !== screen.led.colour || shown.led.pattern !== screen.led.pattern) {
      this.sendToPad(pad, { verb: 'LED', ...screen.led });
    }
    pad.shown = screen;
  }

  private refreshWaitingCounts(): void {
    if (!this.waitingDirty) return;
    this.waitingDirty = false;
    for (const pad of this.pads.values()) this.refreshPad(pad);
  }

  private resync(pad: PadRecord): void {
    pad.shown = undefined;
    this.refreshPad(pad);
    pad.promptDue = pad.rating !== undefined;
    this.sendPromptIfDue(pad);
  }

  private publishState(): void {
    this.ctx.publishState(() => this.state() as unknown as Record<string, unknown>);
  }
}
