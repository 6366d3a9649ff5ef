import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../platform/logger.js';
import { pageConfig } from './page-config.js';
import { securityHeaders } from './security-headers.js';
import { findDashboardRoot, findMqttBrowserBundle, readStatic, resolveInside } from './static-files.js';

export interface DashboardServerOptions {
  host: string;
  port: number;
  hallId: string;
  hallName: { zh: string; en: string };
  /** The broker's WebSocket listener the page connects to; absent = MQTT over WS is off. */
  ws: { port: number; path: string } | undefined;
  log: Logger;
  /** More pages served beside the dashboard (the visitor pages: /display, /t/...), tried first. */
  routes?: HttpRoute[];
}

/** What a route may answer with: the dashboard's headers on every response. */
export interface RouteReply {
  readonly res: ServerResponse;
  readonly head: boolean;
  /** The security headers every response carries (a stream adds its own content type). */
  readonly headers: Record<string, string>;
  send(status: number, type: string, body: Buffer | string): true;
  /** A file of the dashboard folder. */
  file(name: string): Promise<true>;
  notFound(): true;
}

/** Handles a request and returns true, or returns false to let the next route (or the files) have it. */
export type HttpRoute = (req: IncomingMessage, url: URL, reply: RouteReply) => boolean | Promise<boolean>;

export interface RunningDashboard {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves the operator dashboard: static files, the mqtt.js browser bundle and `/config.json`.
 * It has no API of its own: the page talks to the hall over MQTT/WebSocket with the operator's
 * credentials, so anything it does any MQTT client can do.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<RunningDashboard> {
  const root = findDashboardRoot();
  const mqttBundle = findMqttBrowserBundle();
  const headers = securityHeaders(options.ws?.port);
  const configBody = Buffer.from(JSON.stringify(pageConfig(options)));
  const log = options.log;
  if (!options.ws) log.warn('MQTT over WebSocket is off (mqtt.ws in the config): the dashboard page cannot connect');

  const send = (res: ServerResponse, status: number, type: string, body: Buffer | string, head: boolean): void => {
    const buffer = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': buffer.length });
    res.end(head ? undefined : buffer);
  };

  const notFound = (res: ServerResponse, head: boolean): true => {
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    return true;
  };
  const routeReply = (res: ServerResponse, head: boolean): RouteReply => ({
    res,
    head,
    headers,
    send: (status, type, body) => {
      send(res, status, type, body, head);
      return true;
    },
    file: async (name) => {
      const found = await readStatic(join(root, name));
      if (!found) return notFound(res, head);
      send(res, 200, found.type, found.body, head);
      return true;
    },
    notFound: () => notFound(res, head),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!.split('#')[0]!;
    if (options.routes?.length) {
      const reply = routeReply(res, head);
      let url: URL | undefined;
      try {
        url = new URL(req.url ?? '/', 'http://box');
      } catch {
        url = undefined;
      }
      for (const route of url ? options.routes : []) if (await route(req, url!, reply)) return;
    }
    if (path === '/config.json') return send(res, 200, 'application/json; charset=utf-8', configBody, head);
    const file = path === '/vendor/mqtt.min.js' ? mqttBundle : resolveInside(root, path === '/' ? '/index.html' : path);
    const found = file ? await readStatic(file) : undefined;
    if (!found) {
      log.debug({ path }, 'dashboard: not found');
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    }
    send(res, 200, found.type, found.body, head);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, path: req.url }, 'dashboard request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else res.destroy();
    });
  });
  // A client speaking garbage must not leave sockets hanging or reach the process's error handler.
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolvePromise, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new Error(`dashboard cannot listen on ${options.host}:${options.port}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`));
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolvePromise();
    });
  });
  server.on('error', (err) => log.error({ err }, 'dashboard server error'));
  const port = (server.address() as AddressInfo).port;
  log.info({ port, host: options.host, root }, 'dashboard listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      })),
  };
}
