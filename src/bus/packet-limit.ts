import { Duplex } from 'node:stream';

/**
 * Per-connection byte limits, enforced in front of aedes. aedes (through mqtt-packet) buffers a
 * whole packet before it looks at it and has no size option (moscajs/aedes#831), so a client
 * announcing a 250 MB CONNECT made the broker hold 250 MB before any credential was checked.
 */
export interface PacketLimits {
  /** The first packet of a connection (CONNECT: client id, credentials, will). */
  maxConnectBytes: number;
  /** Every later packet, whole (fixed header included). */
  maxPacketBytes: number;
  /** Bytes written to the client but not yet taken by the network; over it the client is cut. */
  maxOutgoingBacklogBytes: number;
}

export type LimitViolation =
  | { kind: 'oversized-packet'; declaredBytes: number; limitBytes: number; connectPacket: boolean }
  | { kind: 'malformed-length' }
  | { kind: 'oversized-frame'; limitBytes: number }
  | { kind: 'slow-consumer'; backlogBytes: number; limitBytes: number };

export type ScanResult = { ok: true } | { ok: false; violation: LimitViolation };

/** What the scanner expects next. */
const Expect = { FixedHeader: 0, RemainingLength: 1, Body: 2 } as const;
type Expect = (typeof Expect)[keyof typeof Expect];

/**
 * Follows MQTT framing across chunks without keeping any of the bytes: only the fixed header
 * (type byte + 1..4 bytes of Remaining Length) is read, a body is skipped by counting. So the
 * size of every packet is known from its first few bytes, before its body arrives.
 */
export class PacketSizeScanner {
  private expect: Expect = Expect.FixedHeader;
  private remainingLength = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;
  private packets = 0;

  constructor(private readonly limits: Pick<PacketLimits, 'maxConnectBytes' | 'maxPacketBytes'>) {}

  scan(chunk: Uint8Array): ScanResult {
    let i = 0;
    while (i < chunk.length) {
      if (this.expect === Expect.Body) {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        i += take;
        this.bodyLeft -= take;
        if (this.bodyLeft === 0) this.expect = Expect.FixedHeader;
      } else if (this.expect === Expect.FixedHeader) {
        i++;
        this.expect = Expect.RemainingLength;
        this.remainingLength = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else {
        const byte = chunk[i++]!;
        this.remainingLength += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (byte & 0x80) {
          // MQTT-2.2.3: at most four bytes of Remaining Length.
          if (this.lengthBytes === 4) return { ok: false, violation: { kind: 'malformed-length' } };
          continue;
        }
        const declaredBytes = 1 + this.lengthBytes + this.remainingLength;
        // The CONNECT is always the first packet (aedes refuses anything else). Later packets
        // get the session limit even while the login is still being checked: aedes stops reading
        // during authentication, so nothing past the CONNECT is buffered beyond the stream's
        // high-water mark until the client is logged in.
        const connectPacket = this.packets === 0;
        const limitBytes = connectPacket ? this.limits.maxConnectBytes : this.limits.maxPacketBytes;
        if (declaredBytes > limitBytes) return { ok: false, violation: { kind: 'oversized-packet', declaredBytes, limitBytes, connectPacket } };
        this.packets++;
        this.bodyLeft = this.remainingLength;
        this.expect = this.bodyLeft > 0 ? Expect.Body : Expect.FixedHeader;
      }
    }
    return { ok: true };
  }
}

/** ws reports a frame over `maxPayload` with this code (before buffering the frame's payload). */
const WS_FRAME_TOO_BIG = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/**
 * Bytes handed to aedes in one go. aedes parses and handles everything one read returns before
 * it reads again, so this bounds the work one connection makes in one event-loop turn (~100
 * small requests), and a connection held for being over its bounds (holdReading) has at most
 * about this much read past the request that tripped it.
 */
export const READ_SLICE_BYTES = 4096;
/** Bytes taken from the network and not yet handed to aedes before the socket is paused (TCP then holds the sender). */
const INBOX_BYTES = 64 * 1024;

/**
 * The stream aedes reads and writes instead of the raw connection (TCP, TLS or WebSocket).
 * Inbound: bytes pass only after their packet's declared size was checked; an oversized packet
 * destroys the connection before its body is read, so it is never buffered nor forwarded. They
 * pass READ_SLICE_BYTES at a time, and not at all while the connection is held (holdReading):
 * a client over its request bounds is then read no further, its bytes wait in its own socket
 * and TCP slows it down, instead of the broker parsing and refusing everything it sends.
 * Outbound: writes complete at once (aedes never waits for a drain, so one stalled subscriber
 * cannot hold the broker's delivery slots for everyone), and a client whose unsent backlog
 * passes the bound is cut instead of growing memory.
 */
export class PacketLimitedStream extends Duplex {
  /** Set by aedes (`conn.client = this`); used for logs. */
  client?: { id?: string | null };
  private readonly scanner: PacketSizeScanner;
  private violated = false;
  /** Checked bytes not yet handed to aedes, oldest first. */
  private readonly inbox: Buffer[] = [];
  private inboxBytes = 0;
  /** aedes asked for more (_read) and has not been given it yet. */
  private wanted = false;
  private held = false;
  private innerEnded = false;
  private endPushed = false;
  private feedScheduled = false;
  /** A write was made in this event-loop turn (its end is scheduled). */
  private turnOpen = false;
  /** Writes after the turn's first are held in the socket until the turn ends. */
  private corked = false;

