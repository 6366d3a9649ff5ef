import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePadFrame, decodeLine } from '../../devices/counter-pad/codec.js';
import { LineFramer as PadLineFramer } from '../../devices/counter-pad/line-framer.js';
import { MAX_READER_LINE_BYTES, parseReaderLine } from '../../devices/dispenser/reader-line.js';
import type { DispenserDriver } from '../../devices/dispenser/driver.js';
import type { HealthGateDriver } from '../../devices/health-gate/driver.js';
import { createScanClassifier, DEFAULT_SCAN_RULES, MAX_SCAN_LENGTH } from '../../devices/health-gate/scan-rules.js';
import { GateSimulator } from '../../devices/health-gate/simulator.js';
import { Bx5kDecoder, encodeStatus, replyFrame, Command } from '../../devices/led-bx5k/codec.js';
import type { LedBx5kDriver } from '../../devices/led-bx5k/driver.js';
import type { CounterPadDriver } from '../../devices/counter-pad/driver.js';
import { PrinterSimulator } from '../../devices/ticket-printer/simulator.js';
import { frameLines, SyncLineFramer } from '../../fuzz/framer-adapter.js';
import { Rng } from '../../fuzz/rng.js';
import { createSerialPort, type SerialPort } from '../../src/platform/serial/serial-port.js';
import { eventually } from '../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { openPtyPair, type PtyPair } from '../support/pty.js';

/**
 * The daemon under a noisy wire: each serial line (counter pads, LED controller replies, health-
 * code scanner, appointment reader) gets random bytes interleaved with valid frames over real
 * PTYs. Every valid frame must be handled exactly once, every piece of noise counted as rejected
 * (the counts are predicted by running the same bytes through the protocol's own framer and
 * decoder), and the daemon's heap and event-loop delay stay bounded. Bounded by count, not time.
 */
const VALID_FRAMES = 30;
const rng = new Rng(19);

function forceGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Random bytes; `avoid` bytes are replaced (e.g. LF inside a line's noise). */
function noise(maxLength: number, avoid: readonly number[] = []): Buffer {
  const bytes = rng.bytes(1 + rng.below(maxLength));
  for (let i = 0; i < bytes.length; i += 1) if (avoid.includes(bytes[i]!)) bytes[i] = 0x20 + rng.below(0x5f);
  return bytes;
}

/**
 * Noise for a line protocol: a few junk lines, each ended by LF so the valid frame after it starts
 * a line of its own, and now and then one longer than the framer allows. Regenerated until the
 * protocol's own parser refuses every line of it, so the expected counts are exact.
 */
function lineNoise(refuses: (bytes: Buffer) => boolean, longLine: number): Buffer {
  for (;;) {
    const parts: Buffer[] = [];
    for (let n = 1 + rng.below(3); n > 0; n -= 1) parts.push(noise(rng.chance(0.1) ? longLine : 120, [0x0a]), Buffer.from(rng.chance(0.5) ? '\r\n' : '\n'));
    const burst = Buffer.concat(parts);
    if (refuses(burst)) return burst;
  }
}

/** Writes `chunks` to the device end in pieces of random size, as a UART delivers them. */
async function writeAll(port: SerialPort, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + rng.below(512);
    port.write(bytes.subarray(at, at + size));
    at += size;
  }
  await new Promise<void>((resolve, reject) => port.drain((err) => (err ? reject(err) : resolve())));
}

async function openDeviceEnd(path: string): Promise<SerialPort> {
  const port = createSerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
}

/** The lines a framer makes of `bytes`, and how many of them `accepts` takes. */
function predictLines(framer: SyncLineFramer, bytes: Buffer, accepts: (line: Buffer) => boolean): { accepted: number; rejected: number } {
  let accepted = 0;
  let rejected = 0;
  for (const line of frameLines(framer, bytes, 4096)) {
    if (!line.overflow && accepts(line.bytes)) accepted += 1;
    else rejected += 1;
  }
  return { accepted, rejected };
}


/**
 * The LED controller at address 1, played on the device end: it answers every request, each
 * answer preceded by noise that its own decoder would never take for a frame from address 1 (the
 * driver rightly treats a damaged frame from its display as a bad reply and resends).
 */
class NoisyController {
  readonly written: Buffer[] = [];
  replies = 0;
  private readonly requests = new Bx5kDecoder();

  constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      for (const frame of this.requests.push(chunk)) if (frame.kind === 'packet') this.answer(frame.packet.group, frame.packet.command);
    });
  }

  private answer(group: number, command: number): void {
    const data = group === Command.readStatus.group && command === Command.readStatus.command ? encodeStatus({ brightness: 8, screenOn: true, dynamicAreas: 1 }) : Buffer.alloc(0);
    let junk: Buffer;
    do junk = noise(300);
    while (new Bx5kDecoder().push(Buffer.concat([junk, Buffer.of(0xa5)])).some((f) => f.kind === 'packet' || f.claimedSource === 1));
    const bytes = Buffer.concat([junk, replyFrame(1, group, command, 0, data)]);
    this.written.push(bytes);
    this.replies += 1;
    this.port.write(bytes);
  }
}

