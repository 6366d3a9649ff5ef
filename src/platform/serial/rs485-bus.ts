import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import type { SerialCloseReason, SerialLink } from './serial-link.js';
import { BusLinkDownError, BusClosedError, BusSupersededError, BusTimeoutError } from './bus-errors.js';
import { DeviceCounters, type DeviceLinkStats } from './device-counters.js';

/**
 * A half-duplex RS-485 bus shared by many addressed devices: exactly one frame (and its reply)
 * on the wire at a time, with a priority queue so an urgent frame (the window display for the
 * ticket just called) jumps ahead of background work (a full hall-display refresh). A device that
 * stopped answering costs one timeout per frame, not timeout x retries, until it answers again.
 */

/**
 * Lower is sooner. Same priority is first come, first served. `confirm` is for frames that only
 * confirm what a device already shows (see `hurried`): they wait behind everything a person sees.
 */
/** UART bit times per byte (start, 8 data, stop): what the wire-time estimate counts. */
const BITS_PER_BYTE = 10;

export const BusPriority = { urgent: 0, normal: 1, background: 2, confirm: 3 } as const;

export interface TransactOptions {
  timeoutMs: number;
  /** Extra attempts after the first times out. Ignored (0) while the device is offline. */
  retries?: number;
  priority?: number;
  /**
   * Asked when the frame reaches the wire: false drops it (the transaction rejects with
   * BusSupersededError), e.g. a confirmation of a text that a newer one has replaced.
   */
  stillWanted?: () => boolean;
}

export interface HurriedTransactOptions extends TransactOptions {
  /**
   * The same request asking for no answer. Sent instead of the request when, as it reaches the
   * wire, another frame of the same or a more urgent priority waits behind it, or the wire still
   * carries frames written before it (see run): on a half-duplex
   * line every answer holds the next frame back by the answer's bytes, a turnaround and the
   * device's think time, and in a burst (64 windows calling at once) the next call is what
   * visitors wait for. The transaction then resolves with undefined: nothing confirmed it.
   */
  hurried: Buffer;
}

export interface SendOptions {
  priority?: number;
}

export interface Rs485BusOptions<Frame> {
  link: SerialLink<Frame>;
  log: Logger;
  /** Failed transactions in a row after which a device is offline (no retries, event emitted). */
  offlineAfter?: number;
  /** Quiet time between the end of one exchange and the next frame (driver enable turnaround). */
  turnaroundMs?: number;
}

export interface Rs485BusEvents<Frame> {
  up: [];
  down: [reason: SerialCloseReason];
  /** A frame that is not the reply to the exchange in progress (or arrived with none in progress). */
  unsolicited: [frame: Frame];
  'device-offline': [key: string];
  'device-online': [key: string];
}

interface Job<Frame> {
  key: string;
  bytes: Buffer;
  isReply: ((frame: Frame) => boolean) | undefined;
  timeoutMs: number;
  retries: number;
  priority: number;
  seq: number;
  hurried: Buffer | undefined;
  stillWanted: (() => boolean) | undefined;
  resolve: (reply: Frame | undefined) => void;
  reject: (err: Error) => void;
}

interface Waiter<Frame> {
  isReply: (frame: Frame) => boolean;
  resolve: (frame: Frame | undefined) => void;
  timer: NodeJS.Timeout;
}

export class Rs485Bus<Frame = Buffer> extends EventEmitter<Rs485BusEvents<Frame>> {
  private readonly queue: Array<Job<Frame>> = [];
  private readonly devices = new DeviceCounters();
  private waiter: Waiter<Frame> | undefined;
  private busy = false;
  private pumpQueued = false;
  private closed = false;
  private seq = 0;
  private unsolicitedCount = 0;
  /**
   * When the bytes written so far will have left the UART (performance.now()), estimated from the
   * baud rate. A write returns once the kernel (or a USB adapter) holds the bytes, not once they
   * are on the wire: a burst of hurried frames can leave a backlog of half a second at 57600 baud,
   * and a reply timer started at the write would run out before the request even reached the
   * device (then a resend adds to the backlog). Reply timers start when the request has left.
   */
  private wireFreeAt = 0;
  /** Wakes the pump when the wire falls quiet, for a confirmation held back (see pump). */
  private quietTimer: NodeJS.Timeout | undefined;
  private readonly detach: Array<() => void> = [];