  constructor(
    readonly inner: Duplex,
    private readonly limits: PacketLimits,
    private readonly onViolation: (violation: LimitViolation, stream: PacketLimitedStream) => void,
  ) {
    super({ allowHalfOpen: false, readableHighWaterMark: READ_SLICE_BYTES });
    this.scanner = new PacketSizeScanner(limits);
    inner.on('data', (chunk: Buffer) => this.onInbound(chunk));
    inner.once('end', () => {
      this.innerEnded = true;
      this.feed();
    });
    inner.on('error', (err: Error & { code?: string }) => {
      if (err.code === WS_FRAME_TOO_BIG) this.violate({ kind: 'oversized-frame', limitBytes: limits.maxPacketBytes });
      else this.destroy(err);
    });
    inner.once('close', () => this.destroy());
  }

  /** The peer's address, as a net.Socket would report it (aedes and the logs look here). */
  get remoteAddress(): string | undefined {
    return (this.inner as Partial<{ remoteAddress: string }>).remoteAddress;
  }

  get remotePort(): number | undefined {
    return (this.inner as Partial<{ remotePort: number }>).remotePort;
  }

  /** Unsent bytes written to this client (its answers it has not read yet). */
  get outgoingBacklog(): number {
    return this.inner.writableLength;
  }

  /** Bytes received from the client and not yet handed to aedes. */
  get unreadBytes(): number {
    return this.inboxBytes;
  }

  get readingHeld(): boolean {
    return this.held;
  }

