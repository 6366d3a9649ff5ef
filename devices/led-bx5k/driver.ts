import type { DeviceContext, DeviceDriver, SequencedEvent } from '../../src/device-contract/index.js';
import { SerialLink } from '../../src/platform/serial/serial-link.js';
import { Deferred } from '../../src/platform/deferred.js';
import { Rs485Bus, BusPriority } from '../../src/platform/serial/rs485-bus.js';
import { BusClosedError, BusLinkDownError, BusSupersededError, BusTimeoutError } from '../../src/platform/serial/bus-errors.js';
import {
  asReply,
  Bx5kCorruptReplyError,
  Bx5kFramer,
  Bx5kReplyError,
  Command,
  dynamicAreaFrame,
  pingFrame,
  ReplyCode,
  ResponseFlag,
  stripDisplayCodes,
  unshowableChars,
  type DecodedFrame,
  type DynamicArea,
  type RejectionReason,
} from './codec.js';
import { hallRows, windowNumberOf, windowsNamedBy, windowTextAfter, windowTextFromState } from './display-texts.js';
import type { LedBx5kDisplayOptions, LedBx5kOptions } from './options.js';
import { displayOfflineCode } from './alarms.js';

/**
 * Drives one RS-485 line of BX-5K LED controllers. Window displays follow the call-next loop with
 * no debounce, at urgent bus priority (the called window's frame is the next one on the wire);
 * the hall display is coalesced and sent at background priority, after the calls. Each display
 * converges on the latest wanted text: while a send is on the bus, newer texts replace older ones
 * instead of queueing.
 *
 * In a burst (many windows calling at once) a window frame that has other calls queued behind it
 * goes out asking for no answer, so the calls follow each other on the wire without a reply and
 * a turnaround between every two; each such display is then confirmed — the same text again,
 * answer wanted — at the lowest priority, once the calls and the hall display are out. A
 * confirmation whose text was replaced meanwhile is dropped before it reaches the wire, so an
 * older text can never overwrite a newer call.
 */

interface Display {
  config: LedBx5kDisplayOptions;
  key: string;
  /** Text wanted on the screen: one entry per area (window: one; hall: three rows). */
  wanted: string[];
  /** Text the controller confirmed, or undefined when unknown (start, reconnect, failure). */
  shown: string[] | undefined;
  sending: boolean;
  /** Confirmations queued for texts sent without an answer (see the class comment); only the latest text's can go out. */
  confirming: number;
  errors: number;
  lastError?: string;
  offline: boolean;
}

const sameTexts = (a: string[] | undefined, b: string[]): boolean => a !== undefined && a.length === b.length && a.every((t, i) => t === b[i]);

export class LedBx5kDriver implements DeviceDriver {
  readonly kind = 'led-bx5k';
  private readonly link: SerialLink<DecodedFrame>;
  private readonly bus: Rs485Bus<DecodedFrame>;
  private readonly displays = new Map<number, Display>();
  private readonly unsubscribe: Array<() => void> = [];
  /** The window displays of each window (a window may have more than one). */
  private readonly windowDisplays = new Map<string, Display[]>();
  /** Window displays whose text changed during the command being published (see onHallEvent). */
  private readonly changedWindows = new Set<Display>();
  private pushQueued = false;
  /** Texts sent with characters the displays cannot show (see noteUnshowable). */
  private readonly unshowable: { count: number; last?: { display: number; chars: string; text: string } } = { count: 0 };
  private readonly deferred: Deferred;
  private hallTimer: NodeJS.Timeout | undefined;
  private notice: { text: string; timer: NodeJS.Timeout } | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The decoder of the open link, and what the decoders of earlier openings rejected. */
  private framer: Bx5kFramer | undefined;
  private readonly rejectedEarlier: Partial<Record<RejectionReason, number>> = {};

  constructor(
    readonly id: string,
    private readonly options: LedBx5kOptions,
    private readonly ctx: DeviceContext,
  ) {
    this.deferred = new Deferred(ctx.log);
    this.link = new SerialLink<DecodedFrame>({
      path: options.port,
      baudRate: options.baudRate,
      log: ctx.log,
      framer: () => this.newFramer(),
    });
    this.bus = new Rs485Bus<DecodedFrame>({ link: this.link, log: ctx.log, offlineAfter: options.offlineAfter });
    for (const config of options.displays) {
      const display: Display = { config, key: String(config.address), wanted: [], shown: undefined, sending: false, confirming: 0, errors: 0, offline: false };
      this.displays.set(config.address, display);
      if (config.role === 'window') {
        const onWindow = this.windowDisplays.get(config.window!) ?? [];
        this.windowDisplays.set(config.window!, [...onWindow, display]);
      }
    }
  }

