import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from '../platform/logger.js';
import { decidePublish, decideSubscribe, decideWill, isRequest, mayReceive, receiveGuard } from './acl.js';
import { Authenticator } from './authenticator.js';
import { PrivateDeliveries, type Recipient } from './private-delivery.js';
import { resolveBrokerLimits, type BrokerLimits } from './broker-limits.js';
import { ClientIdRegistry } from './client-ids.js';
import { openListeners, type ListenerPorts, type ListenerSettings } from './listeners.js';
import { HeldRefusals } from './held-refusals.js';
import { LoginThrottle } from './login-throttle.js';
import { PacketLimitedStream, type LimitViolation } from './packet-limit.js';
import { isTopicLevel, type MqttUser, type Principal } from './users.js';

export interface BrokerSettings extends ListenerSettings {
  /** The hall's id; every topic lives under `hall/<hallId>`. */
  hallId: string;
  users: readonly MqttUser[];
  /** Packet sizes, slow consumers, login pacing; unset fields take DEFAULT_BROKER_LIMITS. */
  limits?: Partial<BrokerLimits>;
}

export interface BrokerCounters {
  /** CONNECTs refused: anonymous, unknown user or wrong password. */
  authRefused: number;
  /** CONNECTs refused because another user holds the client id (CONNACK 2). */
  clientIdRefused: number;
  /** CONNECTs refused for their will (a request topic, or a topic the user may not publish). */
  willRefused: number;
  /** CONNECTs refused without a password check: too many logins waiting (CONNACK 3). */
  loginThrottled: number;
  /** Connections cut for a packet (or WebSocket frame) over the limit, or a malformed length. */
  oversizedPackets: number;
  /** Connections cut because their unsent outgoing backlog passed the bound. */
  slowConsumers: number;
  /** PUBLISHes refused by the ACL (the client is disconnected, MQTT-3.3.5-2). */
  publishRefused: number;
  /** Subscriptions refused by the ACL (granted QoS 128). */
  subscribeRefused: number;
  /** Times a connection's reading was held (holdReading: it was over its request bounds). */
  readsHeld: number;
}

/**
 * Where a refused request is set aside for the bridge to answer. `$` topics are not matched by
 * `#`, and the ACL lets only admins subscribe outside the hall's base topic.
 */
export const REFUSED_REQUEST_PREFIX = '$hall-edge/refused/';

/** Throttled logins whose refusal is held back at once (each is an open socket and an aedes client). */
const MAX_HELD_REFUSALS = 256;

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
  /**
   * Reads nothing more from the client connected with `clientId` until the promise `until()`
   * returns settles (see PacketLimitedStream.holdReading). False, without calling `until`, when
   * there is no such client or it is already held.
   */
  holdReading(clientId: string, until: () => Promise<unknown>): boolean;
  /** Bytes written to that client and not yet taken by the network (0 when it is not connected). */
  outgoingBacklog(clientId: string): number;
  /** Resolves once that client's outgoing backlog has drained, or it is gone. */
  drained(clientId: string): Promise<void>;
  /** Connections whose reading is held now, and the bytes received from them not yet read. */
  heldReads(): { connections: number; unreadBytes: number };
  /** Logins waiting for, or in, a password check. */
  loginsPending(): number;
  counters(): Readonly<BrokerCounters>;
  /** Disconnects every client and closes every listener; idempotent. */
  close(): Promise<void>;
}

