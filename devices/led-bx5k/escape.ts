/**
 * BX-5K byte stuffing. 0xA5 (preamble) and 0x5A (end) never appear inside a packet on the wire:
 * A5 -> A6 02, A6 -> A6 01, 5A -> 5B 02, 5B -> 5B 01.
 */

export const PREAMBLE_BYTE = 0xa5;
export const END_BYTE = 0x5a;
export const PREAMBLE_LENGTH = 8;

export function escapePacket(packet: Uint8Array): Buffer {
  const out: number[] = [];
  for (const byte of packet) {
    if (byte === 0xa5) out.push(0xa6, 0x02);
    else if (byte === 0xa6) out.push(0xa6, 0x01);
    else if (byte === 0x5a) out.push(0x5b, 0x02);
    else if (byte === 0x5b) out.push(0x5b, 0x01);
    else out.push(byte);
  }
  return Buffer.from(out);
}

/** Undoes escapePacket; undefined when an escape byte is followed by anything but 01/02. */
export function unescapePacket(escaped: Uint8Array): Buffer | undefined {
  const out = Buffer.allocUnsafe(escaped.length);
  let n = 0;
  for (let i = 0; i < escaped.length; i += 1) {
    const byte = escaped[i]!;
    if (byte === 0xa6 || byte === 0x5b) {
      const next = escaped[i + 1];
      if (next !== 0x01 && next !== 0x02) return undefined;
      out[n++] = byte === 0xa6 ? (next === 0x02 ? 0xa5 : 0xa6) : next === 0x02 ? 0x5a : 0x5b;
      i += 1;
    } else {
      out[n++] = byte;
    }
  }
  return out.subarray(0, n);
}

/** The bytes on the wire: 8 x A5, escaped packet, 5A. */
export function wrapFrame(packet: Uint8Array): Buffer {
  return Buffer.concat([Buffer.alloc(PREAMBLE_LENGTH, PREAMBLE_BYTE), escapePacket(packet), Buffer.of(END_BYTE)]);
}
