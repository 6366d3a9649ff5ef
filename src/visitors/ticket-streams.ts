import type { ServerResponse } from 'node:http';
import type { Logger } from '../platform/logger.js';
import { FINAL_VIEW_STATES, type TicketView, type LinePositions } from './ticket-view.js';

export interface TicketStreamLimits {
  /** Open streams in all (each is a socket and a little memory). */
  max: number;
  /** Open streams from one remote address (one phone opens one; a reload briefly two). */
  perAddress: number;
  /** A comment line this often keeps proxies and phone radios from dropping an idle stream. */
  heartbeatMs: number;
  /** Refreshes come at most this often, however busy the hall: a phone needs no more. */
  minRefreshMs: number;
}

export const DEFAULT_STREAM_LIMITS: TicketStreamLimits = { max: 500, perAddress: 8, heartbeatMs: 25_000, minRefreshMs: 250 };

/** How often a page over the bounds asks again (the browser's EventSource does it by itself). */
export const POLL_RETRY_MS = 30_000;
const STREAM_HEADERS = { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-store', 'X-Accel-Buffering': 'no' };
const viewEvent = (json: string): string => `event: ticket\ndata: ${json}\n\n`;

interface Stream {
  res: ServerResponse;
  address: string;
  day: string;
  number: string;
  last: string;
}

export interface StreamCounters {
  open: number;
  opened: number;
  refusedFull: number;
  refusedAddress: number;
  updatesSent: number;
}

/**
 * The phone pages' live updates: one Server-Sent Events stream per open page, each carrying
 * only its own ticket's view. Bounded in all and per address (beyond, a page polls every 30 s
 * instead), cleaned up when the phone goes away, and refreshed at most every
 * `minRefreshMs` after the hall changed, sending a page only what changed for it.
 */
export class TicketStreams {
  private readonly streams = new Set<Stream>();
  private readonly perAddress = new Map<string, number>();
  private readonly counters = { opened: 0, refusedFull: 0, refusedAddress: 0, updatesSent: 0 };
  private heartbeat: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private lastRefresh = 0;

  constructor(
    private readonly view: (day: string, number: string, positions: LinePositions) => TicketView,
    private readonly positions: () => LinePositions,
    private readonly limits: TicketStreamLimits,
    private readonly log: Logger,
    private readonly guard: (job: () => void) => void = (job) => job(),
  ) {}

  /**
   * Starts a stream on `res`. Over a bound the page is not left blank: it gets its ticket's view
   * once, a `slow` event and `retry: 30000`, and the stream ends — the browser asks again in 30 s,
   * so a phone over the limit is updated by polling, holding no connection. Headers are the caller's.
   */
  open(res: ServerResponse, headers: Record<string, string>, address: string, day: string, number: string): void {
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.streams.size >= this.limits.max || fromAddress >= this.limits.perAddress) {
      if (this.streams.size >= this.limits.max) this.counters.refusedFull += 1;
      else this.counters.refusedAddress += 1;
      this.log.debug({ remote: address, open: this.streams.size, fromAddress }, 'ticket page stream over its bound: one view, then polling');
      res.writeHead(200, { ...headers, ...STREAM_HEADERS });
      res.end(`retry: ${POLL_RETRY_MS}\n\nevent: slow\ndata: ${POLL_RETRY_MS}\n\n${viewEvent(JSON.stringify(this.view(day, number, this.positions())))}`);
      return;
    }
    const stream: Stream = { res, address, day, number, last: '' };
    this.streams.add(stream);
    this.perAddress.set(address, fromAddress + 1);
    this.counters.opened += 1;
    res.writeHead(200, { ...headers, ...STREAM_HEADERS });
    // `retry`: after a daemon restart the browser reconnects by itself, 3 s later.
    res.write('retry: 3000\n\n');
    res.on('close', () => this.drop(stream));
    this.push(stream, this.positions());
    this.startHeartbeat();
  }

  /** The hall changed: refresh every open page soon (coalesced, at most every minRefreshMs). */
  changed(): void {
    if (this.refreshTimer || this.streams.size === 0) return;
    const wait = Math.max(0, this.lastRefresh + this.limits.minRefreshMs - Date.now());
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.lastRefresh = Date.now();
      this.guard(() => this.refreshAll());
    }, wait);
    this.refreshTimer.unref();
  }

  count(): StreamCounters {
    return { open: this.streams.size, ...this.counters };
  }

  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.heartbeat = this.refreshTimer = undefined;
    for (const stream of [...this.streams]) stream.res.end();
    this.streams.clear();
    this.perAddress.clear();
  }

  private refreshAll(): void {
    const positions = this.positions();
    for (const stream of [...this.streams]) this.push(stream, positions);
  }

  private push(stream: Stream, positions: LinePositions): void {
    const view = this.view(stream.day, stream.number, positions);
    const data = JSON.stringify(view);
    if (data === stream.last) return;
    stream.last = data;
    this.counters.updatesSent += 1;
    stream.res.write(viewEvent(data));
    // Nothing more will change for it: free the slot (the page stops listening on its own).
    if (FINAL_VIEW_STATES.has(view.state)) stream.res.end();
  }

  private drop(stream: Stream): void {
    if (!this.streams.delete(stream)) return;
    const left = (this.perAddress.get(stream.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(stream.address, left);
    else this.perAddress.delete(stream.address);
    if (this.streams.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const stream of this.streams) stream.res.write(': keep-alive\n\n');
    }, this.limits.heartbeatMs);
    this.heartbeat.unref();
  }
}
