import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { createMqttClient } from '../bus/client.js';
import type { RunningBroker } from '../bus/broker.js';
import type { UplinkSection } from '../config/uplink-section.js';
import type { Logger } from '../platform/logger.js';
import type { SequencedEvent } from '../queue/events.js';
import { backlogAlarmMessage, BACKLOG_ALARM_CODE } from './backlog-alarm.js';
import { uplinkClientOptions, uplinkTarget, type UplinkTarget } from './client-options.js';
import { CursorFile } from './cursor-file.js';
import { encodeEvents, encodeState, parseReplayRequest } from './messages.js';
import { ReplayRanges } from './replay-ranges.js';
import { RetainedMirror } from './retained-mirror.js';
import { SendWindow, type SentBatch } from './send-window.js';

/** What the uplink reads of the journal: bounded reads by seq, and where it ends. */
export interface UplinkJournal {
  readSince(seq: number, limit: number): SequencedEvent[];
  lastSeq(): number;
}

export interface UplinkAlarms {
  raise(alarm: { code: string; message: string; severity: 'info' | 'warning' | 'critical' }): void;
  clear(code: string): void;
}

export interface UplinkOptions {
  section: UplinkSection;
  hallId: string;
  journal: UplinkJournal;
  /** The cursor file lives here, beside the journal. */
  stateDir: string;
  /** The hall's own broker, whose retained documents are mirrored. */
  localBroker: Pick<RunningBroker, 'subscribe'>;
  alarms: UplinkAlarms;
  log: Logger;
  now?: () => number;
}

export interface UplinkHealth {
  connected: boolean;
  url: string;
  prefix: string;
  /** Every event up to this seq is acknowledged by the central broker (persisted). */
  cursor: number;
  /** Events in the journal the central broker has not acknowledged. */
  backlog: number;
  lastAckAt: number | null;
  lastConnectedAt: number | null;
  lastError: string | null;
  connects: number;
  messagesSent: number;
  eventsSent: number;
  replayRequests: number;
  replayRequestsRefused: number;
  replayEventsSent: number;
  documentsMirrored: number;
  alarm: string | null;
}

const RECONNECT_MIN_MS = 200;
const ALARM_CHECK_MS = 1000;
const OFFLINE_PUBLISH_TIMEOUT_MS = 2000;
const HEAD_INTERVAL_MS = 1000;

/**
 * The hall's outbound link to the city's central broker. The journal is the outbox: events are
 * read from it after a persisted cursor, in bounded batches, and published QoS 1 on
 * `<prefix>/uplink/events`; the cursor moves only on the broker's PUBACK, so a restart or an
 * outage of any length resumes exactly there. Nothing on the call-next path waits for any of
 * this: a committed command only schedules a pump on a later turn of the event loop, and while
 * the link is down nothing is read or queued at all.
 */
export class Uplink {
  private readonly target: UplinkTarget;
  private readonly eventsTopic: string;
  private readonly replayTopic: string;
  private readonly stateTopic: string;
  private readonly cursorFile: CursorFile;
  private readonly mirror: RetainedMirror;
  private readonly replays = new ReplayRanges();
  private readonly clock: () => number;
  private window = new SendWindow(0);
  /** The main stream's position: the last seq handed to the central broker on this connection. */
  private sentThrough = 0;
  private client: MqttClient | undefined;
  /** Each connection attempt has its own number; callbacks of an older one are ignored. */
  private generation = 0;
  private connected = false;
  private stopped = false;
  private pumpScheduled = false;
  /** The journal head last announced on `uplink/head`, and when. */
  private headAnnounced = 0;
  private headAnnouncedAt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private headTimer: NodeJS.Timeout | undefined;
  private alarmTimer: NodeJS.Timeout | undefined;
  private backoffMs = RECONNECT_MIN_MS;
  private lastUpAt: number;
  private alarmMessage: string | undefined;
  private readonly stats = {
    lastAckAt: null as number | null,
    lastConnectedAt: null as number | null,
    lastError: null as string | null,
    connects: 0,
    messagesSent: 0,
    eventsSent: 0,
    replayRequests: 0,
    replayRequestsRefused: 0,
    replayEventsSent: 0,
    documentsMirrored: 0,
  };

  constructor(private readonly options: UplinkOptions) {
    this.target = uplinkTarget(options.section, options.hallId);
    this.eventsTopic = `${this.target.prefix}/uplink/events`;
    this.replayTopic = `${this.target.prefix}/uplink/replay`;
    this.stateTopic = `${this.target.prefix}/uplink/state`;
    this.clock = options.now ?? Date.now;
    this.lastUpAt = this.clock();
    this.cursorFile = new CursorFile(join(options.stateDir, 'uplink-cursor.json'), `${this.target.url} ${this.target.prefix}`, options.log);
    this.mirror = new RetainedMirror(`hall/${options.hallId}`, () => this.schedulePump());
  }