  constructor(private readonly options: Rs485BusOptions<Frame>) {
    super();
    const { link } = options;
    const onFrame = (frame: Frame): void => this.onFrame(frame);
    const onOpen = (): void => {
      this.emit('up');
      this.pump();
    };
    const onClose = (reason: SerialCloseReason): void => {
      this.failAll(new BusLinkDownError(link.path));
      this.emit('down', reason);
    };
    link.on('frame', onFrame);
    link.on('open', onOpen);
    link.on('close', onClose);
    this.detach.push(
      () => link.off('frame', onFrame),
      () => link.off('open', onOpen),
      () => link.off('close', onClose),
    );
  }

  get isUp(): boolean {
    return this.options.link.isOpen;
  }

  /** Frames waiting for the wire (not counting the one in progress). */
  get pending(): number {
    return this.queue.length;
  }

  get unsolicitedFrames(): number {
    return this.unsolicitedCount;
  }

  /** Sends a frame and resolves with the first frame for which isReply is true. */
  transact(key: string, bytes: Buffer, isReply: (frame: Frame) => boolean, options: TransactOptions): Promise<Frame> {
    return this.enqueue(key, bytes, isReply, options.timeoutMs, options.retries ?? 0, options.priority, options) as Promise<Frame>;
  }

  /** As transact, but sends `options.hurried` (no answer) when more frames wait behind it; then resolves with undefined. */
  transactOrHurry(key: string, bytes: Buffer, isReply: (frame: Frame) => boolean, options: HurriedTransactOptions): Promise<Frame | undefined> {
    return this.enqueue(key, bytes, isReply, options.timeoutMs, options.retries ?? 0, options.priority, options);
  }

  /** Sends a frame that gets no reply (a broadcast, say); resolves once the kernel has it (with a turnaround gap, once it has left the UART). */
  async send(key: string, bytes: Buffer, options: SendOptions = {}): Promise<void> {
    await this.enqueue(key, bytes, undefined, 0, 0, options.priority);
  }

  stats(key: string): DeviceLinkStats {
    return this.devices.get(key);
  }

  allStats(): Record<string, DeviceLinkStats> {
    return this.devices.all();
  }

  isOffline(key: string): boolean {
    return this.devices.get(key).offline;
  }

  /** A protocol-level error the driver saw in a reply (busy, bad CRC ...): counted per device. */
  noteError(key: string): void {
    this.devices.error(key);
  }

  /** Rejects everything queued and stops listening to the link. Does not close the link. */
  close(): void {
    this.closed = true;
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.failAll(new BusClosedError());
    for (const off of this.detach.splice(0)) off();
  }

  private enqueue(
    key: string,
    bytes: Buffer,
    isReply: ((frame: Frame) => boolean) | undefined,
    timeoutMs: number,
    retries: number,
    priority: number = BusPriority.normal,
    extra: { hurried?: Buffer; stillWanted?: () => boolean } = {},
  ): Promise<Frame | undefined> {
    if (this.closed) return Promise.reject(new BusClosedError());
    if (!this.options.link.isOpen) return Promise.reject(new BusLinkDownError(this.options.link.path));
    return new Promise((resolve, reject) => {
      const job: Job<Frame> = { key, bytes, isReply, timeoutMs, retries, priority, seq: this.seq++, hurried: extra.hurried, stillWanted: extra.stillWanted, resolve, reject };
      // Insert after every job of the same or more urgent priority: stable FIFO within a priority.
      let at = this.queue.length;
      while (at > 0 && this.queue[at - 1]!.priority > priority) at -= 1;
      this.queue.splice(at, 0, job);
      this.schedulePump();
    });
  }

