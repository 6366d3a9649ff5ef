import { hostname } from 'node:os';
import pg from 'pg';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { createMqttClient } from '../bus/client.js';
import type { Logger } from '../platform/logger.js';
import { EventStore, type StoredEvent } from './event-store.js';
import { centralPool } from './database.js';
import { DayFigures } from './day-figures.js';
import type { HallInfo } from './hall-model.js';
import { migrate } from './schema.js';

export interface CollectorOptions {
  mqttUrl: string;
  username?: string;
  password?: string;
  databaseUrl: string;
  /** The shared-subscription group: collectors of one group split the halls' messages. */
  group: string;
  clientId?: string;
  /** How often the stored events are checked against the cursors (rows deleted by hand); 0 = never. */
  verifySeconds?: number;
  log: Logger;
}

/** A gap not filling is asked for again after this long (the replay may queue behind a backlog). */
const REPLAY_RETRY_MS = 5000;
/** A hole must last this long before it is asked for. */
const GAP_GRACE_MS = 1000;
/**
 * Messages that follow each other closer than this are one busy run: the broker had more queued
 * for this collector than it could take. mqtt.js hands over the next message as soon as the
 * previous one is acknowledged, so a backlog shows as messages back to back (a few ms apart on
 * a loaded box; a live city's messages come with pauses between them).
 */
const BACK_TO_BACK_MS = 50;
/** How often dirty (hall, day) statistics are recomputed and gaps re-checked. */
const HOUSEKEEPING_MS = 500;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const eventsMessage = z.object({
  hallId: z.string().regex(/^[a-z0-9_-]{1,64}$/),
  first: z.number().int().min(1),
  last: z.number().int().min(1),
  events: z.array(z.looseObject({ seq: z.number().int().min(1), day: z.string().regex(DAY), at: z.number().finite(), type: z.string().min(1) })).min(1).max(1000),
});

/**
 * `hall-edge collect`: the central side of the uplink. Every collector of a group takes its share
 * of the halls' `uplink/events` (an MQTT shared subscription), stores the events in PostgreSQL
 * exactly once by (hall, seq), and acknowledges the message (PUBACK) only once they are
 * committed — a collector that dies mid-message leaves it to be redelivered. A hole in a hall's
 * seq is asked for on that hall's `uplink/replay`. The halls' daily figures are recomputed from
 * the stored events with the hall's own statistics code.
 */
export class Collector {
  private readonly pool: pg.Pool;
  private readonly store: EventStore;
  private client: MqttClient | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private readonly figures: DayFigures;
  /** Halls whose figures may be behind their stored events. */
  private readonly dirtyHalls = new Set<string>();
  private housekeepingRun: Promise<void> | undefined;
  private readonly prefixes = new Map<string, string>();
  private readonly replayAsked = new Map<string, { since: number; at: number }>();
  private readonly gapSeen = new Map<string, { since: number; at: number }>();
  private running = false;
  private lastVerifiedAt = 0;
  /** The collector's own backlog: when its current run of back-to-back messages began. */
  private processing = false;
  private lastDoneAt = 0;
  private busySince = 0;
  readonly counters = { messages: 0, eventsNew: 0, eventsDuplicate: 0, rejected: 0, replayRequests: 0, storeFailures: 0 };

  constructor(private readonly options: CollectorOptions) {
    this.pool = centralPool(options.databaseUrl, 4);
    this.pool.on('error', (err) => options.log.error({ err }, 'postgres connection error'));
    this.store = new EventStore(this.pool);
    this.figures = new DayFigures(this.pool);
  }