  /**
   * Loads the cursor and starts mirroring; the connection is made in the background (the hall
   * runs whether or not the city is reachable). Call before the hall publishes its documents.
   */
  async start(): Promise<void> {
    let cursor = this.cursorFile.load();
    const last = this.options.journal.lastSeq();
    if (cursor > last) {
      // The journal was replaced (a new box, a wiped disk): its seq starts again below the cursor.
      this.options.log.warn({ cursor, journalLastSeq: last }, 'uplink cursor is past the end of the journal; sending the journal from the start');
      cursor = 0;
    }
    this.window = new SendWindow(cursor);
    this.sentThrough = cursor;
    await this.mirror.start(this.options.localBroker);
    this.alarmTimer = setInterval(() => this.checkAlarm(), ALARM_CHECK_MS);
    this.alarmTimer.unref();
    this.options.log.info({ url: this.target.url, prefix: this.target.prefix, cursor, backlog: last - cursor }, 'uplink starting');
    this.connect();
  }

  /** New events are in the journal (the hall's `committed`): send them on a later turn. */
  wake(): void {
    this.schedulePump();
  }

  health(): UplinkHealth {
    return {
      connected: this.connected,
      url: this.target.url,
      prefix: this.target.prefix,
      cursor: this.window.cursor,
      backlog: this.backlog(),
      ...this.stats,
      alarm: this.alarmMessage ?? null,
    };
  }

  /** Publishes `offline` (if connected), disconnects, and saves the cursor. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.headTimer);
    clearInterval(this.alarmTimer);
    await this.mirror.stop();
    const client = this.client;
    this.client = undefined;
    if (client) {
      if (this.connected) await this.publishOffline(client);
      this.generation++;
      this.connected = false;
      await client.endAsync(true).catch(() => undefined);
    }
    await this.cursorFile.flush();
    this.options.log.info({ cursor: this.window.cursor, backlog: this.backlog() }, 'uplink stopped');
  }

  // ---------------------------------------------------------------- connection

  private connect(): void {
    if (this.stopped) return;
    const generation = ++this.generation;
    let client: MqttClient;
    try {
      const options = uplinkClientOptions(this.options.section, this.target, encodeState(this.options.hallId, 'offline', this.clock()));
      client = createMqttClient(this.target.url, options);
    } catch (err) {
      this.stats.lastError = (err as Error).message;
      this.options.log.error({ err }, 'uplink cannot connect; retrying');
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    client.on('connect', () => {
      if (generation === this.generation) this.onConnected(client);
    });
    client.on('message', (topic, payload) => {
      if (generation === this.generation && topic === this.replayTopic) this.onReplayRequest(payload);
    });
    client.on('error', (err) => {
      if (generation !== this.generation) return;
      this.stats.lastError = err.message;
      // An unreachable broker fails every few seconds for hours: once per outage is enough.
      this.options.log[this.connected || this.stats.connects === 0 ? 'warn' : 'debug']({ err: err.message, url: this.target.url }, 'uplink connection error');
    });
    client.on('close', () => {
      if (generation === this.generation) this.onClosed(client);
    });
  }

  private onConnected(client: MqttClient): void {
    this.connected = true;
    this.backoffMs = RECONNECT_MIN_MS;
    this.stats.connects++;
    this.stats.lastConnectedAt = this.clock();
    this.lastUpAt = this.clock();
    this.options.log.info({ url: this.target.url, cursor: this.window.cursor, backlog: this.backlog() }, 'uplink connected');
    client.subscribe(this.replayTopic, { qos: 1 }, (err) => {
      if (err) this.options.log.warn({ err: err.message, topic: this.replayTopic }, 'uplink: cannot subscribe to replay requests (central ACL?)');
    });
    client.publish(this.stateTopic, encodeState(this.options.hallId, 'online', this.clock()), { qos: 1, retain: true });
    this.mirror.markAllDirty();
    this.headAnnounced = 0;
    this.headAnnouncedAt = 0;
    this.schedulePump();
  }

  private onClosed(client: MqttClient): void {
    const wasConnected = this.connected;
    this.connected = false;
    if (wasConnected) {
      this.lastUpAt = this.clock();
      this.options.log.warn({ url: this.target.url, cursor: this.window.cursor, backlog: this.backlog(), error: this.stats.lastError }, 'uplink lost; will resend from the cursor');
    }
    // Whatever was in flight may or may not have arrived: start again from the cursor.
    for (const lost of this.window.reset()) this.replays.add({ since: lost.first - 1, until: lost.last });
    this.sentThrough = this.window.cursor;
    this.generation++;
    this.client = undefined;
    client.end(true);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const max = this.options.section.reconnectMaxSeconds * 1000;
    const delay = Math.min(this.backoffMs, max) * (0.75 + Math.random() * 0.5);
    this.backoffMs = Math.min(this.backoffMs * 2, max);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private async publishOffline(client: MqttClient): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.publishAsync(this.stateTopic, encodeState(this.options.hallId, 'offline', this.clock()), { qos: 1, retain: true }).catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, OFFLINE_PUBLISH_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
  }

  // ---------------------------------------------------------------- sending

  private schedulePump(): void {
    if (this.pumpScheduled || !this.connected) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      try {
        this.pump();
      } catch (err) {
        this.options.log.error({ err }, 'uplink send failed');
      }
    });
  }

  /** One batch per turn of the event loop, so a catch-up of hours never holds the loop. */
  private pump(): void {
    const client = this.client;
    if (!this.connected || !client) return;
    for (const [subtopic, payload] of this.mirror.takeDirty()) {
      client.publish(`${this.target.prefix}/${subtopic}`, payload, { qos: 1, retain: true });
      this.stats.documentsMirrored++;
    }
    this.announceHead(client);
    if (this.window.size >= this.options.section.inflightBatches) return;
    const batchEvents = this.options.section.batchEvents;
    let events: SequencedEvent[];
    let replay = false;
    if (this.sentThrough < this.options.journal.lastSeq()) {
      events = this.options.journal.readSince(this.sentThrough, batchEvents);
    } else {
      const range = this.replays.take(batchEvents);
      if (!range) return;
      events = this.options.journal.readSince(range.since, range.until - range.since);
      replay = true;
    }
    if (events.length > 0) {
      if (!replay) this.sentThrough = events[events.length - 1]!.seq;
      this.send(client, events, replay);
    }
    this.schedulePump();
  }

