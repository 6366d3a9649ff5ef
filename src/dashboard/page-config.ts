import type { DashboardServerOptions } from './server.js';

/** What the page may know before log-in: public facts only, never users or passwords. */
export interface PageConfig {
  hallId: string;
  hallName: { zh: string; en: string };
  baseTopic: string;
  /** The page builds `ws://<location.hostname>:<port><path>` from this; null = MQTT over WS is off. */
  ws: { port: number; path: string } | null;
}

export function pageConfig(options: Pick<DashboardServerOptions, 'hallId' | 'hallName' | 'ws'>): PageConfig {
  return {
    hallId: options.hallId,
    hallName: { zh: options.hallName.zh, en: options.hallName.en },
    baseTopic: `hall/${options.hallId}`,
    ws: options.ws ? { port: options.ws.port, path: options.ws.path } : null,
  };
}