const sum = (counts: Record<string, number | undefined>): number => Object.values(counts).reduce<number>((a, b) => a + (b ?? 0), 0);

describe('the daemon under a noisy wire', () => {
  let hall: TestDaemon | undefined;
  let gate: GateSimulator | undefined;
  let printer: PrinterSimulator | undefined;
  const ptys: PtyPair[] = [];
  const ports: SerialPort[] = [];
  let pads: PtyPair, led: PtyPair, scanner: PtyPair, reader: PtyPair;
  const delay = monitorEventLoopDelay({ resolution: 20 });
  let heapBefore = 0;
  let controller: NoisyController;

  beforeAll(async () => {
    [pads, led, scanner, reader] = await Promise.all([openPtyPair(), openPtyPair(), openPtyPair(), openPtyPair()]);
    ptys.push(pads, led, scanner, reader);
    gate = await GateSimulator.tcp();
    printer = new PrinterSimulator();
    await printer.listenTcp(0);
    // The controller listens before the daemon starts: the driver's first display update goes out at once.
    const ledEnd = await openDeviceEnd(led.b);
    ports.push(ledEnd);
    controller = new NoisyController(ledEnd);
    hall = await startTestDaemon({
      windows: 2,
      devices: [
        { id: 'pads-1', kind: 'counter-pad', options: { port: pads.a, pads: [{ address: 1, window: 'w01' }], heartbeatSeconds: 3600 } },
        // A generous reply timeout: a late reply on a busy CI box would be a resend, not noise handling.
        { id: 'led-1', kind: 'led-bx5k', options: { port: led.a, replyTimeoutMs: 10_000, displays: [{ address: 1, role: 'window', window: 'w01', width: 64, height: 16 }] } },
        { id: 'gate-1', kind: 'health-gate', options: { modbus: { tcp: gate.address }, scanner: { port: scanner.a }, policy: { requireHealthCode: true, requireTemperature: false } } },
        { id: 'kiosk-1', kind: 'dispenser', options: { printer: { type: 'epson', interface: printer.url }, buttons: [], appointmentReader: { port: reader.a } } },
      ],
    });
    forceGc();
    heapBefore = getHeapStatistics().used_heap_size;
    delay.enable();
  });

  afterAll(async () => {
    delay.disable();
    for (const port of ports) if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await hall?.close();
    await gate?.close();
    await printer?.close();
    await Promise.all(ptys.map((p) => p.close()));
  });

  const driver = <T>(id: string): T => hall!.daemon.devices.driver(id) as T;

  it('counter pads: every key among the noise is executed once, every junk line counted', async () => {
    const port = await openDeviceEnd(pads.b);
    ports.push(port);
    port.on('data', () => undefined); // the host's ACKs and screens: read and dropped
    const refuses = (bytes: Buffer) => predictLines(new SyncLineFramer(new PadLineFramer()), bytes, (line) => decodeLine(line).ok).accepted === 0;
    const stream = Buffer.concat(
      Array.from({ length: VALID_FRAMES }, (_, k) => Buffer.concat([lineNoise(refuses, 400), encodePadFrame(1, k % 16, { verb: 'NEXT' })])),
    );
    const expected = predictLines(new SyncLineFramer(new PadLineFramer()), stream, (line) => decodeLine(line).ok);
    expect(expected.accepted).toBe(VALID_FRAMES);
    await writeAll(port, stream);

    const pad = driver<CounterPadDriver>('pads-1');
    await eventually(() => pad.state().pads[0]!.keys === VALID_FRAMES && sum(pad.state().rejectedLines) === expected.rejected, 'all keys handled and all noise counted', 20_000);
    const state = pad.state();
    expect(state.pads[0]).toMatchObject({ keys: VALID_FRAMES, duplicates: 0 });
    expect(sum(state.rejectedLines)).toBe(expected.rejected);
  });

  it('LED controller: every reply after noise answers its request once; the noise is counted as rejected frames', { timeout: 120_000 }, async () => {
    // Each call-next changes window 1's text: one display update (a request) after another.
    const r = hall!.operator.requester;
    expect(await r.request('login', { windowId: 'w01', staffId: 'S1024' })).toMatchObject({ status: 'ok' });
    for (let k = 0; k < VALID_FRAMES; k += 1) {
      await r.request('issue', { serviceId: 'social-security' });
      await r.request('call-next', { windowId: 'w01' });
      await r.request('finish', { windowId: 'w01' });
    }
    const display = driver<LedBx5kDriver>('led-1');
    const stats = () => (display.snapshot().displays as Record<string, { answered: number; errors: number; timeouts: number }>)['1']!;
    // Quiet: every request answered and handled (the driver's bus counts an exchange once).
    // Read together, at a moment when no reply is in flight (a later refresh may start another exchange).
    let seen: { replies: number; written: Buffer; display: ReturnType<typeof stats>; rejected: number } | undefined;
    await eventually(() => {
      const now = { replies: controller.replies, written: Buffer.concat(controller.written), display: stats(), rejected: sum(display.rejectedFrames()) };
      if (now.replies < VALID_FRAMES || now.display.answered !== now.replies) return false;
      const reference = new Bx5kDecoder();
      reference.push(now.written);
      if (now.rejected !== reference.rejected) return false;
      seen = now;
      return true;
    }, 'every reply handled and every piece of noise counted', 20_000).catch((err: Error) => {
      const reference = new Bx5kDecoder();
      reference.push(Buffer.concat(controller.written));
      throw new Error(`${err.message}: replies ${controller.replies}, display ${JSON.stringify(stats())}, rejected ${JSON.stringify(display.rejectedFrames())}, expected ${JSON.stringify(reference.rejections)}`);
    });
    const { replies, written } = seen!;
    expect(seen!.display).toMatchObject({ answered: replies, errors: 0, timeouts: 0 });
    const reference = new Bx5kDecoder();
    reference.push(written);
    expect(reference.packets).toBe(replies);
    expect(seen!.rejected).toBe(reference.rejected);
    expect(reference.rejected).toBeGreaterThanOrEqual(replies);
  });

  it('health-code scanner: every code among the noise is read once, every junk line counted unreadable', async () => {
    const port = await openDeviceEnd(scanner.b);
    ports.push(port);
    const classifier = createScanClassifier(DEFAULT_SCAN_RULES);
    const readable = (line: Buffer) => classifier.classify(line.toString('utf8')).readable;
    const framer = () => new SyncLineFramer(MAX_SCAN_LENGTH + 2);
    const refuses = (bytes: Buffer) => predictLines(framer(), bytes, readable).accepted === 0;
    const stream = Buffer.concat(
      Array.from({ length: VALID_FRAMES }, (_, k) => Buffer.concat([lineNoise(refuses, 2200), Buffer.from(`HC:G:3701021990${String(k).padStart(4, '0')}\r\n`)])),
    );
    const expected = predictLines(framer(), stream, readable);
    expect(expected.accepted).toBe(VALID_FRAMES);
    await writeAll(port, stream);

    const gateDriver = driver<HealthGateDriver>('gate-1');
    const scans = () => (gateDriver.state().counts as { scans: { readable: number; unreadable: Record<string, number> } }).scans;
    await eventually(() => scans().readable === VALID_FRAMES && sum(scans().unreadable) === expected.rejected, 'all codes read and all noise counted', 20_000);
    expect(scans().readable).toBe(VALID_FRAMES);
    expect(sum(scans().unreadable)).toBe(expected.rejected);
  });

  it('appointment reader: every code among the noise is taken once, every junk line counted', async () => {
    const port = await openDeviceEnd(reader.b);
    ports.push(port);
    const parses = (line: Buffer) => parseReaderLine(line.toString('latin1')).ok;
    const framer = () => new SyncLineFramer(MAX_READER_LINE_BYTES);
    const refuses = (bytes: Buffer) => predictLines(framer(), bytes, parses).accepted === 0;
    const stream = Buffer.concat(Array.from({ length: VALID_FRAMES }, (_, k) => Buffer.concat([lineNoise(refuses, 200), Buffer.from(`CODE:NW-${1000 + k}\r\n`)])));
    const expected = predictLines(framer(), stream, parses);
    expect(expected.accepted).toBe(VALID_FRAMES);
    await writeAll(port, stream);

    const kiosk = driver<DispenserDriver>('kiosk-1');
    await eventually(() => kiosk.counters.readerLines === VALID_FRAMES && kiosk.counters.readerRejects === expected.rejected, 'all codes taken and all noise counted', 20_000);
    expect(kiosk.counters).toMatchObject({ readerLines: VALID_FRAMES, readerRejects: expected.rejected });
  });

  it('kept its heap and its event loop through all of it', () => {
    forceGc();
    const growth = getHeapStatistics().used_heap_size - heapBefore;
    // Generous bounds (a shared CI box): a framer that kept noise, or a hung handler, shows up far beyond them.
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    expect(delay.max / 1e6).toBeLessThan(5_000);
    expect(delay.percentile(99) / 1e6).toBeLessThan(1_000);
  });
});