  /**
   * Retained `uplink/head` {lastSeq}: how far the journal goes, at most once a second. Without
   * it a consumer could not see that the day's last events are missing (lost in a broker crash,
   * or queued for a dead collector) until the next event comes — which may be tomorrow.
   */
  private announceHead(client: MqttClient): void {
    const head = this.options.journal.lastSeq();
    if (head === this.headAnnounced || this.clock() - this.headAnnouncedAt < HEAD_INTERVAL_MS) {
      if (head !== this.headAnnounced && !this.headTimer) {
        this.headTimer = setTimeout(() => {
          this.headTimer = undefined;
          this.schedulePump();
        }, HEAD_INTERVAL_MS);
        this.headTimer.unref();
      }
      return;
    }
    this.headAnnounced = head;
    this.headAnnouncedAt = this.clock();
    client.publish(`${this.target.prefix}/uplink/head`, JSON.stringify({ hallId: this.options.hallId, lastSeq: head, at: this.headAnnouncedAt }), { qos: 1, retain: true });
  }

  private send(client: MqttClient, events: SequencedEvent[], replay: boolean): void {
    const batch = this.window.add(events[0]!.seq, events[events.length - 1]!.seq, replay);
    const generation = this.generation;
    this.stats.messagesSent++;
    if (replay) this.stats.replayEventsSent += events.length;
    else this.stats.eventsSent += events.length;
    client.publish(this.eventsTopic, encodeEvents(this.options.hallId, events, replay), { qos: 1 }, (err) => {
      if (generation !== this.generation) return;
      if (err) {
        // The connection is failing; its close resets the window.
        this.stats.lastError = err.message;
        return;
      }
      this.onAcknowledged(batch);
    });
  }

  private onAcknowledged(batch: SentBatch): void {
    this.stats.lastAckAt = this.clock();
    const cursor = this.window.ack(batch.id);
    if (cursor !== undefined) this.cursorFile.save(cursor);
    this.schedulePump();
  }

  private onReplayRequest(payload: Buffer): void {
    const parsed = parseReplayRequest(payload);
    if (!parsed.ok) {
      this.stats.replayRequestsRefused++;
      this.options.log.warn({ problem: parsed.problem, topic: this.replayTopic }, 'uplink replay request refused');
      return;
    }
    this.stats.replayRequests++;
    // Only what was already sent: the rest comes by the stream anyway.
    const until = Math.min(parsed.request.until ?? this.sentThrough, this.sentThrough);
    this.options.log.info({ since: parsed.request.since, until }, 'uplink replay requested');
    this.replays.add({ since: parsed.request.since, until });
    this.schedulePump();
  }

  private backlog(): number {
    return Math.max(0, this.options.journal.lastSeq() - this.window.cursor);
  }

  private checkAlarm(): void {
    const message = backlogAlarmMessage({ connected: this.connected, lastUpAt: this.lastUpAt, backlog: this.backlog() }, this.options.section.alarm, this.clock());
    if (message === this.alarmMessage) return;
    this.alarmMessage = message;
    try {
      if (message) this.options.alarms.raise({ code: BACKLOG_ALARM_CODE, severity: 'warning', message });
      else this.options.alarms.clear(BACKLOG_ALARM_CODE);
    } catch (err) {
      this.options.log.error({ err }, 'could not update the uplink alarm');
    }
  }
}