  /**
   * Resolves once the client's backlog has gone to the network (its socket's 'drain'), or it is
   * gone; at once when the backlog is below the socket's high-water mark (no 'drain' is due then).
   */
  drained(): Promise<void> {
    if (!this.inner.writableNeedDrain || this.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.inner.off('drain', done);
        this.off('close', done);
        resolve();
      };
      this.inner.once('drain', done);
      this.once('close', done);
    });
  }

  /**
   * Reads nothing more from this client until the promise `until()` returns settles (what aedes
   * already has is still handled). Returns false, without calling `until`, when the connection is
   * already held: one hold at a time, however many of the requests in hand are refused.
   */
  holdReading(until: () => Promise<unknown>): boolean {
    if (this.held || this.destroyed) return false;
    this.held = true;
    this.inner.pause();
    const release = (): void => {
      this.held = false;
      this.feed();
    };
    until().then(release, release);
    return true;
  }

  private onInbound(chunk: Buffer): void {
    if (this.violated) return;
    const result = this.scanner.scan(chunk);
    if (!result.ok) {
      this.violate(result.violation);
      return;
    }
    this.inbox.push(chunk);
    this.inboxBytes += chunk.length;
    this.feed();
  }

  /** Hands aedes the next slice if it wants one and the connection is not held; reads on when the inbox runs low. */
  private feed(): void {
    if (this.destroyed) return;
    while (this.wanted && !this.held && this.inbox.length > 0) {
      const head = this.inbox[0]!;
      let slice: Buffer;
      if (head.length <= READ_SLICE_BYTES) {
        slice = head;
        this.inbox.shift();
      } else {
        slice = head.subarray(0, READ_SLICE_BYTES);
        this.inbox[0] = head.subarray(READ_SLICE_BYTES);
      }
      this.inboxBytes -= slice.length;
      this.wanted = this.push(slice);
    }
    if (this.inbox.length === 0 && this.innerEnded) {
      if (!this.endPushed) this.push(null);
      this.endPushed = true;
      return;
    }
    if (this.held || this.inboxBytes >= INBOX_BYTES) this.inner.pause();
    else this.inner.resume();
  }

  private violate(violation: LimitViolation): void {
    if (this.violated) return;
    this.violated = true;
    this.onViolation(violation, this);
    this.destroy();
  }

  override _read(): void {
    this.wanted = true;
    // Never push from inside _read: aedes reads again from inside its own parse loop (each
    // packet handled synchronously ends in a read), and a slice handed over there would be
    // parsed in the middle of the one before. The next turn is also where another connection's
    // bytes get their turn.
    if (this.feedScheduled) return;
    this.feedScheduled = true;
    setImmediate(() => {
      this.feedScheduled = false;
      this.feed();
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.destroyed) {
      callback();
      return;
    }
    this.beforeWrite();
    this.inner.write(chunk);
    if (!this.corked) this.checkBacklog();
    callback();
  }

  /** The packets aedes wrote in one go (mqtt-packet corks the stream for a tick). */
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: (error?: Error | null) => void): void {
    if (this.inner.destroyed) {
      callback();
      return;
    }
    this.beforeWrite();
    if (this.corked) for (const { chunk } of chunks) this.inner.write(chunk);
    else {
      this.inner.cork();
      for (const { chunk } of chunks) this.inner.write(chunk);
      this.inner.uncork();
      this.checkBacklog();
    }
    callback();
  }

  /**
   * The first write of an event-loop turn goes to the socket at once (a lone call event or answer
   * waits for nothing); what follows in the same turn is held until the turn ends (setImmediate)
   * and leaves in one writev. mqtt-packet's own cork lasts one tick, and aedes delivers each QoS 1
   * publish on a tick of its own: a group commit's 128 answers and 128 events left in ~250 system
   * calls (2.2 write calls per issue; now 1.3 with the journal's). The backlog is judged once the
   * turn's bytes are handed to the socket (what it could not take is the backlog), not while they
   * are held here.
   */
  private beforeWrite(): void {
    if (!this.turnOpen) {
      this.turnOpen = true;
      setImmediate(this.endTurn);
      return;
    }
    if (this.corked) return;
    this.corked = true;
    this.inner.cork();
  }

  private readonly endTurn = (): void => {
    this.turnOpen = false;
    if (!this.corked) return;
    this.corked = false;
    this.inner.uncork();
    if (!this.inner.destroyed) this.checkBacklog();
  };

  private checkBacklog(): void {
    const backlogBytes = this.inner.writableLength;
    if (backlogBytes > this.limits.maxOutgoingBacklogBytes) this.violate({ kind: 'slow-consumer', backlogBytes, limitBytes: this.limits.maxOutgoingBacklogBytes });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.corked) {
      // What this turn held goes out first, and the socket gets a turn to send it, as a write
      // made at once would have had (over WebSocket, a destroy in the same turn lost it).
      this.endTurn();
      setImmediate(() => this.inner.destroy());
    } else this.inner.destroy();
    callback(error);
  }
}