  /**
   * The wire is taken after the current synchronous work: frames queued together (a group
   * commit's 16 calls) are all in the queue, ordered by priority, before the first one goes —
   * so the first knows it has followers (see `hurried`) and an urgent frame queued a moment
   * after a background one still goes first.
   */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || this.closed || !this.options.link.isOpen) return;
    // A confirmation waits until the wire is quiet: it wants an answer, which holds the bus until
    // the backlog ahead of it (a burst of hurried calls) and it have crossed the wire, and a call
    // queued meanwhile would wait for all of that. Held back, the call goes first.
    const head = this.queue[0];
    const busyFor = this.wireFreeAt - performance.now();
    if (head && head.priority >= BusPriority.confirm && busyFor > 0) {
      this.quietTimer ??= setTimeout(() => {
        this.quietTimer = undefined;
        this.pump();
      }, busyFor);
      return;
    }
    const job = this.queue.shift();
    if (!job) return;
    this.busy = true;
    this.run(job)
      .then(job.resolve, job.reject)
      .finally(() => {
        const gap = this.options.turnaroundMs ?? 0;
        const next = (): void => {
          this.busy = false;
          this.pump();
        };
        if (gap > 0) setTimeout(next, gap);
        else next();
      });
  }

  private async run(job: Job<Frame>): Promise<Frame | undefined> {
    const { link } = this.options;
    if (job.stillWanted && !job.stillWanted()) throw new BusSupersededError(job.key);
    const followed = this.queue.length > 0 && this.queue[0]!.priority <= job.priority;
    // The last call of a burst goes without an answer too while the wire still carries the calls
    // before it: waiting for its answer would hold the bus for that whole backlog, and the calls
    // of the next group commit (a few ms later) with it. Its confirmation follows when the wire is quiet.
    const backlog = this.wireFreeAt > performance.now();
    if (job.hurried && (followed || backlog)) {
      if (!link.isOpen) throw new BusLinkDownError(link.path);
      this.onWire(job.hurried.length);
      await link.write(job.hurried);
      if ((this.options.turnaroundMs ?? 0) > 0) await link.drain();
      return undefined;
    }
    if (!job.isReply) {
      this.onWire(job.bytes.length);
      await link.write(job.bytes);
      // With a turnaround gap to keep, it counts from the last byte on the wire.
      if ((this.options.turnaroundMs ?? 0) > 0) await link.drain();
      return undefined;
    }
    const attempts = 1 + (this.devices.get(job.key).offline ? 0 : job.retries);
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (!link.isOpen) throw new BusLinkDownError(link.path);
      const reply = this.awaitReply(job.isReply, job.timeoutMs + this.onWire(job.bytes.length));
      try {
        await link.write(job.bytes);
      } catch (err) {
        this.cancelWaiter();
        this.devices.error(job.key);
        throw err;
      }
      const frame = await reply;
      if (frame !== undefined) {
        if (this.devices.success(job.key, Date.now())) {
          this.options.log.info({ device: job.key }, 'bus device answers again');
          this.emit('device-online', job.key);
        }
        return frame;
      }
      if (!link.isOpen) throw new BusLinkDownError(link.path);
      this.devices.timeout(job.key);
      this.options.log.debug({ device: job.key, attempt, attempts }, 'bus reply timed out');
    }
    if (this.devices.failure(job.key, this.options.offlineAfter ?? 3)) {
      this.options.log.warn({ device: job.key }, 'bus device stopped answering');
      this.emit('device-offline', job.key);
    }
    throw new BusTimeoutError(job.key, attempts, job.timeoutMs);
  }

  /** Counts `bytes` about to be written onto the wire; returns how long until their last byte is out, ms. */
  private onWire(bytes: number): number {
    const now = performance.now();
    const baud = this.options.link.baudRate;
    if (!(baud > 0)) return 0;
    this.wireFreeAt = Math.max(now, this.wireFreeAt) + (bytes * BITS_PER_BYTE * 1000) / baud;
    return this.wireFreeAt - now;
  }

  /** Resolves with the reply, or undefined on timeout or when the link drops. */
  private awaitReply(isReply: (frame: Frame) => boolean, timeoutMs: number): Promise<Frame | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = { isReply, resolve, timer };
    });
  }

  private cancelWaiter(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    waiter.resolve(undefined);
  }

  private onFrame(frame: Frame): void {
    const waiter = this.waiter;
    if (waiter && this.matches(waiter, frame)) {
      // An answer means our request, and everything before it, has left the wire.
      this.wireFreeAt = Math.min(this.wireFreeAt, performance.now());
      this.waiter = undefined;
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
      return;
    }
    this.unsolicitedCount += 1;
    this.emit('unsolicited', frame);
  }

  private matches(waiter: Waiter<Frame>, frame: Frame): boolean {
    try {
      return waiter.isReply(frame);
    } catch (err) {
      this.options.log.error({ err }, 'bus reply matcher threw; frame treated as unsolicited');
      return false;
    }
  }

  private failAll(err: Error): void {
    this.cancelWaiter();
    for (const job of this.queue.splice(0)) job.reject(err);
  }
}