  async start(): Promise<void> {
    const db = await this.pool.connect();
    try {
      const migration = await migrate(db);
      this.options.log.info(migration, 'database schema ready');
    } finally {
      db.release();
    }
    this.running = true;
    const group = this.options.group;
    const client = createMqttClient(this.options.mqttUrl, {
      // Stable across restarts: a restarted collector takes its session (and its queue) back.
      clientId: this.options.clientId ?? `hall-edge-collector-${group}-${hostname()}`,
      // MQTT 5: mqtt.js lets the application decide when to PUBACK (customHandleAcks) only on v5.
      protocolVersion: 5,
      clean: false,
      // Keep the session (and what is queued for this collector) for a day across restarts.
      properties: { sessionExpiryInterval: 24 * 3600 },
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(this.options.username !== undefined ? { username: this.options.username } : {}),
      ...(this.options.password !== undefined ? { password: this.options.password } : {}),
      // PUBACK only after the events are committed: the broker redelivers what a dead collector had.
      customHandleAcks: (topic, message, _packet, done) => {
        this.messageStarted();
        this.onMessage(topic, message).then(
          () => {
            this.messageDone();
            done(0);
          },
          (err: unknown) => {
            this.messageDone();
            this.counters.storeFailures++;
            this.options.log.error({ err, topic }, 'could not store a message; reconnecting so the broker redelivers it');
            this.client?.stream.destroy();
          },
        );
      },
    });
    this.client = client;
    client.on('connect', () => {
      this.options.log.info({ url: this.options.mqttUrl, group }, 'collector connected');
      client.subscribe(
        { [`$share/${group}/hall/+/uplink/events`]: { qos: 1 }, 'hall/+/bridge/info': { qos: 1 }, 'hall/+/uplink/state': { qos: 1 }, 'hall/+/uplink/head': { qos: 1 } },
        (err) => {
          if (err) this.options.log.error({ err }, 'collector could not subscribe');
          else this.options.log.info({ group }, 'collector subscribed');
        },
      );
    });
    client.on('error', (err) => this.options.log.warn({ err: err.message }, 'collector mqtt error'));
    this.housekeeping = setInterval(() => void this.houseKeep(), HOUSEKEEPING_MS);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.housekeeping);
    await this.client?.endAsync(true).catch(() => undefined);
    await this.houseKeep();
    await this.pool.end();
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    if (topic.endsWith('/uplink/events')) return this.onEvents(topic, payload);
    if (payload.length === 0) return;
    const hallId = topic.split('/')[1]!;
    if (topic.endsWith('/bridge/info')) return this.onInfo(hallId, payload);
    if (topic.endsWith('/uplink/state')) return this.onState(hallId, payload);
    if (topic.endsWith('/uplink/head')) return this.onHead(hallId, payload);
  }

  private async onEvents(topic: string, payload: Buffer): Promise<void> {
    this.counters.messages++;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      json = undefined;
    }
    const parsed = eventsMessage.safeParse(json);
    const prefix = topic.slice(0, -'/uplink/events'.length);
    if (!parsed.success || prefix !== `hall/${parsed.data.hallId}`) {
      // Acknowledged and dropped: redelivering a malformed message would not make it better.
      this.counters.rejected++;
      this.options.log.warn({ topic, problem: parsed.success ? 'hallId does not match the topic' : parsed.error.issues[0]?.message }, 'uplink message rejected');
      return;
    }
    const { hallId, events } = parsed.data;
    this.prefixes.set(hallId, prefix);
    const { inserted } = await this.store.store(hallId, events as StoredEvent[]);
    this.counters.eventsNew += inserted;
    this.counters.eventsDuplicate += events.length - inserted;
    await this.checkGap(hallId);
    // After the cursor moved: the figures are brought up to it, not to where it was.
    if (inserted > 0) this.dirtyHalls.add(hallId);
  }

  private messageStarted(): void {
    const now = Date.now();
    if (now - this.lastDoneAt > BACK_TO_BACK_MS) this.busySince = now;
    this.processing = true;
  }

  private messageDone(): void {
    this.processing = false;
    this.lastDoneAt = Date.now();
  }

  /**
   * Busy without a pause for longer than the grace: the broker still has messages queued for
   * this collector, and a hole may well be among them (a catch-up's tail behind the hall's
   * announced head, or a batch the other collector of the group is storing). A replay asked
   * now would queue behind that backlog anyway, and resend what is already on its way.
   */
  private backlogged(): boolean {
    const now = Date.now();
    const inRun = this.processing || now - this.lastDoneAt <= BACK_TO_BACK_MS;
    return inRun && now - this.busySince >= GAP_GRACE_MS;
  }

  private async checkGap(hallId: string): Promise<void> {
    const cursor = await this.store.advance(hallId);
    if (!cursor.gap) {
      this.gapSeen.delete(hallId);
      return;
    }
    if (!this.client?.connected) return;
    // A hole may be a message another collector of the group is storing right now: ask only
    // for one that is still there a moment later.
    const seen = this.gapSeen.get(hallId);
    if (!seen || seen.since !== cursor.gap.since) {
      this.gapSeen.set(hallId, { since: cursor.gap.since, at: Date.now() });
      return;
    }
    if (Date.now() - seen.at < GAP_GRACE_MS || this.backlogged()) return;
    const asked = this.replayAsked.get(hallId);
    if (asked && asked.since === cursor.gap.since && Date.now() - asked.at < REPLAY_RETRY_MS) return;
    this.replayAsked.set(hallId, { since: cursor.gap.since, at: Date.now() });
    this.counters.replayRequests++;
    const prefix = this.prefixes.get(hallId) ?? `hall/${hallId}`;
    this.options.log.info({ hall: hallId, ...cursor.gap }, 'gap in a hall\'s events: replay asked');
    this.client.publish(`${prefix}/uplink/replay`, JSON.stringify(cursor.gap), { qos: 1 });
  }

  private async onHead(hallId: string, payload: Buffer): Promise<void> {
    let head: unknown;
    try {
      head = (JSON.parse(payload.toString('utf8')) as { lastSeq?: unknown }).lastSeq;
    } catch {
      head = undefined;
    }
    if (typeof head !== 'number' || !Number.isInteger(head) || head < 0) {
      this.counters.rejected++;
      return;
    }
    await this.store.setHead(hallId, head);
  }

  private async onInfo(hallId: string, payload: Buffer): Promise<void> {
    let info: HallInfo;
    try {
      info = JSON.parse(payload.toString('utf8')) as HallInfo;
    } catch {
      this.counters.rejected++;
      return;
    }
    this.figures.setInfo(hallId, info);
    this.dirtyHalls.add(hallId);
    await this.pool.query(
      `INSERT INTO halls (hall_id, name, time_zone, services, windows, info, last_seen) VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (hall_id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, services = excluded.services,
         windows = excluded.windows, info = excluded.info, last_seen = now()`,
      [hallId, JSON.stringify(info.name ?? null), info.timeZone ?? null, JSON.stringify(info.services ?? []), JSON.stringify(info.windows ?? []), JSON.stringify(info)],
    );
  }

  private async onState(hallId: string, payload: Buffer): Promise<void> {
    let state: string | undefined;
    try {
      state = (JSON.parse(payload.toString('utf8')) as { state?: string }).state;
    } catch {
      state = undefined;
    }
    if (state !== 'online' && state !== 'offline') return;
    await this.pool.query(
      `INSERT INTO halls (hall_id, link_state, last_seen) VALUES ($1, $2, now())
       ON CONFLICT (hall_id) DO UPDATE SET link_state = excluded.link_state, last_seen = now()`,
      [hallId, state],
    );
  }

  /** One housekeeping round at a time: a slow round is not overtaken by the next tick. */
  private houseKeep(): Promise<void> {
    this.housekeepingRun ??= this.houseKeepRound().finally(() => (this.housekeepingRun = undefined));
    return this.housekeepingRun;
  }

  private async houseKeepRound(): Promise<void> {
    try {
      const verifyMs = (this.options.verifySeconds ?? 300) * 1000;
      if (verifyMs > 0 && Date.now() - this.lastVerifiedAt >= verifyMs) {
        this.lastVerifiedAt = Date.now();
        for (const hallId of await this.store.verify()) this.options.log.warn({ hall: hallId }, 'stored events have a hole below the cursor; asking the hall again');
      }
      for (const hallId of await this.store.hallsWithGaps()) {
        await this.checkGap(hallId);
        this.dirtyHalls.add(hallId);
      }
      const dirty = [...this.dirtyHalls];
      this.dirtyHalls.clear();
      // A hall whose bridge/info has not come yet stays dirty until it comes.
      for (const [i, hallId] of dirty.entries()) {
        try {
          if (!(await this.figures.update(hallId))) this.dirtyHalls.add(hallId);
        } catch (err) {
          // The rest are tried again next round.
          for (const rest of dirty.slice(i)) this.dirtyHalls.add(rest);
          throw err;
        }
      }
    } catch (err) {
      if (this.running) this.options.log.error({ err }, 'collector housekeeping failed');
    }
  }
}
