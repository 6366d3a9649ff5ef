import { decodeArgText, encodeArgText } from './gb2312.js';
import {
  HOST_VERBS,
  LED_COLOURS,
  LED_PATTERNS,
  MAX_ADDRESS,
  MAX_LINE_BYTES,
  MAX_TEXT_BYTES,
  MIN_ADDRESS,
  PAD_VERBS,
  type Frame,
  type HostFrame,
  type HostMessage,
  type LedColour,
  type LedPattern,
  type PadFrame,
  type PadMessage,
  type RatingLevel,
} from './messages.js';

/**
 * Pure encode/decode of counter-pad lines (firmware-protocols/counter-pad.md):
 *   <start><addr 2 hex><seq 1 hex>|<VERB>[|<arg>...]*<XOR 2 hex>\r\n
 * start '<' = pad → host, '>' = host → pad. The XOR covers every byte before '*'.
 * decode never throws: anything wrong comes back as a typed rejection.
 */

export type RejectionReason =
  | 'empty'
  | 'too-long'
  | 'bad-start'
  | 'bad-checksum'
  | 'bad-header'
  | 'bad-address'
  | 'unknown-verb'
  | 'bad-args';

export interface Rejection {
  ok: false;
  reason: RejectionReason;
  detail: string;
  /** When the header was readable: which pad the line claims to be about. */
  address?: number;
}

export type DecodeResult = { ok: true; frame: Frame } | Rejection;

export class CounterPadCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CounterPadCodecError';
  }
}

const PIPE = 0x7c;
const STAR = 0x2a;
const TO_HOST = 0x3c; // '<'
const TO_PAD = 0x3e; // '>'

const TICKET = /^[A-Z]{1,2}[0-9]{1,4}$/;
const IDENT = /^[A-Za-z0-9_-]{1,16}$/;
const PIN = /^[0-9]{4,8}$/;
const FIRMWARE = /^[A-Za-z0-9._-]{1,16}$/;
const WINDOW_NUMBER = /^[1-9][0-9]{0,2}$/;
const DIGIT_1_TO_5 = /^[1-5]$/;
const BEEP_COUNT = /^[1-9]$/;
const SECONDS = /^[1-9][0-9]{0,2}$/;

export function xorChecksum(bytes: Buffer, end = bytes.length): number {
  let sum = 0;
  for (let i = 0; i < end; i += 1) sum ^= bytes[i]!;
  return sum;
}

function hex(value: number, width: number): string {
  return value.toString(16).toUpperCase().padStart(width, '0');
}

// ---------------------------------------------------------------- encode

function textArg(text: string, what: string): Buffer {
  const bytes = encodeArgText(text);
  if (!bytes) throw new CounterPadCodecError(`${what} "${text}" has characters that are not printable ASCII or GB2312 (or are '|' / '*')`);
  if (bytes.length > MAX_TEXT_BYTES) throw new CounterPadCodecError(`${what} is ${bytes.length} bytes; at most ${MAX_TEXT_BYTES}`);
  return bytes;
}

function asciiArg(value: string, pattern: RegExp, what: string): Buffer {
  if (!pattern.test(value)) throw new CounterPadCodecError(`${what} "${value}" does not match ${pattern}`);
  return Buffer.from(value, 'ascii');
}

function padArgs(message: PadMessage): Buffer[] {
  switch (message.verb) {
    case 'LOGIN':
      return message.pin === undefined
        ? [asciiArg(message.staffId, IDENT, 'staff id')]
        : [asciiArg(message.staffId, IDENT, 'staff id'), asciiArg(message.pin, PIN, 'PIN')];
    case 'TRANSFER':
      return 'toServiceId' in message
        ? [Buffer.from('S'), asciiArg(message.toServiceId, IDENT, 'service id')]
        : [Buffer.from('W'), asciiArg(String(message.toWindowNumber), WINDOW_NUMBER, 'window number')];
    case 'PAUSE':
      return message.reason === undefined ? [] : [textArg(message.reason, 'pause reason')];
    case 'HEARTBEAT':
      return [asciiArg(message.firmware, FIRMWARE, 'firmware version')];
    case 'RATING':
      return [asciiArg(message.ticket, TICKET, 'ticket'), asciiArg(String(message.level), DIGIT_1_TO_5, 'rating level')];
    case 'RATE-TIMEOUT':
      return [asciiArg(message.ticket, TICKET, 'ticket')];
    default:
      return [];
  }
}

