import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { encodeDisplayText } from './text.js';
import {
  asReply,
  Bx5kDecoder,
  Bx5kReplyError,
  clearDynamicAreasFrame,
  crc16Arc,
  decodeDynamicAreaPayload,
  decodeStatus,
  dynamicAreaFrame,
  escapePacket,
  isRejection,
  parsePacket,
  pingFrame,
  readStatusFrame,
  replyFrame,
  ResponseFlag,
  stripDisplayCodes,
  unescapePacket,
  wrapFrame,
  type Bx5kPacket,
} from './codec.js';
import { hex, loadBx5kVectors } from './vectors.js';

const vectors = loadBx5kVectors();
const request = (name: string) => {
  const v = vectors.requests.find((r) => r.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
};

describe('BX-5K codec against firmware-protocols/vectors/led-bx5k.json', () => {
  it('has the vectors it claims (guards against an empty file)', () => {
    expect(vectors.requests.length).toBeGreaterThanOrEqual(7);
    expect(vectors.replies.length).toBeGreaterThanOrEqual(7);
    expect(vectors.escapes.length).toBeGreaterThanOrEqual(4);
  });

  it('reproduces the known-good degree-Celsius dynamic area vector with CRC 82 DA', () => {
    const v = request('dynamicArea:temper-celsius');
    const area = v.area!;
    const text = `\\FO000TEMPER:21℃`;
    const frame = dynamicAreaFrame(1, [{ areaId: area.areaId, x: area.x, y: area.y, width: area.width, height: area.height, text }], {
      responseFlag: ResponseFlag.none,
    });
    expect(frame.toString('hex')).toBe(v.frame);
    expect(v.crc).toBe('82da');
    const packet = unescapePacket(frame.subarray(8, -1))!;
    expect(packet.subarray(-2).toString('hex')).toBe('82da');
    expect(packet.subarray(-4, -2).toString('hex')).toBe('a1e6');
  });

  it('builds every request byte-exact', () => {
    expect(pingFrame(1).toString('hex')).toBe(request('ping').frame);
    expect(readStatusFrame(1).toString('hex')).toBe(request('readStatus').frame);
    expect(clearDynamicAreasFrame(1).toString('hex')).toBe(request('clearDynamicAreas').frame);
    expect(pingFrame(0xfffe, { responseFlag: ResponseFlag.none }).toString('hex')).toBe(request('ping:broadcast').frame);
    expect(pingFrame(0x5aa5).toString('hex')).toBe(request('ping:escaped-address').frame);
    const call = request('dynamicArea:window-call').area!;
    expect(dynamicAreaFrame(7, [{ ...call, text: call.text }]).toString('hex')).toBe(request('dynamicArea:window-call').frame);
  });

  it('builds every reply byte-exact and reads it back', () => {
    for (const v of vectors.replies) {
      expect(replyFrame(v.source, v.group, v.command, v.code, hex(v.dataHex)).toString('hex'), v.name).toBe(v.frame);
      const [decoded] = new Bx5kDecoder().push(hex(v.frame));
      expect(decoded?.kind, v.name).toBe('packet');
      const reply = asReply((decoded as { packet: Bx5kPacket }).packet)!;
      expect(reply).toMatchObject({ from: v.source, group: v.group, command: v.command, code: v.code });
      expect(reply.data.toString('hex')).toBe(v.dataHex);
    }
    const status = vectors.replies.find((r) => r.name === 'readStatus:ok')!;
    expect(decodeStatus(hex(status.dataHex))).toEqual({ brightness: 15, screenOn: true, dynamicAreas: 2 });
  });

  it('escapes and unescapes per the table', () => {
    for (const v of vectors.escapes) {
      expect(escapePacket(hex(v.raw)).toString('hex')).toBe(v.escaped);
      expect(unescapePacket(hex(v.escaped))?.toString('hex')).toBe(v.raw);
    }
    expect(unescapePacket(Buffer.from([0xa6, 0x03]))).toBeUndefined();
    expect(unescapePacket(Buffer.from([0x5b]))).toBeUndefined();
  });

  it('decodes the public capture of a real controller frame and its dynamic area', () => {
    for (const capture of vectors.captures) {
      const packet = parsePacket(hex(capture.packet));
      expect(isRejection(packet)).toBe(false);
      const { areas } = decodeDynamicAreaPayload((packet as Bx5kPacket).payload);
      expect(areas[0]).toMatchObject(capture.area);
      expect(wrapFrame(hex(capture.packet)).toString('hex')).toBe(capture.frame);
    }
  });

  it('round-trips a GBK dynamic area through decodeDynamicAreaPayload', () => {
    const frame = dynamicAreaFrame(3, [{ areaId: 0, x: 0, y: 0, width: 8, height: 16, text: '\\FO000\\C1暂停服务' }], { deleteAreaIds: [4] });
    const [decoded] = new Bx5kDecoder().push(frame);
    const packet = (decoded as { packet: Bx5kPacket }).packet;
    const { deleteAreaIds, areas } = decodeDynamicAreaPayload(packet.payload);
    expect(deleteAreaIds).toEqual([4]);
    expect(areas[0]!.text).toBe('\\FO000\\C1暂停服务');
    expect(stripDisplayCodes(areas[0]!.text)).toBe('暂停服务');
  });

  it('rejects malformed dynamic area payloads with a descriptive error', () => {
    expect(() => decodeDynamicAreaPayload(Buffer.of(0, 1, 40, 0, 1))).toThrow(/truncated/);
    expect(() => decodeDynamicAreaPayload(Buffer.of(0, 1, 2, 0, 1, 2))).toThrow(/shorter than its header/);
  });

  it('computes CRC-16/ARC (check value 0xBB3D for "123456789")', () => {
    expect(crc16Arc(Buffer.from('123456789'))).toBe(0xbb3d);
  });

  it('maps reply codes to advice', () => {
    expect(new Bx5kReplyError(7, 3).advice).toBe('retry-later');
    expect(new Bx5kReplyError(7, 5).advice).toBe('resend');
    expect(new Bx5kReplyError(7, 4)).toMatchObject({ advice: 'report', codeName: 'outOfMemory' });
    expect(new Bx5kReplyError(7, 0x99).codeName).toBe('unknown');
  });
});

describe('Bx5kDecoder', () => {
  const ping = hex(request('ping').frame);
  const ok = hex(vectors.replies[0]!.frame);

  it('handles frames split at every byte boundary and several frames in one chunk', () => {
    const both = Buffer.concat([ping, ok]);
    for (let cut = 0; cut <= both.length; cut += 1) {
      const decoder = new Bx5kDecoder();
      const frames = [...decoder.push(both.subarray(0, cut)), ...decoder.push(both.subarray(cut))];
      expect(frames.map((f) => f.kind)).toEqual(['packet', 'packet']);
    }
  });

  it('resynchronises after garbage, a cut-off frame and a bad CRC, counting each', () => {
    const badPacket = unescapePacket(ok.subarray(8, -1))!;
    badPacket.writeUInt16LE(badPacket.readUInt16LE(badPacket.length - 2) ^ 0x0101, badPacket.length - 2);
    const corrupt = wrapFrame(badPacket);
    const decoder = new Bx5kDecoder();
    const frames = decoder.push(Buffer.concat([Buffer.from('noise'), ping.subarray(0, 15), ping, corrupt, ok]));
    expect(frames.map((f) => (f.kind === 'packet' ? 'packet' : f.reason))).toEqual(['garbage', 'truncated', 'packet', 'crc', 'packet']);
    expect(decoder.rejections).toMatchObject({ garbage: 1, truncated: 1, crc: 1 });
    expect(decoder.packets).toBe(2);
    const crcRejection = frames[3]!;
    expect(crcRejection.kind === 'rejected' && crcRejection.claimedSource).toBe(1);
  });

  it('drops over-long frames without growing without bound', () => {
    const decoder = new Bx5kDecoder({ maxFrameBytes: 64 });
    const frames = decoder.push(Buffer.concat([Buffer.alloc(8, 0xa5), Buffer.alloc(1000, 0x11), ok]));
    expect(frames.map((f) => (f.kind === 'packet' ? 'packet' : f.reason))).toEqual(['too-long', 'garbage', 'packet']);
  });
});

describe('display text encoding', () => {
  it('encodes character by character exactly as iconv-lite encodes the whole string (GBK)', () => {
    const hallText = fc.constantFrom(...'叫号请到窗口等候社保医保退休今日办件通知系统维护℃→ABC0123\\ '.split(''));
    const text = fc.oneof(fc.string({ unit: hallText, maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
    fc.assert(
      fc.property(text, (s) => {
        expect(encodeDisplayText(s).equals(iconv.encode(s, 'gbk'))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
