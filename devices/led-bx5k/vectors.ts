import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** firmware-protocols/vectors/led-bx5k.json, typed: shared by the codec and simulator tests. */

export interface RequestVector {
  name: string;
  command: string;
  destination: number;
  responseFlag: number;
  packet: string;
  frame: string;
  crc: string;
  note: string;
  area?: { areaId: number; x: number; y: number; width: number; height: number; textHex: string; text: string };
}

export interface ReplyVector {
  name: string;
  source: number;
  group: number;
  command: number;
  code: number;
  dataHex: string;
  packet: string;
  frame: string;
}

export interface Bx5kVectors {
  requests: RequestVector[];
  replies: ReplyVector[];
  escapes: Array<{ raw: string; escaped: string }>;
  captures: Array<{ name: string; packet: string; frame: string; area: { areaId: number; x: number; y: number; width: number; height: number; text: string } }>;
}

export function loadBx5kVectors(): Bx5kVectors {
  const path = fileURLToPath(new URL('../../firmware-protocols/vectors/led-bx5k.json', import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as Bx5kVectors;
}

export const hex = (text: string): Buffer => Buffer.from(text, 'hex');