function hostArgs(message: HostMessage): Buffer[] {
  switch (message.verb) {
    case 'ACK':
      if (message.ok) return message.text === undefined ? [Buffer.from('OK')] : [Buffer.from('OK'), textArg(message.text, 'ACK text')];
      return [Buffer.from('NO'), textArg(message.text ?? '', 'refusal text')];
    case 'DISP':
      return message.line2 === undefined
        ? [textArg(message.line1, 'display line 1')]
        : [textArg(message.line1, 'display line 1'), textArg(message.line2, 'display line 2')];
    case 'BEEP':
      return [asciiArg(String(message.count), BEEP_COUNT, 'beep count')];
    case 'LED':
      if (!LED_COLOURS.includes(message.colour) || !LED_PATTERNS.includes(message.pattern)) {
        throw new CounterPadCodecError(`LED ${message.colour}/${message.pattern} is not a known colour/pattern`);
      }
      return [Buffer.from(message.colour), Buffer.from(message.pattern)];
    case 'RATE-REQ':
      return [asciiArg(message.ticket, TICKET, 'ticket'), asciiArg(String(message.timeoutSeconds), SECONDS, 'timeout seconds')];
  }
}

/** The bytes of one frame, CR LF included. Throws CounterPadCodecError on values the protocol cannot carry. */
export function encodeFrame(frame: Frame): Buffer {
  if (!Number.isInteger(frame.address) || frame.address < MIN_ADDRESS || frame.address > MAX_ADDRESS) {
    throw new CounterPadCodecError(`address ${frame.address} is outside ${MIN_ADDRESS}..${MAX_ADDRESS}`);
  }
  if (!Number.isInteger(frame.seq) || frame.seq < 0 || frame.seq > 15) throw new CounterPadCodecError(`seq ${frame.seq} is outside 0..15`);
  const start = frame.direction === 'to-host' ? '<' : '>';
  const args = frame.direction === 'to-host' ? padArgs(frame.message) : hostArgs(frame.message);
  const parts: Buffer[] = [Buffer.from(`${start}${hex(frame.address, 2)}${hex(frame.seq, 1)}|${frame.message.verb}`, 'ascii')];
  for (const arg of args) parts.push(Buffer.from('|'), arg);
  const body = Buffer.concat(parts);
  if (body.length + 3 > MAX_LINE_BYTES) throw new CounterPadCodecError(`frame is ${body.length + 3} bytes; at most ${MAX_LINE_BYTES}`);
  return Buffer.concat([body, Buffer.from(`*${hex(xorChecksum(body), 2)}\r\n`, 'ascii')]);
}

export function encodePadFrame(address: number, seq: number, message: PadMessage): Buffer {
  return encodeFrame({ direction: 'to-host', address, seq, message });
}

export function encodeHostFrame(address: number, seq: number, message: HostMessage): Buffer {
  return encodeFrame({ direction: 'to-pad', address, seq, message });
}

// ---------------------------------------------------------------- decode

class ArgsError extends Error {}

function reject(reason: RejectionReason, detail: string, address?: number): Rejection {
  return address === undefined ? { ok: false, reason, detail } : { ok: false, reason, detail, address };
}

function splitPipes(bytes: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  let from = 0;
  for (let i = 0; i <= bytes.length; i += 1) {
    if (i === bytes.length || bytes[i] === PIPE) {
      fields.push(bytes.subarray(from, i));
      from = i + 1;
    }
  }
  return fields;
}

