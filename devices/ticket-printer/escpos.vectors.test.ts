import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { silentLogger } from '../../src/platform/logger.js';
import { EscPosDecoder, type DecoderOutput } from './escpos-decoder.js';
import { StatusDecodeError, decodeStatus, encodeStatus, faultReason } from './escpos-status.js';
import { TicketPrinter } from './ticket-printer.js';
import { qrPayload, QrPayloadError, type TicketPrintData } from './ticket-layout.js';

interface Vectors {
  status: Array<{ name: string; answers: string[]; decoded: Record<string, boolean> }>;
  malformedStatus: Array<{ name: string; answers: string[] }>;
  decode: Array<{ name: string; input?: string; chunks?: string[]; tickets: Array<Record<string, unknown>>; realtimeStatus?: number[]; paperStatus?: number[] }>;
  job: { data: TicketPrintData; hex: string };
}

const vectors = JSON.parse(readFileSync(new URL('../../firmware-protocols/vectors/escpos.json', import.meta.url), 'utf8')) as Vectors;
const bytes = (answers: string[]) => {
  const [printer, offlineCause, errorCause, paperSensor] = answers.map((h) => parseInt(h, 16)) as [number, number, number, number];
  return { printer, offlineCause, errorCause, paperSensor };
};

describe('DLE EOT status vectors', () => {
  it.each(vectors.status)('$name', ({ answers, decoded }) => {
    expect(decodeStatus(bytes(answers))).toEqual(decoded);
  });

  it.each(vectors.malformedStatus)('refuses $name', ({ answers }) => {
    expect(() => decodeStatus(bytes(answers))).toThrow(StatusDecodeError);
  });

  it('encodeStatus (the simulator side) round-trips the faults the dispenser acts on', () => {
    for (const flags of [{ paperOut: true }, { coverOpen: true }, { cutterError: true }, { paperNearEnd: true }, {}]) {
      const status = decodeStatus(encodeStatus(flags));
      expect(status).toMatchObject(flags);
    }
    expect(faultReason(decodeStatus(encodeStatus({ paperOut: true })))).toBe('paper-out');
    expect(faultReason(decodeStatus(encodeStatus({ paperNearEnd: true })))).toBeUndefined();
  });
});

describe('ESC/POS decoder vectors', () => {
  it.each(vectors.decode)('$name', (vector) => {
    const decoder = new EscPosDecoder();
    const chunks = vector.chunks ?? [vector.input!];
    const out: DecoderOutput[] = chunks.flatMap((hex) => decoder.push(Buffer.from(hex, 'hex')));
    const tickets = out.flatMap((o) => (o.type === 'ticket' ? [o.ticket] : []));
    expect(tickets).toHaveLength(vector.tickets.length);
    vector.tickets.forEach((expected, i) => expect(tickets[i]).toMatchObject(expected));
    if (vector.realtimeStatus) expect(out.flatMap((o) => (o.type === 'realtime-status' ? [o.n] : []))).toEqual(vector.realtimeStatus);
    if (vector.paperStatus) expect(out.flatMap((o) => (o.type === 'paper-status' ? [o.n] : []))).toEqual(vector.paperStatus);
  });

  it('survives random bytes without throwing', () => {
    const decoder = new EscPosDecoder();
    let seed = 7;
    for (let i = 0; i < 200; i++) {
      const chunk = Buffer.from(Array.from({ length: 64 }, () => (seed = (seed * 1103515245 + 12345) & 0xff)));
      expect(() => decoder.push(chunk)).not.toThrow();
    }
  });
});

describe('the ticket job', () => {
  it('is byte for byte the documented job, and decodes back to the ticket', () => {
    const printer = new TicketPrinter({ type: 'epson', address: 'tcp://127.0.0.1:9' }, silentLogger());
    const job = printer.render(vectors.job.data);
    expect(job.toString('hex')).toBe(vectors.job.hex);
    const [ticket] = new EscPosDecoder().push(job).flatMap((o) => (o.type === 'ticket' ? [o.ticket] : []));
    expect(ticket!.lines).toEqual([
      '服务大厅',
      'Hall',
      'A023',
      '社保',
      'Social security',
      '前面还有 3 人等候',
      '3 waiting ahead of you',
      '预计等候约 12 分钟',
      'Estimated wait about 12 min',
      '2026-11-23 09:05',
    ]);
    expect(ticket!.qr).toEqual(['HALL:h1:2026-11-23:A023']);
  });

  it('keeps the QR payload ASCII', () => {
    expect(qrPayload('https://x.example/q?d={day}&n={number}', { hallId: 'h', day: '2026-11-23', number: 'A001' })).toBe('https://x.example/q?d=2026-11-23&n=A001');
    expect(qrPayload(undefined, { hallId: 'h1', day: '2026-11-23', number: 'A001' })).toBe('HALL:h1:2026-11-23:A001');
    expect(qrPayload('https://x.example/{hall}/{number}', { hallId: '大厅', day: 'd', number: 'A1' })).toBe('https://x.example/%E5%A4%A7%E5%8E%85/A1');
    expect(() => qrPayload('https://大厅.example/{number}', { hallId: 'h', day: 'd', number: 'A1' })).toThrow(QrPayloadError);
  });
});
