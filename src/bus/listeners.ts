import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from '../platform/logger.js';

export interface EndpointSettings {
  /** Address to bind, e.g. `0.0.0.0` for the hall LAN or `127.0.0.1` for local tools only. */
  host: string;
  /** 0 picks a free port (tests); the actual port is reported in ListenerPorts. */
  port: number;
}

export interface WebSocketListenerSettings extends EndpointSettings {
  /** The only HTTP path that upgrades to MQTT; anything else is answered 404. */
  path?: string;
  /** Largest WebSocket frame; ws refuses a bigger one from its header, before reading it (default 100 MiB). */
  maxPayloadBytes?: number;
}

export interface TlsListenerSettings {
  /** Defaults to `0.0.0.0`. */
  host?: string;
  port: number;
  /** PEM file paths. */
  cert: string;
  key: string;
  /** CA bundle used to verify client certificates, when `requireClientCert` is set. */
  ca?: string;
  /** Refuse TLS clients without a certificate signed by `ca` (username/password are still required). */
  requireClientCert?: boolean;
}

export interface ListenerSettings {
  /** Plain MQTT over TCP. */
  tcp: EndpointSettings;
  /** MQTT over WebSocket (browser dashboards); omitted = off. */
  ws?: WebSocketListenerSettings;
  /** MQTT over TLS on its own port; omitted = off. */
  tls?: TlsListenerSettings;
}

export interface ListenerPorts {
  tcpPort: number;
  wsPort?: number;
  tlsPort?: number;
}

export interface OpenListeners {
  ports: ListenerPorts;
  /** Stops accepting; resolves once every server is closed. Call after the broker closed its clients. */
  stopAccepting(): Promise<void>;
  /** Destroys connections the broker does not know about (e.g. sockets that never sent CONNECT). */
  destroyConnections(): void;
}

export type ConnectionHandler = (stream: Duplex, req?: IncomingMessage) => void;

export const DEFAULT_WEBSOCKET_PATH = '/mqtt';

/** Opens the TCP, WebSocket and (optional) TLS listeners; on any bind failure closes what it opened and throws. */
export async function openListeners(settings: ListenerSettings, handle: ConnectionHandler, log: Logger): Promise<OpenListeners> {
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const track = (socket: Socket): void => {
    sockets.add(socket);
    // Nagle's algorithm holds a request's response back until the client's delayed ACK of the
    // PUBACK before it (40 ms on Linux, twice per round trip): every request took ~88 ms.
    socket.setNoDelay(true);
    // A reset before the broker attaches its own handler must not become an uncaught 'error'.
    socket.on('error', (err) => log.debug({ err, remote: socket.remoteAddress }, 'mqtt socket error'));
    socket.once('close', () => sockets.delete(socket));
  };

  const destroyConnections = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  const stopAccepting = async (): Promise<void> => {
    await Promise.all(servers.map((server) => closeServer(server)));
  };

  try {
    const tcp = createNetServer((socket) => handle(socket));
    tcp.on('connection', track);
    servers.push(tcp);
    const ports: ListenerPorts = { tcpPort: await listen(tcp, settings.tcp.host, settings.tcp.port, 'TCP', log) };

    if (settings.ws) ports.wsPort = await openWebSocketListener(settings.ws, handle, servers, track, log);

    if (settings.tls) {
      const tls = settings.tls;
      const secure = createTlsServer(
        {
          cert: readTlsFile(tls.cert, 'cert'),
          key: readTlsFile(tls.key, 'key'),
          ...(tls.ca ? { ca: readTlsFile(tls.ca, 'ca') } : {}),
          requestCert: tls.requireClientCert === true,
          rejectUnauthorized: tls.requireClientCert === true,
        },
        (socket) => handle(socket),
      );
      secure.on('connection', track);
      secure.on('tlsClientError', (err, socket) => log.warn({ err: err.message, remote: socket.remoteAddress }, 'mqtt TLS handshake failed'));
      servers.push(secure);
      ports.tlsPort = await listen(secure, tls.host ?? '0.0.0.0', tls.port, 'TLS', log);
    }
    return { ports, stopAccepting, destroyConnections };
  } catch (err) {
    destroyConnections();
    await stopAccepting();
    throw err;
  }
}

async function openWebSocketListener(
  settings: WebSocketListenerSettings,
  handle: ConnectionHandler,
  servers: Server[],
  track: (socket: Socket) => void,
  log: Logger,
): Promise<number> {
  const wss = new WebSocketServer({ noServer: true, ...(settings.maxPayloadBytes !== undefined ? { maxPayload: settings.maxPayloadBytes } : {}) });
  wss.on('error', (err) => log.warn({ err }, 'mqtt websocket server error'));
  const wsPath = settings.path ?? DEFAULT_WEBSOCKET_PATH;
  const http = createHttpServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(`MQTT over WebSocket is served at ${wsPath}\n`);
  });
  http.on('connection', track);
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== wsPath) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      handle(stream, req);
    });
  });
  http.once('close', () => wss.close());
  servers.push(http);
  return listen(http, settings.host, settings.port, 'WebSocket', log);
}

function listen(server: Server, host: string, port: number, label: string, log: Logger): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const why = err.code === 'EADDRINUSE' ? 'address already in use (is another MQTT broker such as mosquitto running?)' : err.message;
      reject(new Error(`MQTT ${label} listener cannot bind ${formatHostPort(host, port)}: ${why}`, { cause: err }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      server.on('error', (err) => log.error({ err, listener: label }, 'mqtt listener error'));
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function readTlsFile(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`MQTT TLS ${field} ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
}
