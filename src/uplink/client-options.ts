import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { UplinkSection } from '../config/uplink-section.js';

/** Where the uplink publishes: the central broker's URL (without secrets) and the topic prefix. */
export interface UplinkTarget {
  url: string;
  prefix: string;
  clientId: string;
}

export function uplinkTarget(section: UplinkSection, hallId: string): UplinkTarget {
  return {
    url: section.url,
    prefix: section.topicPrefix ?? `hall/${hallId}`,
    clientId: section.clientId ?? `hall-edge-${hallId}`,
  };
}

/**
 * mqtt.js options for one connection attempt. Each attempt is a fresh client with a clean
 * session and no automatic reconnect: the uplink resends from its own cursor, so mqtt.js's
 * in-memory resend store must never hold (and later replay) messages of a dead connection.
 * Files are read here, at every attempt, so a rotated certificate or password is picked up.
 */
export function uplinkClientOptions(section: UplinkSection, target: UplinkTarget, will: string): IClientOptions {
  const options: IClientOptions = {
    clientId: target.clientId,
    protocolVersion: section.protocolVersion,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 30,
    will: { topic: `${target.prefix}/uplink/state`, payload: Buffer.from(will), qos: 1, retain: true },
  };
  if (section.username !== undefined) options.username = section.username;
  if (section.passwordFile !== undefined) options.password = readSecret(section.passwordFile, 'uplink.passwordFile');
  if (section.ca !== undefined) options.ca = readFile(section.ca, 'uplink.ca');
  if (section.cert !== undefined) options.cert = readFile(section.cert, 'uplink.cert');
  if (section.key !== undefined) options.key = readFile(section.key, 'uplink.key');
  if (section.url.startsWith('mqtts://')) options.rejectUnauthorized = true;
  return options;
}

/** The password file's first line (an editor's trailing newline is not part of it). */
function readSecret(path: string, field: string): string {
  const text = readFile(path, field).toString('utf8');
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  if (line.length === 0) throw new Error(`${field}: ${path} is empty`);
  return line;
}

function readFile(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${field}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
