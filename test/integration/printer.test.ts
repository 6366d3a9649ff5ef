import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/platform/logger.js';
import { openPtyPair, type PtyPair } from '../support/pty.js';
import { PrinterSimulator } from '../../devices/ticket-printer/simulator.js';
import { PrintError, TicketPrinter } from '../../devices/ticket-printer/ticket-printer.js';
import type { TicketPrintData } from '../../devices/ticket-printer/ticket-layout.js';
import { EscPosDecoder } from '../../devices/ticket-printer/escpos-decoder.js';

const AT = Date.UTC(2026, 10, 23, 1, 5, 0); // 09:05 in Shanghai

const data = (number: string, extra: Partial<TicketPrintData> = {}): TicketPrintData => ({
  hallName: { zh: '芝罘区政务服务中心', en: 'Zhifu Government Service Centre' },
  number,
  serviceName: { zh: '社保业务', en: 'Social security' },
  waitingAhead: 7,
  estimatedWaitMinutes: 14,
  issuedAt: AT,
  timeZone: 'Asia/Shanghai',
  qr: `https://hall.example/t/2026-11-23/${number}`,
  footer: { zh: '请留意叫号 𠀀', en: 'Please listen for your number' },
  ...extra,
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function tcpPair(ticketFile?: string): Promise<{ sim: PrinterSimulator; printer: TicketPrinter }> {
  const sim = new PrinterSimulator({ ticketFile });
  await sim.listenTcp(0);
  const printer = new TicketPrinter({ type: 'epson', address: sim.url, confirmTimeoutMs: 1500 }, silentLogger());
  cleanups.push(() => sim.close(), () => printer.close());
  return { sim, printer };
}

describe('ticket printer against the ESC/POS simulator', () => {
  it('prints the ticket over TCP: Chinese text, sizes, QR payload, cut', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'printer-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const { sim, printer } = await tcpPair(join(dir, 'tickets.txt'));
    await printer.print(data('A023'));
    const [ticket] = await sim.waitForTickets(1);
    expect(ticket!.lines).toEqual([
      '芝罘区政务服务中心',
      'Zhifu Government Service Centre',
      'A023',
      '社保业务',
      'Social security',
      '前面还有 7 人等候',
      '7 waiting ahead of you',
      '预计等候约 14 分钟',
      'Estimated wait about 14 min',
      '2026-11-23 09:05',
      '请留意叫号 𠀀',
      'Please listen for your number',
    ]);
    expect(ticket!.qr).toEqual(['https://hall.example/t/2026-11-23/A023']);
    const number = ticket!.elements.find((e) => e.kind === 'text' && e.text === 'A023');
    expect(number).toMatchObject({ width: 4, height: 4, bold: true, align: 'center' });
    expect(ticket!.elements[0]).toMatchObject({ text: '芝罘区政务服务中心', width: 1, height: 2 });
    expect(ticket!.cut).toBe('full');
    await sim.close();
    expect(readFileSync(join(dir, 'tickets.txt'), 'utf8')).toContain('A023');
    expect(sim.unknownCommands).toBe(0);
  });

  it('prints over a serial PTY through the custom interface and reads status', async () => {
    const pty: PtyPair = await openPtyPair();
    cleanups.push(() => pty.close());
    const sim = new PrinterSimulator();
    await sim.openSerial(pty.b, 115200);
    cleanups.push(() => sim.close());
    const printer = new TicketPrinter({ type: 'epson', address: { serial: pty.a, baudRate: 115200 }, confirmTimeoutMs: 1500 }, silentLogger());
    cleanups.push(() => printer.close());
    expect(await printer.status()).toMatchObject({ online: true, paperOut: false, coverOpen: false });
    await printer.print(data('B002', { priority: true }));
    const [ticket] = await sim.waitForTickets(1);
    expect(ticket!.lines).toContain('B002');
    expect(ticket!.lines).toContain('优先 PRIORITY');
    expect(ticket!.qr).toEqual(['https://hall.example/t/2026-11-23/B002']);
    sim.setFaults({ coverOpen: true });
    expect(await printer.status()).toMatchObject({ online: false, coverOpen: true });
  });

  it('reports paper out and fails a print that runs out of paper mid-ticket', async () => {
    const { sim, printer } = await tcpPair();
    sim.setPaperRemaining(3);
    const torn = new Promise((resolve) => sim.once('torn', resolve));
    await expect(printer.print(data('A001'))).rejects.toBeInstanceOf(PrintError);
    await torn;
    expect(sim.tickets).toHaveLength(0);
    expect(await printer.status()).toMatchObject({ paperOut: true, online: false });
    sim.setFaults({ paperOut: false });
    await printer.print(data('A002'));
    expect((await sim.waitForTickets(1))[0]!.lines).toContain('A002');
  });

  it('prints to a device file (as /dev/usb/lp0) without status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lp-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'lp0');
    const printer = new TicketPrinter({ type: 'epson', address: file }, silentLogger());
    cleanups.push(() => printer.close());
    expect(printer.answers).toBe(false);
    expect(await printer.status()).toBeUndefined();
    await printer.print(data('C07'));
    const [ticket] = new EscPosDecoder().push(readFileSync(file)).flatMap((o) => (o.type === 'ticket' ? [o.ticket] : []));
    expect(ticket!.lines).toContain('C07');
    expect(ticket!.qr).toEqual(['https://hall.example/t/2026-11-23/C07']);
  });

  it('fails a print when the printer is unreachable', async () => {
    const { sim, printer } = await tcpPair();
    await sim.close();
    await expect(printer.print(data('A009'))).rejects.toThrow(/print failed/);
    await expect(printer.status()).rejects.toThrow();
  });
});
