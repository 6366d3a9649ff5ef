import { z } from 'zod';
import { strictObject } from './strict-object.js';

/**
 * `uplink:` — the hall's outbound link to the city's central broker (Mosquitto or EMQX). The box
 * connects out (halls sit behind NAT), so only the central broker needs to be reachable.
 * Secrets never sit in this file: the password is read from `passwordFile`.
 */
const brokerUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL (expected mqtt://host:port or mqtts://host:port)` });
    return;
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
    ctx.addIssue({ code: 'custom', message: `"${value}" must start with mqtt:// or mqtts://` });
  } else if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'credentials do not belong in the URL: use uplink.username and uplink.passwordFile' });
  } else if (url.pathname !== '' && url.pathname !== '/') {
    ctx.addIssue({ code: 'custom', message: `"${value}" has a path; an MQTT broker URL is mqtt(s)://host:port` });
  }
});

/** Topic levels without wildcards, e.g. `city/district-3/hall/zhifu`. */
const topicPrefix = z.string().max(200).superRefine((value, ctx) => {
  if (!/^[^/+#\u0000\s]+(\/[^/+#\u0000\s]+)*$/.test(value)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a topic prefix (levels separated by "/", no "+", "#", spaces, or leading/trailing "/")` });
  }
});

export const uplinkSection = strictObject({
  url: brokerUrl,
  username: z.string().min(1).max(128).optional(),
  passwordFile: z.string().min(1).optional(),
  /** TLS (mqtts://): the CA that signed the central broker's certificate, and a client certificate if it asks for one. */
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** Default `hall/<hallId>`, the same base as on the box. */
  topicPrefix: topicPrefix.optional(),
  /** Default `hall-edge-<hallId>`; the central ACL may tie it to the hall's user. */
  clientId: z.string().min(1).max(128).optional(),
  protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
  /** Events per message while catching up (live, a message carries what one command wrote). */
  batchEvents: z.number().int().min(1).max(1000).default(500),
  /** Messages sent and not yet acknowledged (PUBACK) at once. */
  inflightBatches: z.number().int().min(1).max(64).default(8),
  reconnectMaxSeconds: z.number().min(0.1).max(600).default(30),
  alarm: strictObject({
    /** `uplink.backlog` is raised when the central broker has been unreachable this long ... */
    unreachableSeconds: z.number().min(1).max(7 * 24 * 3600).default(600),
    /** ... or when this many journaled events are not yet acknowledged by it. */
    backlogEvents: z.number().int().min(1).default(5000),
  }).prefault({}),
}).superRefine((uplink, ctx) => {
  if (uplink.passwordFile !== undefined && uplink.username === undefined) {
    ctx.addIssue({ code: 'custom', path: ['username'], message: 'passwordFile is set but username is not: the central broker needs both' });
  }
  if ((uplink.cert === undefined) !== (uplink.key === undefined)) {
    ctx.addIssue({ code: 'custom', path: [uplink.cert === undefined ? 'cert' : 'key'], message: 'a client certificate needs both cert and key' });
  }
  const tlsFiles = uplink.ca ?? uplink.cert ?? uplink.key;
  if (tlsFiles !== undefined && uplink.url.startsWith('mqtt://')) {
    ctx.addIssue({ code: 'custom', path: ['url'], message: 'TLS files are set but the URL is mqtt:// (plain TCP): use mqtts://' });
  }
});

export type UplinkSection = z.output<typeof uplinkSection>;
