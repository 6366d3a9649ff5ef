import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from '../platform/logger.js';
import { decidePublish, decideSubscribe } from './acl.js';
import { Authenticator } from './authenticator.js';
import { PrivateDeliveries, type Recipient } from './private-delivery.js';
import { openListeners, type ListenerPorts, type ListenerSettings } from './listeners.js';
import { isTopicLevel, type MqttUser, type Principal } from './users.js';

export interface BrokerSettings extends ListenerSettings {
  /** The hall's id; every topic lives under `hall/<hallId>`. */
  hallId: string;
  users: readonly MqttUser[];
}

export interface BrokerCounters {
  /** CONNECTs refused: anonymous, unknown user or wrong password. */
  authRefused: number;
  /** PUBLISHes refused by the ACL (the client is disconnected, MQTT-3.3.5-2). */
  publishRefused: number;
  /** Subscriptions refused by the ACL (granted QoS 128). */
  subscribeRefused: number;
}

/**
 * Where a refused request is set aside for the bridge to answer. `$` topics are not matched by
 * `#`, and the ACL lets only admins subscribe outside the hall's base topic.
 */
export const REFUSED_REQUEST_PREFIX = '$hall-edge/refused/';

export interface InProcessMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** The network client that published it; undefined when it was published in-process. */
  publisher?: Principal;
  /** That client's MQTT client id (requests are queued and answered per connection). */
  clientId?: string;
}

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
  /** An answer: forwarded only to this client, not to every subscriber (private-delivery.ts). */
  to?: Recipient;
}

