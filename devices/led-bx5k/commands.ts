import { encodeFrame, HOST_ADDRESS, ResponseFlag, type Bx5kPacket } from './packet.js';
import { encodeDisplayText, decodeDisplayText } from './text.js';

/** The BX-5K commands hall-edge uses (group, command). */
export const Command = {
  ping: { group: 0xa2, command: 0x00 },
  readStatus: { group: 0xa1, command: 0x02 },
  clearDynamicAreas: { group: 0xa3, command: 0x10 },
  dynamicArea: { group: 0xa3, command: 0x06 },
} as const;

export type CommandName = keyof typeof Command;

export function commandName(group: number, command: number): CommandName | undefined {
  for (const [name, id] of Object.entries(Command)) if (id.group === group && id.command === command) return name as CommandName;
  return undefined;
}

/**
 * One dynamic area (27-byte header + text). Geometry is in the controller's units: x and width in
 * 8-pixel columns, y and height in pixels. Defaults are the values seen in real controller traffic.
 */
export interface DynamicArea {
  areaId: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Text with inline codes (\FO000, \C1); encoded GBK. */
  text: string;
  areaType?: number;
  lineSpacing?: number;
  /** 1 = stay on the last page after showing (what a window display wants). */
  runMode?: number;
  timeoutSeconds?: number;
  singleLine?: number;
  newLine?: number;
  /** 1 = static. */
  displayMode?: number;
  exitMode?: number;
  speed?: number;
  /** Half-seconds. */
  stayTime?: number;
}

export const DYNAMIC_AREA_HEADER_LENGTH = 27;

export const AREA_DEFAULTS = {
  areaType: 0x00,
  lineSpacing: 0x0a,
  runMode: 0x01,
  timeoutSeconds: 2,
  singleLine: 0x01,
  newLine: 0x01,
  displayMode: 0x01,
  exitMode: 0x00,
  speed: 0x17,
  stayTime: 0x02,
} as const;

export function encodeDynamicArea(area: DynamicArea): Buffer {
  const a = { ...AREA_DEFAULTS, ...area };
  const text = encodeDisplayText(a.text);
  const out = Buffer.alloc(DYNAMIC_AREA_HEADER_LENGTH + text.length);
  out[0] = a.areaType;
  out.writeUInt16LE(a.x, 1);
  out.writeUInt16LE(a.y, 3);
  out.writeUInt16LE(a.width, 5);
  out.writeUInt16LE(a.height, 7);
  out[9] = a.areaId;
  out[10] = a.lineSpacing;
  out[11] = a.runMode;
  out.writeUInt16LE(a.timeoutSeconds, 12);
  // 14..16 reserved
  out[17] = a.singleLine;
  out[18] = a.newLine;
  out[19] = a.displayMode;
  out[20] = a.exitMode;
  out[21] = a.speed;
  out[22] = a.stayTime;
  out.writeUInt32LE(text.length, 23);
  text.copy(out, DYNAMIC_AREA_HEADER_LENGTH);
  return out;
}

/** A3 06 payload: deleteCount u8, deleteIds..., areaCount u8, then per area: length u16 + area. */
export function dynamicAreaPayload(areas: DynamicArea[], deleteAreaIds: number[] = []): Buffer {
  const parts: Buffer[] = [Buffer.of(deleteAreaIds.length, ...deleteAreaIds, areas.length)];
  for (const area of areas) {
    const encoded = encodeDynamicArea(area);
    const length = Buffer.alloc(2);
    length.writeUInt16LE(encoded.length);
    parts.push(length, encoded);
  }
  return Buffer.concat(parts);
}

export interface DecodedDynamicAreas {
  deleteAreaIds: number[];
  areas: Array<Required<DynamicArea>>;
}

