import { crc16Arc } from './crc16.js';
import { wrapFrame } from './escape.js';

/**
 * One BX-5K packet (unescaped, little-endian):
 *   dst u16 | src u16 | reserved x6 | deviceType u8 | protocolVersion u8 | dataLength u16 |
 *   group u8 | command u8 | responseFlag u8 | reserved x2 | payload | crc u16
 * dataLength counts group .. end of payload (5 + payload.length), not the CRC: confirmed against a
 * public capture of a real controller frame (see firmware-protocols/led-bx5k.md).
 */

export const HOST_ADDRESS = 0x8000;
export const BROADCAST_ADDRESS = 0xfffe;
export const DEFAULT_DISPLAY_ADDRESS = 0x0001;
export const DEVICE_TYPE_ANY = 0xfe;
export const PROTOCOL_VERSION = 0x02;
export const HEADER_LENGTH = 14;
/** group, command, response flag, 2 reserved */
export const COMMAND_HEAD_LENGTH = 5;
export const CRC_LENGTH = 2;
export const MIN_PACKET_LENGTH = HEADER_LENGTH + COMMAND_HEAD_LENGTH + CRC_LENGTH;

export const ResponseFlag = { wanted: 0x01, none: 0x02 } as const;

export interface Bx5kPacket {
  destination: number;
  source: number;
  deviceType: number;
  protocolVersion: number;
  group: number;
  command: number;
  responseFlag: number;
  payload: Buffer;
}

export type PacketInit = Pick<Bx5kPacket, 'destination' | 'group' | 'command' | 'payload'> & Partial<Bx5kPacket>;

/** The unescaped packet bytes, CRC included. */
export function encodePacket(init: PacketInit): Buffer {
  const packet = Buffer.alloc(HEADER_LENGTH + COMMAND_HEAD_LENGTH + init.payload.length + CRC_LENGTH);
  packet.writeUInt16LE(init.destination, 0);
  packet.writeUInt16LE(init.source ?? HOST_ADDRESS, 2);
  // 4..9 reserved, zero
  packet[10] = init.deviceType ?? DEVICE_TYPE_ANY;
  packet[11] = init.protocolVersion ?? PROTOCOL_VERSION;
  packet.writeUInt16LE(COMMAND_HEAD_LENGTH + init.payload.length, 12);
  packet[14] = init.group;
  packet[15] = init.command;
  packet[16] = init.responseFlag ?? ResponseFlag.wanted;
  // 17..18 reserved, zero
  init.payload.copy(packet, 19);
  packet.writeUInt16LE(crc16Arc(packet, 0, packet.length - CRC_LENGTH), packet.length - CRC_LENGTH);
  return packet;
}

/** The frame on the wire for a packet. */
export function encodeFrame(init: PacketInit): Buffer {
  return wrapFrame(encodePacket(init));
}

export type PacketProblem = 'too-short' | 'length-mismatch' | 'crc';

export interface PacketRejection {
  problem: PacketProblem;
  /** The source address the (unverified) header claims, when there is a header. */
  claimedSource?: number;
}

/** Parses an unescaped packet; checks length and CRC. */
export function parsePacket(bytes: Buffer): Bx5kPacket | PacketRejection {
  if (bytes.length < MIN_PACKET_LENGTH) {
    return bytes.length >= 4 ? { problem: 'too-short', claimedSource: bytes.readUInt16LE(2) } : { problem: 'too-short' };
  }
  const claimedSource = bytes.readUInt16LE(2);
  const dataLength = bytes.readUInt16LE(12);
  if (dataLength < COMMAND_HEAD_LENGTH || HEADER_LENGTH + dataLength + CRC_LENGTH !== bytes.length) {
    return { problem: 'length-mismatch', claimedSource };
  }
  const crc = bytes.readUInt16LE(bytes.length - CRC_LENGTH);
  if (crc16Arc(bytes, 0, bytes.length - CRC_LENGTH) !== crc) return { problem: 'crc', claimedSource };
  return {
    destination: bytes.readUInt16LE(0),
    source: claimedSource,
    deviceType: bytes[10]!,
    protocolVersion: bytes[11]!,
    group: bytes[14]!,
    command: bytes[15]!,
    responseFlag: bytes[16]!,
    payload: Buffer.from(bytes.subarray(19, bytes.length - CRC_LENGTH)),
  };
}

export function isRejection(result: Bx5kPacket | PacketRejection): result is PacketRejection {
  return 'problem' in result;
}
