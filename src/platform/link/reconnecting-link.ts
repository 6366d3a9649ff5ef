import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';

/**
 * The one reconnect implementation: open a connection, watch it, and when it is lost (or given
 * up), back off and open a new one, until stopped. Serial ports (SerialLink) and TCP peers
 * (TcpLink: the LAN printer, the gate's Modbus TCP) are transports plugged into it, so every
 * device link backs off by the same policy and reports loss and return by the same events; the
 * drivers resync on 'open' and keep only their protocol.
 */

/** Why a connection ended: the device went away, the transport failed, we closed it, or we gave it up to start afresh. */
export type LinkCloseReason = 'disconnected' | 'error' | 'closed-by-us' | 'renewed';

/** The back-off policy: the first retry after minMs, doubling to maxMs; back to minMs once a connection opens. */
export interface BackoffPolicy {
  minBackoffMs?: number;
  maxBackoffMs?: number;
}
export const DEFAULT_MIN_BACKOFF_MS = 200;
export const DEFAULT_MAX_BACKOFF_MS = 5000;

/** One kind of connection (a serial port, a TCP socket): how to open, close and watch one. */
export interface LinkTransport<Conn> {
  /** For logs and errors: the port path or `tcp://host:port`. */
  readonly describe: string;
  /**
   * Opens one connection; rejects when it cannot. `lost` is called when the connection ends by
   * itself (a call for a connection already given up is ignored).
   */
  open(lost: (reason: 'disconnected' | 'error', err?: Error) => void): Promise<Conn>;
  /** Detaches a connection that ended, however it ended (listeners off), so nothing late from it is taken for the next. */
  detach(conn: Conn): void;
  /** Closes a connection we give up (stop, renew, failed watch); resolves once it is gone. */
  close(conn: Conn): Promise<void>;
  /**
   * Whether an open connection is still the device that was opened (a serial node that vanished
   * without a hang-up, see SerialLink). Checked every `watchEveryMs` while open.
   */
  stillThere?(conn: Conn): Promise<boolean>;
  readonly watchEveryMs?: number;
}

export interface ReconnectingLinkEvents<Conn> {
  open: [conn: Conn];
  close: [reason: LinkCloseReason, error?: Error];
  /** An open attempt failed; another follows after `retryInMs`. */
  'open-failed': [error: Error, retryInMs: number];
}

export interface ReconnectStats {
  opens: number;
  openFailures: number;
  /** Connections that ended other than by close(). */
  disconnects: number;
}

export class ReconnectingLink<Conn> extends EventEmitter<ReconnectingLinkEvents<Conn>> {
  private conn: Conn | undefined;
  /** Bumped on every attempt, so a late open or loss of an earlier attempt is recognised and ignored. */
  private attempt = 0;
  private stopped = true;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private readonly counters: ReconnectStats = { opens: 0, openFailures: 0, disconnects: 0 };

  constructor(
    private readonly transport: LinkTransport<Conn>,
    private readonly options: BackoffPolicy & { log: Logger },
  ) {
    super();
    this.backoffMs = this.minBackoffMs;
  }

  get describe(): string {
    return this.transport.describe;
  }

  /** The open connection, if there is one. */
  get connection(): Conn | undefined {
    return this.conn;
  }

  get isOpen(): boolean {
    return this.conn !== undefined;
  }

  get stats(): Readonly<ReconnectStats> {
    return { ...this.counters };
  }

  /** Begin connecting (and keep reconnecting until stop()). Returns at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /**
   * Resolves when a connection is open (at once if one is); rejects after timeoutMs, or with the
   * error of the next failed attempt when `failFast` (a caller that would rather report "refused"
   * now than wait out the back-off).
   */
  whenOpen(timeoutMs = 5000, failFast = false): Promise<void> {
    if (this.conn !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('open', onOpen);
        this.off('open-failed', onFailed);
      };
      const onOpen = (): void => {
        done();
        resolve();
      };
      const onFailed = (err: Error): void => {
        done();
        reject(err);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.transport.describe} did not open within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('open', onOpen);
      if (failFast) this.on('open-failed', onFailed);
    });
  }

  /**
   * Gives up the open connection and opens a new one after the back-off: for a peer whose stream
   * is in doubt (bytes of a timed-out exchange may still arrive on it).
   */
  renew(why: string): void {
    const conn = this.conn;
    if (conn === undefined || this.stopped) return;
    this.options.log.info({ link: this.transport.describe, why }, 'renewing the connection');
    this.ended(conn, 'renewed');
    void this.transport.close(conn).catch(() => undefined);
  }

  /** Stops reconnecting and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt += 1; // an open still in flight is closed when it lands
    const conn = this.conn;
    if (conn === undefined) return;
    this.ended(conn, 'closed-by-us');
    await this.transport.close(conn).catch(() => undefined);
  }

  private get minBackoffMs(): number {
    return this.options.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS;
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.stopped) return;
    const attempt = ++this.attempt;
    let conn: Conn | undefined;
    const lost = (reason: 'disconnected' | 'error', err?: Error): void => {
      if (attempt === this.attempt && conn !== undefined) this.ended(conn, reason, err);
    };
    this.transport.open(lost).then(
      (opened) => {
        if (attempt !== this.attempt || this.stopped) {
          // stop() (or a newer attempt) came while this open was in flight: do not leak it.
          this.transport.detach(opened);
          void this.transport.close(opened).catch(() => undefined);
          return;
        }
        conn = opened;
        this.conn = opened;
        this.counters.opens += 1;
        this.backoffMs = this.minBackoffMs;
        this.watch(opened);
        this.emit('open', opened);
      },
      (err: Error) => {
        if (attempt !== this.attempt || this.stopped) return;
        this.counters.openFailures += 1;
        const retryInMs = this.nextBackoff();
        this.options.log.debug({ err, link: this.transport.describe, retryInMs }, 'link open failed');
        this.emit('open-failed', err, retryInMs);
        this.scheduleConnect(retryInMs);
      },
    );
  }

  private watch(conn: Conn): void {
    const everyMs = this.transport.watchEveryMs ?? 0;
    const stillThere = this.transport.stillThere?.bind(this.transport);
    if (!stillThere || everyMs <= 0) return;
    const check = async (): Promise<void> => {
      const there = await stillThere(conn).catch(() => false);
      if (this.conn !== conn) return;
      if (there) {
        this.watchTimer = setTimeout(() => void check(), everyMs);
        return;
      }
      this.options.log.warn({ link: this.transport.describe }, 'device vanished; closing the connection');
      this.ended(conn, 'disconnected');
      void this.transport.close(conn).catch(() => undefined);
    };
    this.watchTimer = setTimeout(() => void check(), everyMs);
  }

  /** A connection ended (lost, given up or closed by us): report it once and, unless stopped, reconnect after the back-off. */
  private ended(conn: Conn, reason: LinkCloseReason, err?: Error): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = undefined;
    this.transport.detach(conn);
    if (reason !== 'closed-by-us') this.counters.disconnects += 1;
    const level = reason === 'closed-by-us' || reason === 'renewed' ? 'info' : 'warn';
    this.options.log[level]({ link: this.transport.describe, reason, err }, 'link closed');
    this.emit('close', reason, err);
    if (!this.stopped) this.scheduleConnect(this.nextBackoff());
  }

  private nextBackoff(): number {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS);
    return delay;
  }

  private scheduleConnect(delayMs: number): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => this.connect(), delayMs);
  }
}
