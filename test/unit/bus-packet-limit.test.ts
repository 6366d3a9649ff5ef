import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Duplex } from 'node:stream';
import { PacketLimitedStream, PacketSizeScanner } from '../../src/bus/packet-limit.js';
import { fixedHeader } from '../support/raw-mqtt.js';

const limits = { maxConnectBytes: 64, maxPacketBytes: 1000 };

function packet(type: number, bodyBytes: number): Buffer {
  return Buffer.concat([fixedHeader(type, bodyBytes), Buffer.alloc(bodyBytes, 0xee)]);
}

/** Splits `bytes` at the given cut points (as a TCP stream may). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks.filter((chunk) => chunk.length > 0);
}

describe('PacketSizeScanner', () => {
  it('lets packets up to the limits through however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 64 - 2 }),
        fc.array(fc.integer({ min: 0, max: 1000 - 3 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (connectBody, bodies, cuts) => {
          const stream = Buffer.concat([packet(0x10, connectBody), ...bodies.map((b) => packet(0x30, b))]);
          const scanner = new PacketSizeScanner(limits);
          for (const chunk of split(stream, cuts)) expect(scanner.scan(chunk)).toEqual({ ok: true });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses the first packet over the limit as soon as its Remaining Length is read, wherever the cut', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000 - 2, max: 300_000 }), fc.array(fc.nat(), { maxLength: 6 }), (oversizedBody, cuts) => {
        const ok = packet(0x10, 10);
        const header = fixedHeader(0x30, oversizedBody);
        const declaredBytes = header.length + oversizedBody;
        fc.pre(declaredBytes > 1000);
        const scanner = new PacketSizeScanner(limits);
        // Only the header is ever given: no body byte is needed to decide.
        const results = split(Buffer.concat([ok, header]), cuts).map((chunk) => scanner.scan(chunk));
        expect(results.at(-1)).toEqual({ ok: false, violation: { kind: 'oversized-packet', declaredBytes, limitBytes: 1000, connectPacket: false } });
        expect(results.slice(0, -1).every((r) => r.ok)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the CONNECT its own small limit', () => {
    const scanner = new PacketSizeScanner(limits);
    expect(scanner.scan(fixedHeader(0x10, 8 * 1024 * 1024))).toEqual({ ok: false, violation: { kind: 'oversized-packet', declaredBytes: 8 * 1024 * 1024 + 5, limitBytes: 64, connectPacket: true } });
    expect(new PacketSizeScanner(limits).scan(packet(0x10, 62))).toEqual({ ok: true });
    expect(new PacketSizeScanner(limits).scan(packet(0x10, 63))).toMatchObject({ ok: false });
  });

  it('refuses a Remaining Length longer than four bytes', () => {
    expect(new PacketSizeScanner({ maxConnectBytes: 1e9, maxPacketBytes: 1e9 }).scan(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]))).toEqual({ ok: false, violation: { kind: 'malformed-length' } });
  });
});

describe('PacketLimitedStream output', () => {
  /** An in-memory socket that records each write it is handed (one entry per writev or write). */
  function recordingSocket(): { inner: Duplex; writes: number[] } {
    const writes: number[] = [];
    const inner = new Duplex({
      read() {},
      write(_chunk, _encoding, done) {
        writes.push(1);
        done();
      },
      writev(chunks, done) {
        writes.push(chunks.length);
        done();
      },
    });
    return { inner, writes };
  }

  it('sends the first packet of a turn at once and the rest of that turn in one write', async () => {
    const { inner, writes } = recordingSocket();
    const stream = new PacketLimitedStream(inner, { ...limits, maxOutgoingBacklogBytes: 1 << 20 }, () => undefined);
    // As aedes does: each QoS 1 delivery on a tick of its own.
    stream.write(packet(0x30, 10));
    await new Promise<void>((resolve) => process.nextTick(resolve));
    stream.write(packet(0x30, 10));
    await Promise.resolve();
    stream.write(packet(0x40, 2));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([1, 2]);
    stream.write(packet(0x30, 10));
    expect(writes).toEqual([1, 2, 1]);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([1, 2, 1]);
    stream.destroy();
  });

  it('still cuts a client whose unsent output passes the bound', async () => {
    const inner = new Duplex({ read() {}, write: () => undefined }); // never takes anything
    const violations: string[] = [];
    const stream = new PacketLimitedStream(inner, { ...limits, maxOutgoingBacklogBytes: 100 }, (v) => violations.push(v.kind));
    stream.write(packet(0x30, 500));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(violations).toEqual(['slow-consumer']);
  });
});