export interface RunningBroker {
  readonly hallId: string;
  readonly ports: ListenerPorts;
  /** Publishes as the broker itself (no ACL: the in-process bridge is trusted). */
  publish(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void>;
  /** In-process subscription; resolves once active and returns its unsubscribe. Handler errors are caught and logged. */
  subscribe(filter: string, handler: (message: InProcessMessage) => void | Promise<void>): Promise<() => Promise<void>>;
  connectedClients(): number;
  counters(): Readonly<BrokerCounters>;
  /** Disconnects every client and closes every listener; idempotent. */
  close(): Promise<void>;
}

/** Starts aedes with authentication, the hall ACL, and its TCP/WebSocket/TLS listeners. */
export async function startBroker(settings: BrokerSettings, log: Logger): Promise<RunningBroker> {
  if (!isTopicLevel(settings.hallId)) throw new Error(`hallId "${settings.hallId}" must be one MQTT topic level (no '/', '+', '#')`);
  const authenticator = new Authenticator(settings.users);
  const hallId = settings.hallId;
  const requestPrefix = `hall/${hallId}/bridge/request/`;
  const counters: BrokerCounters = { authRefused: 0, publishRefused: 0, subscribeRefused: 0 };
  // The ACL asks per client object, so a client-id takeover can never lend one user's rights to another.
  const principals = new WeakMap<Client, Principal>();
  // In-process deliveries carry only the publisher's client id: this attributes requests to a user.
  const sessions = new Map<string, { client: Client; principal: Principal }>();
  const principalOf = (client: Client | null): Principal | undefined => (client ? principals.get(client) : undefined);
  const privateDeliveries = new PrivateDeliveries();

  const aedes = await Aedes.createBroker({
    // Don't let one slow dashboard hold the closing daemon for the default 60 s.
    drainTimeout: 10_000,
    authenticate(client, username, password, done) {
      authenticator.authenticate(username, password).then(
        (outcome) => {
          if (outcome.ok) {
            principals.set(client, outcome.principal);
            sessions.set(client.id, { client, principal: outcome.principal });
            log.info({ username: outcome.principal.username, role: outcome.principal.role, clientId: client.id, remote: remoteOf(client) }, 'mqtt client authenticated');
            done(null, true);
            return;
          }
          counters.authRefused++;
          log.warn({ username: username ?? null, clientId: client.id, remote: remoteOf(client), reason: outcome.reason }, 'mqtt connection refused');
          done(connackError('not authorized', 5), false);
        },
        (err: unknown) => {
          log.error({ err, username, remote: remoteOf(client) }, 'mqtt authentication failed internally');
          done(connackError('server unavailable', 3), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      const principal = principalOf(client);
      // A will left by a client of a previous broker run: nobody to check it against.
      const decision = principal
        ? decidePublish(principal, packet.topic, packet.retain, hallId)
        : { allowed: false as const, reason: 'unauthenticated publisher' };
      if (decision.allowed) {
        done(null);
        return;
      }
      counters.publishRefused++;
      log.warn({ username: principal?.username ?? null, topic: packet.topic, reason: decision.reason, remote: client ? remoteOf(client) : null }, 'mqtt publish refused');
      if (principal && !packet.retain && packet.topic.startsWith(requestPrefix)) {
        // A request from a role that may not send any (an observer's dashboard, a device): MQTT
        // 3.1.1 can only refuse a publish by disconnecting, so the request is set aside for the
        // bridge instead, which answers it with a readable `forbidden` and the client stays.
        packet.topic = `${REFUSED_REQUEST_PREFIX}${packet.topic}`;
        done(null);
        return;
      }
      done(new Error(`publish to ${packet.topic} refused: ${decision.reason}`));
    },
    authorizeForward(client, packet) {
      return privateDeliveries.mayForward(packet.payload as Buffer, client.id, principalOf(client)) ? packet : null;
    },
    authorizeSubscribe(client, subscription, done) {
      const principal = principalOf(client);
      const decision = principal ? decideSubscribe(principal, subscription.topic, hallId) : { allowed: false as const, reason: 'unauthenticated subscriber' };
      if (decision.allowed) {
        done(null, subscription);
        return;
      }
      counters.subscribeRefused++;
      log.warn({ username: principal?.username ?? null, topic: subscription.topic, reason: decision.reason, remote: remoteOf(client) }, 'mqtt subscribe refused');
      // A null subscription is answered with granted QoS 128 (failure) and the client stays connected.
      done(null, null);
    },
  });

  aedes.on('clientDisconnect', (client) => {
    const session = sessions.get(client.id);
    // A reconnect with the same client id registers the new client before the old one leaves.
    if (session?.client === client) sessions.delete(client.id);
  });
  aedes.on('clientError', (client, err) => log.debug({ err: err.message, clientId: client.id, username: principalOf(client)?.username }, 'mqtt client error'));
  aedes.on('connectionError', (client, err) => log.debug({ err: err.message, remote: remoteOf(client) }, 'mqtt connection error'));
  // aedes emits 'error' for persistence failures; unhandled it would kill the daemon.
  // (aedes.d.ts does not declare the 'error' event, hence the plain EventEmitter view.)
  const emitter: EventEmitter = aedes;
  emitter.on('error', (err: Error) => log.error({ err }, 'mqtt broker error'));

  let listeners;
  try {
    listeners = await openListeners(settings, (stream, req) => aedes.handle(stream, req), log);
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  log.info({ hallId, ...listeners.ports }, 'mqtt broker listening');

  let closing: Promise<void> | undefined;
  const opened = listeners;
  return {
    hallId,
    ports: listeners.ports,
    publish(topic, payload, options = {}) {
      let body = typeof payload === 'string' ? Buffer.from(payload) : payload;
      if (options.to) body = privateDeliveries.mark(body, options.to);
      return new Promise((resolve, reject) => {
        aedes.publish(
          { cmd: 'publish', topic, payload: body, qos: options.qos ?? 0, retain: options.retain ?? false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        );
      });
    },
    subscribe(filter, handler) {
      const deliver = (packet: { topic: string; payload: Buffer | string; retain: boolean; clientId?: string }, callback: () => void): void => {
        const publisher = packet.clientId !== undefined ? sessions.get(packet.clientId)?.principal : undefined;
        const message: InProcessMessage = {
          topic: packet.topic,
          payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
          retain: packet.retain,
          ...(publisher ? { publisher, clientId: packet.clientId } : {}),
        };
        try {
          const result = handler(message);
          if (result instanceof Promise) result.catch((err: unknown) => log.error({ err, topic: packet.topic }, 'in-process mqtt handler failed'));
        } catch (err) {
          log.error({ err, topic: packet.topic }, 'in-process mqtt handler failed');
        }
        callback();
      };
      return new Promise((resolve) => {
        aedes.subscribe(filter, deliver, () =>
          resolve(() => new Promise<void>((done) => (aedes.closed ? done() : aedes.unsubscribe(filter, deliver, () => done())))),
        );
      });
    },
    connectedClients: () => aedes.connectedClients,
    counters: () => ({ ...counters }),
    close() {
      closing ??= (async () => {
        const stopped = opened.stopAccepting();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        opened.destroyConnections();
        await stopped;
        sessions.clear();
        log.info({ hallId }, 'mqtt broker closed');
      })();
      return closing;
    },
  };
}

function connackError(message: string, returnCode: 3 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function remoteOf(client: Client): string | undefined {
  const socket = client.req?.socket ?? (client.conn as Partial<Socket>);
  if (!socket.remoteAddress) return undefined;
  return `${socket.remoteAddress}:${socket.remotePort ?? '?'}`;
}
