import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../logger.js';
import { ReconnectingLink, type BackoffPolicy, type LinkCloseReason, type LinkTransport, type ReconnectStats } from './reconnecting-link.js';

/**
 * A TCP peer (a LAN receipt printer on port 9100, a gate's Modbus TCP server) kept connected on
 * the shared reconnect lifecycle: one socket at a time, reopened after the shared back-off when
 * the peer drops it, refuses, or is given up with renew(). The user sees bytes and open/close.
 */
export interface TcpLinkOptions extends BackoffPolicy {
  host: string;
  port: number;
  log: Logger;
  /** An attempt that has not connected by then fails (and is retried after the back-off). */
  connectTimeoutMs?: number;
  /** Keep-alive probes notice a peer switched off without closing the connection. */
  keepAliveMs?: number;
}

export interface TcpLinkEvents {
  open: [];
  close: [reason: LinkCloseReason, error?: Error];
  data: [chunk: Buffer];
  'open-failed': [error: Error, retryInMs: number];
}

export class TcpLinkClosedError extends Error {
  constructor(readonly describe: string) {
    super(`${describe} is not connected`);
    this.name = 'TcpLinkClosedError';
  }
}

export class TcpLink extends EventEmitter<TcpLinkEvents> {
  private readonly lifecycle: ReconnectingLink<net.Socket>;

  constructor(private readonly options: TcpLinkOptions) {
    super();
    this.lifecycle = new ReconnectingLink(new TcpTransport(options, (chunk) => this.emit('data', chunk)), options);
    this.lifecycle.on('open', () => {
      this.options.log.info({ link: this.describe, connections: this.lifecycle.stats.opens }, 'tcp connection open');
      this.emit('open');
    });
    this.lifecycle.on('close', (reason, err) => this.emit('close', reason, err));
    this.lifecycle.on('open-failed', (err, retryInMs) => this.emit('open-failed', err, retryInMs));
  }

  get describe(): string {
    return this.lifecycle.describe;
  }

  get isOpen(): boolean {
    return this.lifecycle.isOpen;
  }

  get stats(): Readonly<ReconnectStats> {
    return this.lifecycle.stats;
  }

  start(): void {
    this.lifecycle.start();
  }

  whenOpen(timeoutMs?: number, failFast?: boolean): Promise<void> {
    return this.lifecycle.whenOpen(timeoutMs, failFast);
  }

  write(bytes: Buffer): Promise<void> {
    const socket = this.lifecycle.connection;
    if (!socket) return Promise.reject(new TcpLinkClosedError(this.describe));
    return new Promise((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** Gives the socket up and reconnects after the back-off (bytes of a timed-out exchange may still be on it). */
  renew(why: string): void {
    this.lifecycle.renew(why);
  }

  close(): Promise<void> {
    return this.lifecycle.stop();
  }
}

class TcpTransport implements LinkTransport<net.Socket> {
  constructor(
    private readonly options: TcpLinkOptions,
    private readonly onData: (chunk: Buffer) => void,
  ) {}

  get describe(): string {
    return `tcp://${this.options.host}:${this.options.port}`;
  }

  open(lost: (reason: 'disconnected' | 'error', err?: Error) => void): Promise<net.Socket> {
    const socket = net.connect({ host: this.options.host, port: this.options.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.options.keepAliveMs ?? 10_000);
    let failure: Error | undefined;
    socket.on('error', (err) => {
      failure = err;
      this.options.log.debug({ err, link: this.describe }, 'tcp connection error');
    });
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.connectTimeoutMs ?? 5000;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${this.describe} did not accept a connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.on('data', (chunk: Buffer) => this.onData(chunk));
        // A peer that closes cleanly went away; one that reset or timed out is an error.
        socket.on('close', (hadError) => lost(hadError ? 'error' : 'disconnected', failure));
        resolve(socket);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(failure ?? new Error(`${this.describe} closed before connecting`));
      });
    });
  }

  detach(socket: net.Socket): void {
    socket.removeAllListeners('data');
    socket.removeAllListeners('close');
    socket.removeAllListeners('error');
    socket.on('error', () => undefined);
  }

  async close(socket: net.Socket): Promise<void> {
    if (socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      // A peer that never answers our FIN must not hold the close up.
      setTimeout(() => socket.destroy(), 500).unref();
    });
  }
}
