import type { MqttClient } from 'mqtt';
import { connectMqtt } from '../bus/client.js';
import type { Logger } from '../platform/logger.js';
import { maskContact } from '../device-contract/contact.js';
import type { NoticeMessage, NoticeResult } from './gateway-protocol.js';

export interface GatewaySimulatorOptions {
  /** e.g. mqtt://127.0.0.1:1883 */
  url: string;
  hallId: string;
  gatewayId: string;
  username: string;
  password: string;
  /** How to answer each notice (default: delivered). `silent` never answers (a hung SMS modem). */
  answer?: (message: NoticeMessage) => 'delivered' | 'failed' | 'silent';
  log?: Logger;
}

/** What the simulated gateway "sent": the notice, with the contact masked as a log would show it. */
export interface SimulatedDelivery {
  id: string;
  kind: NoticeMessage['kind'];
  ticket: string;
  ahead?: number;
  window?: number;
  to: string;
  text: string;
  attempt: number;
}

/**
 * A notification gateway (an SMS modem or an app's push service behind a small program) as the
 * demo and the tests run it: a real MQTT client with a `device` login that takes notices on
 * `notify/<gatewayId>`, "sends" them (a log line with the number masked) and answers delivered
 * (or what `answer` says). It says online when subscribed, offline by its last will.
 * A notice id it has already delivered is answered again without a second send.
 */
export class GatewaySimulator {
  readonly deliveries: SimulatedDelivery[] = [];
  /** Every notice as received (tests compare its `contact` with what was issued). */
  readonly received: NoticeMessage[] = [];
  private readonly sent = new Set<string>();
  private stopped = false;

  private constructor(
    private readonly client: MqttClient,
    private readonly options: GatewaySimulatorOptions,
  ) {}

  static async start(options: GatewaySimulatorOptions): Promise<GatewaySimulator> {
    const base = `hall/${options.hallId}/notify/${options.gatewayId}`;
    const client = await connectMqtt(options.url, {
      username: options.username,
      password: options.password,
      clientId: `notify-${options.gatewayId}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 1000,
      will: { topic: `${base}/state`, payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: false },
    });
    const simulator = new GatewaySimulator(client, options);
    client.on('message', (_topic, payload) => simulator.onNotice(payload));
    client.on('error', (err) => options.log?.warn({ err: err.message, gateway: options.gatewayId }, 'notification gateway simulator mqtt error'));
    const granted = await client.subscribeAsync(base, { qos: 1 });
    if (granted.some((grant) => grant.qos === 128)) throw new Error(`gateway ${options.gatewayId}: subscription to ${base} refused`);
    // Subscribed first, then online: a notice sent on hearing "online" must find the subscription.
    const online = (): void => void client.publishAsync(`${base}/state`, JSON.stringify({ state: 'online' }), { qos: 1 }).catch(() => undefined);
    online();
    client.on('connect', online);
    return simulator;
  }

  private get base(): string {
    return `hall/${this.options.hallId}/notify/${this.options.gatewayId}`;
  }

  private onNotice(payload: Buffer): void {
    let message: NoticeMessage;
    try {
      message = JSON.parse(payload.toString('utf8')) as NoticeMessage;
    } catch {
      this.options.log?.warn({ gateway: this.options.gatewayId }, 'notice is not JSON; ignored');
      return;
    }
    this.received.push(message);
    const verdict = this.options.answer?.(message) ?? 'delivered';
    if (verdict === 'silent') return;
    if (verdict === 'delivered' && !this.sent.has(message.id)) {
      this.sent.add(message.id);
      const delivery: SimulatedDelivery = {
        id: message.id,
        kind: message.kind,
        ticket: message.ticket,
        ...(message.ahead !== undefined ? { ahead: message.ahead } : {}),
        ...(message.window ? { window: message.window.number } : {}),
        to: maskContact(message.contact),
        text: message.text.en,
        attempt: message.attempt,
      };
      this.deliveries.push(delivery);
      const { text, ...fields } = delivery;
      this.options.log?.info({ gateway: this.options.gatewayId, ...fields }, `simulated gateway sent: ${text}`);
    }
    const result: NoticeResult = verdict === 'delivered' ? { id: message.id, status: 'delivered' } : { id: message.id, status: 'failed', reason: 'simulated failure' };
    void this.client.publishAsync(`${this.base}/result`, JSON.stringify(result), { qos: 1 }).catch(() => undefined);
  }

  /** Says offline and disconnects (a gateway shut down cleanly). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.client.connected) {
      // Bounded: a hall that is closing at the same moment may never acknowledge it.
      let timer: NodeJS.Timeout | undefined;
      const said = this.client.publishAsync(`${this.base}/state`, JSON.stringify({ state: 'offline' }), { qos: 1 }).catch(() => undefined);
      await Promise.race([said, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
    }
    await this.client.endAsync(true);
  }
}
