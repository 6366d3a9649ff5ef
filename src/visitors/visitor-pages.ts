import type { IncomingMessage } from 'node:http';
import type { Logger } from '../platform/logger.js';
import type { Hall } from '../hall/hall.js';
import type { HttpRoute, RouteReply } from '../dashboard/server.js';
import type { AnnouncementWavMaker } from '../../devices/voice-caller/announcement-wav.js';
import { ticketToken, ticketTokenMatches } from './ticket-token.js';
import { DEFAULT_STREAM_LIMITS, TicketStreams, type StreamCounters, type TicketStreamLimits } from './ticket-streams.js';
import { LinePositions, ticketView } from './ticket-view.js';

export interface VisitorPagesOptions {
  hall: Hall;
  /** The HMAC key of the ticket links (ticket-secret.ts). */
  secret: Buffer;
  /** How phones reach the daemon's page (`dashboard.publicUrl`): the ticket QR's default link. */
  publicUrl?: string;
  streams?: Partial<TicketStreamLimits>;
  /** The voice caller's options (its config entry), so the TV says the calls with the same voice. */
  voice?: unknown;
  log: Logger;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const NUMBER = /^[A-Z][0-9]{2,4}$/;
/** Renders at once (espeak-ng is a process each); a TV asks once per call. */
const MAX_RENDERS = 2;
const WAV_CACHE = 16;

/**
 * The pages for visitors, served beside the dashboard: `/display` (the hall TV, which itself
 * reads the public MQTT documents) with the calls' announcements as WAV, and the phone ticket
 * page `/t/<day>/<number>?k=<token>` with its live stream. A wrong or missing token is the
 * same 404 as a path that does not exist: it says nothing about whether the ticket exists.
 */
export class VisitorPages {
  private readonly streams: TicketStreams;
  private readonly wavCache = new Map<string, Buffer>();
  private maker: Promise<AnnouncementWavMaker | undefined> = Promise.resolve(undefined);
  private rendering = 0;
  private readonly counters = { pagesServed: 0, refused: 0, announcements: 0 };
  private off: (() => void) | undefined;

  constructor(private readonly options: VisitorPagesOptions) {
    const hall = options.hall;
    this.streams = new TicketStreams(
      (day, number, positions) => ticketView(hall, day, number, positions),
      () => new LinePositions(hall),
      { ...DEFAULT_STREAM_LIMITS, ...options.streams },
      options.log,
      (job) => void hall.dispatcher.guard('state', job),
    );
  }

  start(): void {
    if (this.options.voice !== undefined) {
      // Loaded only for a hall with a voice caller (start-up time: the clip code is not small).
      const voice = this.options.voice;
      this.maker = import('../../devices/voice-caller/announcement-wav.js').then(({ announcementWavMaker }) => announcementWavMaker(voice)).catch((err: unknown) => {
        this.options.log.warn({ err }, 'the /display page will show calls without sound: the voice caller\'s clip set could not be loaded');
        return undefined;
      });
    }
    // Every committed burst may move a ticket (called, ahead count, wait estimate).
    this.off = this.options.hall.dispatcher.on('state', () => this.streams.changed());
  }

  stop(): void {
    this.off?.();
    this.streams.close();
  }

  /** The phone link printed as the ticket's QR code, when the hall says how phones reach it. */
  ticketLink(day: string, number: string): string | undefined {
    const base = this.options.publicUrl;
    if (!base) return undefined;
    return `${base.replace(/\/+$/, '')}/t/${encodeURIComponent(day)}/${encodeURIComponent(number)}?k=${ticketToken(this.options.secret, day, number)}`;
  }

  stats(): StreamCounters & { pagesServed: number; refused: number; announcements: number } {
    return { ...this.streams.count(), ...this.counters };
  }

  readonly route: HttpRoute = async (req, url, reply) => {
    const path = url.pathname;
    if (path === '/display' || path === '/display/') return reply.file('display.html');
    if (path === '/display/announcement.wav') return this.announcement(url, reply);
    const ticket = /^\/t\/([^/]+)\/([^/]+)(\/events)?$/.exec(path);
    if (!ticket) return false;
    const [, day, number, events] = ticket as unknown as [string, string, string, string | undefined];
    const token = url.searchParams.get('k') ?? '';
    if (!DAY.test(day) || !NUMBER.test(number) || !ticketTokenMatches(this.options.secret, day, number, token)) {
      this.counters.refused += 1;
      this.options.log.debug({ path, remote: req.socket.remoteAddress }, 'ticket page: bad link');
      return reply.notFound();
    }
    if (!events) {
      this.counters.pagesServed += 1;
      return reply.file('ticket.html');
    }
    if (reply.head) return reply.send(200, 'text/event-stream; charset=utf-8', '');
    this.streams.open(reply.res, reply.headers, remoteOf(req), day, number);
    return true;
  };

  private async announcement(url: URL, reply: RouteReply): Promise<boolean> {
    const model = this.options.hall.model;
    const number = url.searchParams.get('number') ?? '';
    const window = model.windows.find((w) => w.id === url.searchParams.get('window'));
    const service = NUMBER.test(number) ? model.services.find((s) => s.prefix === number[0]) : undefined;
    const recall = url.searchParams.get('recall') === '1';
    const maker = await this.maker;
    if (!window || !service || !maker) return reply.notFound();
    const key = `${number}/${window.id}/${recall}`;
    let wav = this.wavCache.get(key);
    if (!wav) {
      if (this.rendering >= MAX_RENDERS) return reply.send(503, 'text/plain; charset=utf-8', 'busy\n');
      this.rendering += 1;
      try {
        wav = await maker.wav({ number, windowNumber: window.number, serviceId: service.id, recall });
      } catch (err) {
        this.options.log.warn({ err, ticket: number, window: window.id }, 'display announcement could not be rendered');
        return reply.notFound();
      } finally {
        this.rendering -= 1;
      }
      this.wavCache.set(key, wav);
      if (this.wavCache.size > WAV_CACHE) this.wavCache.delete(this.wavCache.keys().next().value as string);
    }
    this.counters.announcements += 1;
    return reply.send(200, 'audio/wav', wav);
  }
}

function remoteOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