/** Parses an A3 06 payload; throws a descriptive Error on malformed input (callers catch). */
export function decodeDynamicAreaPayload(payload: Buffer): DecodedDynamicAreas {
  let at = 0;
  const need = (n: number): void => {
    if (at + n > payload.length) throw new Error(`dynamic area payload truncated at byte ${at} (needs ${n} more)`);
  };
  need(1);
  const deleteCount = payload[at++]!;
  need(deleteCount + 1);
  const deleteAreaIds = [...payload.subarray(at, at + deleteCount)];
  at += deleteCount;
  const areaCount = payload[at++]!;
  const areas: Array<Required<DynamicArea>> = [];
  for (let i = 0; i < areaCount; i += 1) {
    need(2);
    const length = payload.readUInt16LE(at);
    at += 2;
    need(length);
    if (length < DYNAMIC_AREA_HEADER_LENGTH) throw new Error(`dynamic area ${i} is ${length} bytes, shorter than its header`);
    const a = payload.subarray(at, at + length);
    const textLength = a.readUInt32LE(23);
    if (DYNAMIC_AREA_HEADER_LENGTH + textLength !== length) throw new Error(`dynamic area ${i}: text length ${textLength} does not fit area length ${length}`);
    areas.push({
      areaType: a[0]!,
      x: a.readUInt16LE(1),
      y: a.readUInt16LE(3),
      width: a.readUInt16LE(5),
      height: a.readUInt16LE(7),
      areaId: a[9]!,
      lineSpacing: a[10]!,
      runMode: a[11]!,
      timeoutSeconds: a.readUInt16LE(12),
      singleLine: a[17]!,
      newLine: a[18]!,
      displayMode: a[19]!,
      exitMode: a[20]!,
      speed: a[21]!,
      stayTime: a[22]!,
      text: decodeDisplayText(a.subarray(DYNAMIC_AREA_HEADER_LENGTH)),
    });
    at += length;
  }
  if (at !== payload.length) throw new Error(`dynamic area payload has ${payload.length - at} trailing byte(s)`);
  return { deleteAreaIds, areas };
}

export interface RequestOptions {
  /** 0x02 when no answer is wanted (broadcasts). */
  responseFlag?: number;
}

function request(name: CommandName, destination: number, payload: Buffer, options: RequestOptions = {}): Buffer {
  return encodeFrame({ destination, ...Command[name], payload, responseFlag: options.responseFlag ?? ResponseFlag.wanted });
}

export const pingFrame = (destination: number, options?: RequestOptions): Buffer => request('ping', destination, Buffer.alloc(0), options);
export const readStatusFrame = (destination: number, options?: RequestOptions): Buffer =>
  request('readStatus', destination, Buffer.alloc(0), options);
export const clearDynamicAreasFrame = (destination: number, options?: RequestOptions): Buffer =>
  request('clearDynamicAreas', destination, Buffer.alloc(0), options);
export const dynamicAreaFrame = (destination: number, areas: DynamicArea[], options?: RequestOptions & { deleteAreaIds?: number[] }): Buffer =>
  request('dynamicArea', destination, dynamicAreaPayload(areas, options?.deleteAreaIds), options);

/**
 * A controller's answer: sent from its address to the host, echoing the request's group and
 * command, payload = status code u8 followed by command-specific data (A1 02: the status block).
 */
export function replyFrame(from: number, group: number, command: number, code: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return encodeFrame({
    destination: HOST_ADDRESS,
    source: from,
    group,
    command,
    responseFlag: ResponseFlag.none,
    payload: Buffer.concat([Buffer.of(code), data]),
  });
}

export interface Reply {
  from: number;
  group: number;
  command: number;
  code: number;
  data: Buffer;
}

/** A packet addressed to the host with a status byte, or undefined. */
export function asReply(packet: Bx5kPacket): Reply | undefined {
  if (packet.destination !== HOST_ADDRESS || packet.payload.length < 1) return undefined;
  return { from: packet.source, group: packet.group, command: packet.command, code: packet.payload[0]!, data: packet.payload.subarray(1) };
}

/** A1 02 status block in our simulator and in what we parse: brightness u8, screen on u8, dynamic area count u8. */
export interface ControllerStatus {
  brightness: number;
  screenOn: boolean;
  dynamicAreas: number;
}

export function encodeStatus(status: ControllerStatus): Buffer {
  return Buffer.of(status.brightness, status.screenOn ? 1 : 0, status.dynamicAreas);
}

export function decodeStatus(data: Buffer): ControllerStatus | undefined {
  if (data.length < 3) return undefined;
  return { brightness: data[0]!, screenOn: data[1] === 1, dynamicAreas: data[2]! };
}

