import type { MqttClient } from 'mqtt';
import { connectMqtt } from '../../src/bus/client.js';
import type { Logger } from '../../src/platform/logger.js';
import { errorResponse, okResponse, RequestError, type ResponseEnvelope } from '../../src/device-contract/index.js';
import { ANNOUNCE_SUBTOPIC, announceMessageSchema, ANSWER_SUBTOPIC, type AnnounceMessage } from './voice-box-protocol.js';

export interface VoiceBoxSimulatorOptions {
  /** e.g. mqtt://127.0.0.1:1883 */
  url: string;
  hallId: string;
  deviceId: string;
  username: string;
  password: string;
  /** Playing time = durationMs × timeScale (tests use a small scale, the demo 1). */
  timeScale?: number;
  /** Answer an error (code `cannot-play`) with this message instead of playing (firmware faults in tests). */
  failWith?: string;
  /** Never answer (a box that hangs or lost power). */
  silent?: boolean;
  log?: Logger;
}

export interface SimulatedPlay {
  id: string;
  ticket: string;
  text: string;
  startedAt: number;
  endedAt: number;
}

/**
 * A networked voice box's firmware behaviour over MQTT: it takes `announce`, "plays" it for
 * its duration (one at a time, in arrival order, like a real speaker) and answers on
 * `announce/response` in the request envelope.
 */
export class VoiceBoxSimulator {
  readonly plays: SimulatedPlay[] = [];
  readonly received: AnnounceMessage[] = [];
  /** Announcements that arrived while another was playing (hall-edge should never cause one). */
  overlaps = 0;
  malformed = 0;
  private busyUntil = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly client: MqttClient,
    private readonly options: VoiceBoxSimulatorOptions,
  ) {}

  static async start(options: VoiceBoxSimulatorOptions): Promise<VoiceBoxSimulator> {
    const client = await connectMqtt(options.url, {
      username: options.username,
      password: options.password,
      clientId: `voice-box-${options.deviceId}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 1000,
    });
    const simulator = new VoiceBoxSimulator(client, options);
    client.on('message', (topic, payload) => simulator.onMessage(payload));
    client.on('error', (err) => options.log?.warn({ err: err.message, device: options.deviceId }, 'voice box simulator mqtt error'));
    const granted = await client.subscribeAsync(simulator.topic(ANNOUNCE_SUBTOPIC), { qos: 1 });
    if (granted.some((grant) => grant.qos === 128)) throw new Error(`voice box ${options.deviceId}: subscription to ${simulator.topic(ANNOUNCE_SUBTOPIC)} refused`);
    return simulator;
  }

  private topic(subtopic: string): string {
    return `hall/${this.options.hallId}/device/${this.options.deviceId}/${subtopic}`;
  }

  private onMessage(payload: Buffer): void {
    let message: AnnounceMessage;
    try {
      message = announceMessageSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      this.malformed += 1;
      this.options.log?.warn({ err: (err as Error).message, device: this.options.deviceId }, 'voice box got a malformed announce');
      return;
    }
    this.received.push(message);
    if (Date.now() < this.busyUntil) this.overlaps += 1;
    if (this.options.silent) return;
    this.chain = this.chain.then(() => this.playOne(message));
  }

  private async playOne(message: AnnounceMessage): Promise<void> {
    if (this.options.failWith) {
      await this.reply(errorResponse(message.transaction, new RequestError('cannot-play', this.options.failWith)));
      return;
    }
    const startedAt = Date.now();
    const ms = message.durationMs * (this.options.timeScale ?? 1);
    this.busyUntil = startedAt + ms;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
    this.plays.push({ id: message.transaction, ticket: message.ticket, text: message.text, startedAt, endedAt: Date.now() });
    await this.reply(okResponse(message.transaction, null));
  }

  private async reply(message: ResponseEnvelope): Promise<void> {
    try {
      await this.client.publishAsync(this.topic(ANSWER_SUBTOPIC), JSON.stringify(message), { qos: 1 });
    } catch (err) {
      this.options.log?.warn({ err: (err as Error).message, device: this.options.deviceId }, 'voice box could not answer an announcement');
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.client.endAsync(true);
  }
}