  async start(): Promise<void> {
    for (const display of this.displays.values()) display.wanted = this.textsFromState(display);
    this.unsubscribe.push(this.ctx.bus.on('event', (event) => this.onHallEvent(event)));
    this.unsubscribe.push(this.ctx.bus.on('broadcast', ({ text }) => this.showNotice(text)));
    this.bus.on('up', () => this.onLinkUp());
    this.bus.on('down', (reason) => this.onLinkDown(reason));
    this.bus.on('device-offline', (key) => this.setOffline(key, true));
    this.bus.on('device-online', (key) => this.setOffline(key, false));
    this.bus.on('unsolicited', (frame) => {
      if (frame.kind === 'rejected') this.ctx.log.debug({ reason: frame.reason, address: frame.claimedSource }, 'LED bus frame rejected');
    });
    this.ctx.setAvailability(false, `opening ${this.options.port}`);
    this.link.start();
    this.probeTimer = setInterval(() => this.upkeep(), this.options.probeIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.hallTimer) clearTimeout(this.hallTimer);
    if (this.notice) clearTimeout(this.notice.timer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.bus.close();
    await this.link.close();
  }

  /** Per-display state, as published (exposed for tests and the demo). */
  snapshot(): Record<string, unknown> {
    const displays: Record<string, unknown> = {};
    for (const [address, d] of this.displays) {
      const stats = this.bus.stats(d.key);
      displays[address] = {
        role: d.config.role,
        window: d.config.window,
        // The text the display should show; `shown` says whether the controller confirmed it
        // (false while offline, during a send, after a failure). An offline display still has a
        // text an operator wants to see: what it will show once it answers.
        text: d.wanted.length > 0 ? stripDisplayCodes(d.wanted.join(' | ')) : null,
        shown: d.shown !== undefined && sameTexts(d.shown, d.wanted),
        online: !d.offline,
        errors: d.errors + stats.errors,
        timeouts: stats.timeouts,
        /** Exchanges the controller answered (each request counted once, however noisy the line). */
        answered: stats.ok,
        lastError: d.lastError ?? null,
        lastSeen: stats.lastSeen ?? null,
      };
    }
    return {
      link: this.link.isOpen ? 'up' : 'down',
      port: this.options.port,
      displays,
      unshowableTexts: this.unshowable.count,
      ...(this.unshowable.last ? { lastUnshowable: this.unshowable.last } : {}),
      deferredFailures: this.deferred.failures,
      rejectedFrames: this.rejectedFrames(),
    };
  }

  /** Bytes on the bus that were not a good frame (noise, broken escapes, bad CRCs), by reason, since start. */
  rejectedFrames(): Partial<Record<RejectionReason, number>> {
    const total: Partial<Record<RejectionReason, number>> = { ...this.rejectedEarlier };
    for (const [reason, n] of Object.entries(this.framer?.decoder.rejections ?? {}) as Array<[RejectionReason, number]>) {
      if (n > 0) total[reason] = (total[reason] ?? 0) + n;
    }
    return total;
  }

  private newFramer(): Bx5kFramer {
    Object.assign(this.rejectedEarlier, this.rejectedFrames());
    this.framer = new Bx5kFramer();
    return this.framer;
  }

  private textsFromState(display: Display): string[] {
    if (display.config.role === 'hall') return hallRows(this.ctx.hall, 3, this.notice?.text);
    return [windowTextFromState(this.ctx.hall, display.config.window!)];
  }

  /** An operator's broadcast: shown on the hall display for `noticeSeconds`, then taken down. */
  private showNotice(text: string): void {
    if (this.notice) clearTimeout(this.notice.timer);
    const timer = setTimeout(() => {
      this.notice = undefined;
      this.scheduleHallRefresh();
    }, this.options.noticeSeconds * 1000);
    timer.unref();
    this.notice = { text, timer };
    this.scheduleHallRefresh();
  }

  private onHallEvent(event: SequencedEvent): void {
    // A window's text changes only with events that name it (windowTextAfter reads no others).
    for (const windowId of windowsNamedBy(event)) {
      const displays = this.windowDisplays.get(windowId);
      if (!displays) continue;
      const text = windowTextAfter(event, windowId, windowNumberOf(this.ctx.hall, windowId) ?? 0);
      if (text === undefined) continue;
      for (const display of displays) {
        display.wanted = [text];
        this.changedWindows.add(display);
      }
    }
    // One command publishes its events in one go (call-next at a busy window: finished, then
    // called). Sending after the last of them gives one frame with the final text; a frame per
    // event would flash the idle text and hold the call back a whole bus exchange.
    if (this.changedWindows.size > 0 && !this.pushQueued) {
      this.pushQueued = true;
      this.deferred.microtask('LED window push', () => this.pushChangedWindows());
    }
    if (!event.type.startsWith('device.')) this.scheduleHallRefresh();
  }

  private pushChangedWindows(): void {
    this.pushQueued = false;
    const displays = [...this.changedWindows];
    this.changedWindows.clear();
    for (const display of displays) this.pushDisplay(display, true);
  }

  private scheduleHallRefresh(): void {
    if (this.hallTimer || this.stopped) return;
    this.hallTimer = setTimeout(() => {
      this.hallTimer = undefined;
      for (const display of this.displays.values()) {
        if (display.config.role === 'hall') this.want(display, hallRows(this.ctx.hall, 3, this.notice?.text));
      }
    }, this.options.hallRefreshMs);
  }

  private want(display: Display, texts: string[]): void {
    display.wanted = texts;
    this.pushDisplay(display);
  }

  /**
   * Sends the wanted text unless it is shown already or a send is on its way (which re-checks
   * after). `call`: a hall event's new text, which may go out without an answer in a burst;
   * catch-ups (reconnect, upkeep, a display back online) always ask for one.
   */
  private pushDisplay(display: Display, call = false): void {
    if (this.stopped || display.sending || !this.link.isOpen || sameTexts(display.shown, display.wanted)) return;
    display.sending = true;
    const texts = display.wanted;
    this.send(display, texts, { hurry: call })
      .then((confirmed) => {
        if (confirmed) {
          display.shown = texts;
          this.publish();
        } else this.confirm(display, texts);
      })
      .catch((err: unknown) => this.onSendFailed(display, err))
      .finally(() => {
        display.sending = false;
        // Newer text arrived while this one was on the bus: send it now. A failed send of the
        // same text is not retried here (the bus already retried); probes and reconnects resend.
        if (display.wanted !== texts) this.pushDisplay(display, call);
      });
  }

  /**
   * A text that went out without an answer is sent once more, answer wanted, behind everything
   * else on the bus; only then is it `shown`. Dropped if a newer text is wanted by then.
   */
  private confirm(display: Display, texts: string[]): void {
    if (this.stopped) return;
    display.confirming += 1;
    const current = (): boolean => display.wanted === texts;
    this.send(display, texts, { confirming: current })
      .then(() => {
        if (!current()) return;
        display.shown = texts;
        this.publish();
      })
      .catch((err: unknown) => {
        if (!(err instanceof BusSupersededError)) this.onSendFailed(display, err);
      })
      .finally(() => {
        display.confirming -= 1;
      });
  }

  /**
   * Sends the texts; resolves true once the controller confirmed them, false when they went out
   * without an answer (`hurry`: a window call with more calls queued behind it; confirm later).
   * `confirming`: this is the confirmation, at the lowest priority, dropped at the wire once the
   * function says the text is no longer the wanted one.
   */
  private async send(display: Display, texts: string[], how: { hurry?: boolean; confirming?: () => boolean }): Promise<boolean> {
    const { address } = display.config;
    if (!how.confirming) this.noteUnshowable(display, texts);
    const areas = this.areasFor(display.config, texts);
    const frame = dynamicAreaFrame(address, areas);
    const isWindow = display.config.role === 'window';
    const hurried = isWindow && how.hurry ? dynamicAreaFrame(address, areas, { responseFlag: ResponseFlag.none }) : undefined;
    const priority = how.confirming ? BusPriority.confirm : isWindow ? BusPriority.urgent : BusPriority.background;
    const isReply = (f: DecodedFrame): boolean => {
      if (f.kind === 'rejected') return f.reason === 'crc' && f.claimedSource === address;
      const reply = asReply(f.packet);
      return reply !== undefined && reply.from === address && reply.group === Command.dynamicArea.group && reply.command === Command.dynamicArea.command;
    };
    let busyLeft = this.options.busyRetries;
    let resendsLeft = this.options.retries;
    const options = { timeoutMs: this.options.replyTimeoutMs, retries: this.options.retries, priority, stillWanted: how.confirming };
    let first = true;
    for (;;) {
      // Resends after a busy or a CRC-error answer always ask for an answer.
      const answer = first && hurried ? await this.bus.transactOrHurry(display.key, frame, isReply, { ...options, hurried }) : await this.bus.transact(display.key, frame, isReply, options);
      first = false;
      if (answer === undefined) return false;
      if (answer.kind === 'rejected') {
        // Our side saw a damaged reply: not the controller's crcError answer, and not a refusal.
        this.bus.noteError(display.key);
        if (resendsLeft-- > 0) {
          this.ctx.log.debug({ display: address }, 'LED controller reply arrived corrupted; resending');
          continue;
        }
        throw new Bx5kCorruptReplyError(address, this.options.retries + 1);
      }
      const code = asReply(answer.packet)!.code;
      if (code === ReplyCode.ok) return true;
      const error = new Bx5kReplyError(address, code);
      this.bus.noteError(display.key);
      if (error.advice === 'retry-later' && busyLeft-- > 0) {
        this.ctx.log.debug({ display: address }, 'LED controller busy; asking again');
        await new Promise((resolve) => setTimeout(resolve, this.options.busyRetryMs));
        continue;
      }
      if (error.advice === 'resend' && resendsLeft-- > 0) {
        this.ctx.log.debug({ display: address }, 'LED controller saw a CRC error; resending');
        continue;
      }
      throw error;
    }
  }

  /** Characters GBK lacks come out as `?` on the display: say which text and which characters. */
  private noteUnshowable(display: Display, texts: string[]): void {
    const missing = texts.flatMap((text) => unshowableChars(text));
    if (missing.length === 0) return;
    this.unshowable.count += 1;
    this.unshowable.last = { display: display.config.address, chars: [...new Set(missing)].join(''), text: stripDisplayCodes(texts.join(' | ')) };
    this.ctx.log.warn(this.unshowable.last, 'LED display text has characters outside GBK; they show as "?"');
  }

  private areasFor(config: LedBx5kDisplayOptions, texts: string[]): DynamicArea[] {
    const font = config.font ?? '\\FO000';
    const rowHeight = Math.max(1, Math.floor(config.height / texts.length));
    return texts.map((text, i) => ({
      areaId: i,
      x: 0,
      y: i * rowHeight,
      width: config.width / 8,
      height: rowHeight,
      text: `${font}${text}`,
    }));
  }

  private onSendFailed(display: Display, err: unknown): void {
    if (err instanceof BusLinkDownError || err instanceof BusClosedError) return; // resent on reconnect
    display.shown = undefined;
    display.errors += err instanceof BusTimeoutError ? 0 : 1; // timeouts are counted by the bus
    display.lastError = err instanceof Error ? err.message : String(err);
    this.ctx.log.warn({ display: display.config.address, window: display.config.window, err }, 'LED display update failed');
    this.publish();
  }

  private setOffline(key: string, offline: boolean): void {
    const display = this.displays.get(Number(key));
    if (!display) return;
    display.offline = offline;
    if (offline) {
      this.ctx.raiseAlarm({ code: displayOfflineCode(key), message: `LED display ${key} does not answer: check its power and RS-485 wiring`, severity: 'warning' });
    } else {
      this.ctx.clearAlarm(displayOfflineCode(key));
      display.shown = undefined;
      this.pushDisplay(display);
    }
    this.publish();
  }

  /**
   * Background upkeep: a display whose last update failed gets it again (so a display that
   * stopped answering reaches `offline` without waiting for the next hall event); an offline
   * display gets a cheap ping, and its text once it answers (device-online).
   */
  private upkeep(): void {
    if (!this.link.isOpen) return;
    for (const display of this.displays.values()) {
      if (display.sending || display.confirming > 0) continue;
      if (!display.offline) {
        this.pushDisplay(display);
        continue;
      }
      const address = display.config.address;
      const isReply = (f: DecodedFrame): boolean => f.kind === 'packet' && asReply(f.packet)?.from === address;
      this.bus
        .transact(display.key, pingFrame(address), isReply, { timeoutMs: this.options.replyTimeoutMs, priority: BusPriority.background })
        .catch(() => undefined); // an offline display not answering its probe is the expected case
    }
  }

  private onLinkUp(): void {
    this.ctx.setAvailability(true);
    // The controllers may have lost power with the adapter, or we may have missed events: resend all.
    for (const display of this.displays.values()) {
      display.shown = undefined;
      display.wanted = display.config.role === 'hall' ? hallRows(this.ctx.hall) : display.wanted;
    }
    for (const display of this.displays.values()) if (display.config.role === 'window') this.pushDisplay(display);
    for (const display of this.displays.values()) if (display.config.role === 'hall') this.pushDisplay(display);
    this.publish();
  }

  private onLinkDown(reason: string): void {
    this.ctx.setAvailability(false, `serial link ${this.options.port} ${reason}`);
    for (const display of this.displays.values()) display.shown = undefined;
    this.publish();
  }

  private publish(): void {
    if (!this.stopped) this.ctx.publishState(() => this.snapshot());
  }
}