/** Starts aedes with authentication, the hall ACL, and its TCP/WebSocket/TLS listeners. */
export async function startBroker(settings: BrokerSettings, log: Logger): Promise<RunningBroker> {
  if (!isTopicLevel(settings.hallId)) throw new Error(`hallId "${settings.hallId}" must be one MQTT topic level (no '/', '+', '#')`);
  const authenticator = new Authenticator(settings.users);
  const limits = resolveBrokerLimits(settings.limits);
  const throttle = new LoginThrottle(limits.login);
  const heldRefusals = new HeldRefusals(MAX_HELD_REFUSALS);
  let throttledWarnedAt = -Infinity;
  const hallId = settings.hallId;
  const counters: BrokerCounters = {
    authRefused: 0,
    clientIdRefused: 0,
    willRefused: 0,
    loginThrottled: 0,
    oversizedPackets: 0,
    slowConsumers: 0,
    publishRefused: 0,
    subscribeRefused: 0,
    readsHeld: 0,
  };
  // The ACL asks per client object, so a client-id takeover can never lend one user's rights to another.
  const principals = new WeakMap<Client, Principal>();
  // Who holds which client id; in-process deliveries carry only the publisher's client id, so this also attributes requests to a user.
  const clientIds = new ClientIdRegistry<Client>();
  // The will of each CONNECT, seen in preConnect, judged once the user is known.
  const wills = new WeakMap<Client, { topic: string; retain: boolean }>();
  const principalOf = (client: Client | null): Principal | undefined => (client ? principals.get(client) : undefined);
  const privateDeliveries = new PrivateDeliveries();
  const receiving = receiveGuard(hallId);
  // Every open connection's stream, for holds, backlogs and their gauges.
  const streams = new Set<PacketLimitedStream>();
  const streamOf = (clientId: string): PacketLimitedStream | undefined => {
    const conn = clientIds.connectedClient(clientId)?.conn;
    return conn instanceof PacketLimitedStream ? conn : undefined;
  };

  const connackMessages = { 2: 'identifier rejected', 3: 'server unavailable', 5: 'not authorized' } as const;
  const refuseConnect = (client: Client, done: (error: AuthenticateError | null, success: boolean | null) => void, returnCode: 2 | 3 | 5, message: string, fields: Record<string, unknown>): void => {
    log.warn({ clientId: client.id, remote: remoteOf(client), ...fields }, message);
    done(connackError(connackMessages[returnCode], returnCode), false);
  };

  const aedes = await Aedes.createBroker({
    // Don't let one slow dashboard hold the closing daemon for the default 60 s. (Deliveries no
    // longer wait for a client's drain at all: see PacketLimitedStream.)
    drainTimeout: 10_000,
    preConnect(client, packet, done) {
      if (packet.will) wills.set(client, { topic: packet.will.topic, retain: packet.will.retain === true });
      done(null, true);
    },
    authenticate(client, username, password, done) {
      if (!username || password === undefined) {
        counters.authRefused++;
        refuseConnect(client, done, 5, 'mqtt connection refused', { username: username ?? null, reason: 'anonymous' });
        return;
      }
      // Each check is one scrypt; the throttle keeps a flood from queueing real logins behind it.
      const address = remoteAddressOf(client) ?? 'unknown';
      throttle
        .run(
          address,
          async () => {
            const outcome = await authenticator.authenticate(username, password);
            return { value: outcome, failed: !outcome.ok };
          },
          () => !client.closed,
        )
        .then(
          (run) => {
            if (!run.ran) {
              if (run.reason === 'abandoned' || run.reason === 'closed') return;
              counters.loginThrottled++;
              const fields = { username, reason: run.reason, pending: throttle.pending() };
              // One line per connection would be a log flood of its own: each at debug, a warning at most every 10 s.
              log.debug({ clientId: client.id, remote: remoteOf(client), ...fields }, 'mqtt login throttled');
              if (Date.now() - throttledWarnedAt >= 10_000) {
                throttledWarnedAt = Date.now();
                log.warn({ remote: remoteOf(client), ...fields, throttledSoFar: counters.loginThrottled }, 'mqtt logins throttled: too many waiting');
              }
              heldRefusals.hold(throttle.refusalDelayMs(address), () => done(connackError(connackMessages[3], 3), false));
              return;
            }
            const outcome = run.value;
            if (!outcome.ok) {
              counters.authRefused++;
              refuseConnect(client, done, 5, 'mqtt connection refused', { username, reason: outcome.reason, wait: run.wait });
              return;
            }
            const principal = outcome.principal;
            const will = wills.get(client);
            if (will) {
              const decision = decideWill(principal, will.topic, will.retain, hallId);
              if (!decision.allowed) {
                counters.willRefused++;
                refuseConnect(client, done, 5, 'mqtt connection refused', { username, reason: `will on ${will.topic}: ${decision.reason}` });
                return;
              }
            }
            const claim = clientIds.claim(client.id, client, principal, !client.clean);
            if (!claim.ok) {
              counters.clientIdRefused++;
              refuseConnect(client, done, 2, 'mqtt connection refused', { username, reason: `client id held by user "${claim.holder}"` });
              return;
            }
            principals.set(client, principal);
            log.info({ username: principal.username, role: principal.role, clientId: client.id, remote: remoteOf(client), wait: run.wait }, 'mqtt client authenticated');
            done(null, true);
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
      if (principal && !packet.retain && isRequest(packet.topic, hallId)) {
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
      const principal = principalOf(client);
      if (!mayReceive(principal, packet.topic, receiving)) return null;
      return privateDeliveries.mayForward(packet.payload as Buffer, client.id, principal) ? packet : null;
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

  // A reconnect with the same client id registers the new client before the old one leaves;
  // release() ignores a client that no longer holds its id.
  aedes.on('clientDisconnect', (client) => clientIds.release(client.id, client));
  aedes.on('clientError', (client, err) => log.debug({ err: err.message, clientId: client.id, username: principalOf(client)?.username }, 'mqtt client error'));
  aedes.on('connectionError', (client, err) => log.debug({ err: err.message, remote: remoteOf(client) }, 'mqtt connection error'));
  // aedes emits 'error' for persistence failures; unhandled it would kill the daemon.
  // (aedes.d.ts does not declare the 'error' event, hence the plain EventEmitter view.)
  const emitter: EventEmitter = aedes;
  emitter.on('error', (err: Error) => log.error({ err }, 'mqtt broker error'));

  let listeners;
  try {
    const onViolation = (violation: LimitViolation, stream: PacketLimitedStream): void => {
      if (violation.kind === 'slow-consumer') counters.slowConsumers++;
      else counters.oversizedPackets++;
      const client = stream.client as Client | undefined;
      log.warn(
        { ...violation, clientId: client?.id ?? null, username: client ? (principalOf(client)?.username ?? null) : null, remote: formatRemote(stream.remoteAddress ?? client?.req?.socket.remoteAddress, stream.remotePort ?? client?.req?.socket.remotePort) },
        violation.kind === 'slow-consumer' ? 'mqtt slow consumer disconnected' : 'mqtt oversized packet: connection closed',
      );
    };
    const handle = (raw: Duplex, req?: Parameters<typeof aedes.handle>[1]): void => {
      const stream = new PacketLimitedStream(raw, limits.packets, onViolation);
      const client = aedes.handle(stream, req);
      streams.add(stream);
      // Also on connections that end between the password check and aedes' registration (no clientDisconnect then).
      stream.once('close', () => {
        streams.delete(stream);
        if (client.id) clientIds.release(client.id, client);
      });
    };
    const wsMaxPayload = limits.packets.maxPacketBytes;
    listeners = await openListeners({ ...settings, ...(settings.ws ? { ws: { ...settings.ws, maxPayloadBytes: wsMaxPayload } } : {}) }, handle, log);
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
        const publisher = packet.clientId !== undefined ? clientIds.connectedPrincipal(packet.clientId) : undefined;
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
    holdReading(clientId, until) {
      const held = streamOf(clientId)?.holdReading(until) ?? false;
      if (held) counters.readsHeld++;
      return held;
    },
    outgoingBacklog: (clientId) => streamOf(clientId)?.outgoingBacklog ?? 0,
    drained: (clientId) => streamOf(clientId)?.drained() ?? Promise.resolve(),
    heldReads() {
      let connections = 0;
      let unreadBytes = 0;
      for (const stream of streams) {
        if (!stream.readingHeld) continue;
        connections++;
        unreadBytes += stream.unreadBytes;
      }
      return { connections, unreadBytes };
    },
    loginsPending: () => throttle.pending(),
    counters: () => ({ ...counters }),
    close() {
      closing ??= (async () => {
        const stopped = opened.stopAccepting();
        throttle.close();
        heldRefusals.close();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        opened.destroyConnections();
        await stopped;
        clientIds.clear();
        log.info({ hallId }, 'mqtt broker closed');
      })();
      return closing;
    },
  };
}

function connackError(message: string, returnCode: 2 | 3 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** The peer's socket: for WebSocket the HTTP request's, otherwise the connection (a PacketLimitedStream reports its socket's). */
function peerOf(client: Client): Partial<Pick<Socket, 'remoteAddress' | 'remotePort'>> {
  return client.req?.socket ?? (client.conn as Partial<Socket>);
}

function remoteAddressOf(client: Client): string | undefined {
  return peerOf(client).remoteAddress;
}

function remoteOf(client: Client): string | undefined {
  const peer = peerOf(client);
  return formatRemote(peer.remoteAddress, peer.remotePort);
}

function formatRemote(address: string | undefined, port: number | undefined): string | undefined {
  return address ? `${address}:${port ?? '?'}` : undefined;
}