function ascii(field: Buffer | undefined, pattern: RegExp, what: string): string {
  const value = field?.toString('latin1') ?? '';
  if (!pattern.test(value)) throw new ArgsError(`${what} "${value}" is not valid`);
  return value;
}

function text(field: Buffer | undefined, what: string): string {
  if (!field) throw new ArgsError(`${what} missing`);
  if (field.length > MAX_TEXT_BYTES) throw new ArgsError(`${what} is ${field.length} bytes; at most ${MAX_TEXT_BYTES}`);
  const decoded = decodeArgText(field);
  if (decoded === undefined) throw new ArgsError(`${what} is not printable ASCII / GB2312`);
  return decoded;
}

function arity(args: Buffer[], min: number, max: number, verb: string): void {
  if (args.length < min || args.length > max) {
    throw new ArgsError(min === max ? `${verb} takes ${min} argument(s), got ${args.length}` : `${verb} takes ${min}..${max} arguments, got ${args.length}`);
  }
}

function decodePadMessage(verb: string, args: Buffer[]): PadMessage {
  switch (verb) {
    case 'LOGIN': {
      arity(args, 1, 2, verb);
      const staffId = ascii(args[0], IDENT, 'staff id');
      return args.length === 2 ? { verb, staffId, pin: ascii(args[1], PIN, 'PIN') } : { verb, staffId };
    }
    case 'LOGOUT':
    case 'NEXT':
    case 'RECALL':
    case 'SKIP':
    case 'START':
    case 'FINISH':
    case 'RESUME':
    case 'ACK':
      arity(args, 0, 0, verb);
      return { verb };
    case 'TRANSFER': {
      arity(args, 2, 2, verb);
      const kind = args[0]!.toString('latin1');
      if (kind === 'S') return { verb, toServiceId: ascii(args[1], IDENT, 'service id') };
      if (kind === 'W') return { verb, toWindowNumber: Number(ascii(args[1], WINDOW_NUMBER, 'window number')) };
      throw new ArgsError(`TRANSFER target kind "${kind}" is not S or W`);
    }
    case 'PAUSE':
      arity(args, 0, 1, verb);
      return args.length === 1 ? { verb, reason: text(args[0], 'pause reason') } : { verb };
    case 'HEARTBEAT':
      arity(args, 1, 1, verb);
      return { verb, firmware: ascii(args[0], FIRMWARE, 'firmware version') };
    case 'RATING':
      arity(args, 2, 2, verb);
      return { verb, ticket: ascii(args[0], TICKET, 'ticket'), level: Number(ascii(args[1], DIGIT_1_TO_5, 'rating level')) as RatingLevel };
    case 'RATE-TIMEOUT':
      arity(args, 1, 1, verb);
      return { verb, ticket: ascii(args[0], TICKET, 'ticket') };
    default:
      throw new Error(`unreachable pad verb ${verb}`);
  }
}

function decodeHostMessage(verb: string, args: Buffer[]): HostMessage {
  switch (verb) {
    case 'ACK': {
      arity(args, 1, 2, verb);
      const result = args[0]!.toString('latin1');
      if (result === 'OK') return args.length === 2 ? { verb, ok: true, text: text(args[1], 'ACK text') } : { verb, ok: true };
      if (result === 'NO') {
        arity(args, 2, 2, 'ACK|NO');
        return { verb, ok: false, text: text(args[1], 'refusal text') };
      }
      throw new ArgsError(`ACK result "${result}" is not OK or NO`);
    }
    case 'DISP':
      arity(args, 1, 2, verb);
      return args.length === 2 ? { verb, line1: text(args[0], 'line 1'), line2: text(args[1], 'line 2') } : { verb, line1: text(args[0], 'line 1') };
    case 'BEEP':
      arity(args, 1, 1, verb);
      return { verb, count: Number(ascii(args[0], BEEP_COUNT, 'beep count')) };
    case 'LED': {
      arity(args, 2, 2, verb);
      const colour = args[0]!.toString('latin1') as LedColour;
      const pattern = args[1]!.toString('latin1') as LedPattern;
      if (!LED_COLOURS.includes(colour)) throw new ArgsError(`LED colour "${colour}" is not one of ${LED_COLOURS.join('/')}`);
      if (!LED_PATTERNS.includes(pattern)) throw new ArgsError(`LED pattern "${pattern}" is not one of ${LED_PATTERNS.join('/')}`);
      return { verb, colour, pattern };
    }
    case 'RATE-REQ':
      arity(args, 2, 2, verb);
      return { verb, ticket: ascii(args[0], TICKET, 'ticket'), timeoutSeconds: Number(ascii(args[1], SECONDS, 'timeout seconds')) };
    default:
      throw new Error(`unreachable host verb ${verb}`);
  }
}

const HEX2 = /^[0-9A-Fa-f]{2}$/;
const HEX1 = /^[0-9A-Fa-f]$/;

/**
 * Decodes one line (without its CR LF; a trailing CR is tolerated). Never throws.
 */
export function decodeLine(input: Buffer): DecodeResult {
  const line = input.length > 0 && input[input.length - 1] === 0x0d ? input.subarray(0, input.length - 1) : input;
  if (line.length === 0) return reject('empty', 'empty line');
  if (line.length > MAX_LINE_BYTES) return reject('too-long', `line is ${line.length} bytes; at most ${MAX_LINE_BYTES}`);
  const start = line[0];
  if (start !== TO_HOST && start !== TO_PAD) return reject('bad-start', `line starts with 0x${hex(start!, 2)}, not '<' or '>'`);
  const star = line.indexOf(STAR);
  if (star < 0 || star !== line.length - 3) return reject('bad-checksum', "no '*' followed by exactly two checksum digits at the end");
  const checksumText = line.subarray(star + 1).toString('latin1');
  if (!HEX2.test(checksumText)) return reject('bad-checksum', `checksum "${checksumText}" is not two hex digits`);
  const expected = xorChecksum(line, star);
  if (parseInt(checksumText, 16) !== expected) return reject('bad-checksum', `checksum ${checksumText.toUpperCase()} but the bytes give ${hex(expected, 2)}`);

  const addressText = line.subarray(1, 3).toString('latin1');
  const seqText = line.subarray(3, 4).toString('latin1');
  if (star < 5 || !HEX2.test(addressText) || !HEX1.test(seqText) || line[4] !== PIPE) {
    return reject('bad-header', "header is not <addr 2 hex><seq 1 hex>'|'");
  }
  const address = parseInt(addressText, 16);
  const seq = parseInt(seqText, 16);
  if (address < MIN_ADDRESS || address > MAX_ADDRESS) return reject('bad-address', `address ${addressText} is reserved (pads use 01..FE)`, address);

  const [verbField, ...args] = splitPipes(line.subarray(5, star));
  const verb = verbField!.toString('latin1');
  const toHost = start === TO_HOST;
  const verbs: readonly string[] = toHost ? PAD_VERBS : HOST_VERBS;
  if (!verbs.includes(verb)) {
    return reject('unknown-verb', `"${verb.slice(0, 16)}" is not a ${toHost ? 'pad → host' : 'host → pad'} verb`, address);
  }
  try {
    if (toHost) {
      const frame: PadFrame = { direction: 'to-host', address, seq, message: decodePadMessage(verb, args) };
      return { ok: true, frame };
    }
    const frame: HostFrame = { direction: 'to-pad', address, seq, message: decodeHostMessage(verb, args) };
    return { ok: true, frame };
  } catch (err) {
    if (err instanceof ArgsError) return reject('bad-args', `${verb}: ${err.message}`, address);
    return reject('bad-args', `${verb}: ${(err as Error).message}`, address);
  }
}

