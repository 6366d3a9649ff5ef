/**
 * The hall at its design maximum, the daemon in its own process: 64 windows, their pads on 4
 * lines (16 a line, 19200 baud) and their LED displays on 2 BX-5K buses (32 a bus, 57600 baud,
 * the hall display on the first). Every round, all 64 staff press NEXT in the same instant while
 * a kiosk issues 20 tickets a second. Measured: key press → the LAST window's LED frame (framed
 * and checked by the simulated controller). Then the daemon's RSS after a 2,000-ticket day, and
 * durable `issue` requests per second from 10 clients pipelining (answered = committed).
 *
 * Two modes: 'pty' (bare PTYs: software only) and 'wire' (every line paced at its baud with a
 * half-duplex turnaround, wire-relay.ts: what a visitor sees). Targets (README, fixed before
 * measuring): PTY last frame p99 ≤ floor p99 + 5 ms; wire-true last frame ≤ the wire time the
 * bus was busy up to that frame + 5 ms in every round; issues ≥ 5,000/s; RSS ≤ 120 MB.
 *
 *   npm run build && node dist/bench/hall-scale.js
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { connectMqtt } from '../src/bus/client.js';
import { createLogger } from '../src/platform/logger.js';
import { Requester } from '../test/support/daemon-process.js';
import { TEST_USERS } from '../test/support/hall-config.js';
import { loginAll, PAD_BAUD, startHallRig, type HallRig } from './call-next-rig.js';
import { wireMs } from './wire-relay.js';
import { encodePadFrame } from '../devices/counter-pad/codec.js';
import { figures, formatFigures, roundMs, type Figures } from './stats.js';

export const SCALE_TARGETS = {
  /** PTY mode: last window's LED frame p99 may exceed the floor's p99 by this much. */
  ptyOverFloorMs: 5,
  /** Wire-true mode: the last frame may come this long after the wire time of the traffic ahead of it. */
  wireOverBusyMs: 5,
  issuesPerSecond: 5000,
  rssMB: 120,
} as const;

const WINDOWS = 64;
/** Wire-true: how long every line must have been silent before a round's presses. */
const QUIET_MS = 50;
const KIOSK_PER_SECOND = 20;
const DAY_TICKETS = 2000;
const ISSUE_CLIENTS = 10;
/** Requests each issuing client keeps in flight. */
const PIPELINE_DEPTH = 32;

export interface BurstFigures {
  mode: 'pty' | 'wire';
  rounds: number;
  /** Per round: key press (all at once) → the last window's LED frame. */
  lastFrame: Figures;
  /** Per round, each LED bus's wire time busy up to its last frame (wire mode), ms. */
  wireBusy?: Figures;
  /** Per round: last frame − wire busy (wire mode): what the software added beyond the wire. */
  overWire?: Figures;
  /**
   * Per round, on the bus that set the round's figure: how long it stayed silent after the press
   * before its first frame. Part of it is no software's: the first NEXT key frame must cross its
   * pad line first (`keyFrameWireMs`), and the LED bus's busy time does not count that wire.
   */
  silentBeforeFirstFrame?: Figures;
  keyFrameWireMs?: number;
  roundsMs: number[];
  kioskIssued: number;
  /** Frames the simulated LED controllers could not decode during the rounds (garbled on the line): each costs a display its call until the confirmation. */
  ledFramesRejected: number;
  target: string;
  meetsTarget: boolean;
}

export interface ScaleBenchResult {
  bench: 'hall-scale';
  windows: number;
  padLines: number;
  ledBuses: number;
  pty: BurstFigures;
  wire: BurstFigures;
  rssMB: number;
  rssTargetMB: number;
  rssMeetsTarget: boolean;
  dayTickets: number;
  issuesPerSecond: number;
  issueClients: number;
  issuesAnswered: number;
  issuesTargetPerSecond: number;
  issuesMeetTarget: boolean;
}

/** Issues `count` tickets over one client, keeping `depth` in flight; resolves with those answered ok. */
async function issuePipelined(requester: Requester, services: string[], count: number, depth: number, stopAt = Infinity): Promise<number> {
  let sent = 0;
  let ok = 0;
  const worker = async () => {
    while (sent < count && performance.now() < stopAt) {
      const i = sent++;
      const response = await requester.request('issue', { serviceId: services[i % services.length]!, channel: 'kiosk' }, 30_000);
      if (response.status === 'ok') ok++;
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  return ok;
}

export async function bursts(rig: HallRig, mode: 'pty' | 'wire', rounds: number, floorP99: number): Promise<BurstFigures> {
  const services = rig.config.services.map((s) => s.id);
  // Enough waiting for every round, issued before the clock starts.
  await issuePipelined(rig.operator, services, Math.ceil(WINDOWS * rounds * 1.3) + 64, PIPELINE_DEPTH);
  const framedAt = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  /** Each window display's text when the round began: the round's frame is the first to change it. */
  const before = new Map<string, string>();
  for (const bus of rig.ledBuses) {
    bus.sim.on('updated', (address, text) => {
      const windowId = rig.windowIds[address - 1];
      // A frame with the text the display already had (the driver confirming an earlier call) is
      // not the new call: only a change counts, and only the first one.
      if (!windowId || !waiting.has(windowId) || framedAt.has(windowId) || text === before.get(windowId)) return;
      // Wire-true: when the frame's last byte was on the wire (the relay's model time).
      framedAt.set(windowId, bus.wire ? Math.min(bus.wire.lastDownEnd, performance.now()) : performance.now());
      waiting.get(windowId)!();
    });
  }
  // A kiosk issuing 20 tickets a second throughout, answers not awaited (as a kiosk with a queue).
  const kiosk = await connectMqtt(rig.mqttUrl, { username: TEST_USERS.operator.username, password: TEST_USERS.operator.password, reconnectPeriod: 0 });
  const kioskRequester = new Requester(kiosk, rig.baseTopic);
  await kioskRequester.ready();
  let kioskIssued = 0;
  const kioskTimer = setInterval(() => {
    void kioskRequester.request('issue', { serviceId: services[kioskIssued % services.length]!, channel: 'kiosk' }, 30_000).then((r) => {
      if (r.status === 'ok') kioskIssued++;
    }, () => undefined);
  }, 1000 / KIOSK_PER_SECOND);

  const rejectedBefore = rig.ledBuses.reduce((n, bus) => n + bus.sim.rejected, 0);
  const last: number[] = [];
  const busy: number[] = [];
  const over: number[] = [];
  const silent: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      // Wire-true: a round starts on quiet lines. The previous round's outputs (pad displays,
      // rating prompts and their ACKs at 19200 baud, LED confirmations) take the lines for a
      // second or more; keys pressed into that would measure the last burst, not this one.
      const wires = [...rig.lines.map((l) => l.wire), ...rig.ledBuses.map((b) => b.wire)].filter((w) => w !== undefined);
      for (let waited = 0; waited < 10_000 && wires.some((w) => w.freeAt > performance.now() - QUIET_MS); waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      framedAt.clear();
      for (const windowId of rig.windowIds) before.set(windowId, rig.ledBusOf(windowId).sim.textOf(rig.ledAddressOf(windowId)));
      const arrived = rig.windowIds.map((windowId) => new Promise<void>((resolve) => waiting.set(windowId, resolve)));
      const t0 = performance.now();
      const acks = rig.windowIds.map((windowId) => {
        const { sim, address } = rig.padOf(windowId);
        return sim.press(address, 'NEXT');
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...arrived, ...acks]),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`hall-scale ${mode} round ${round}: not every display changed in 20 s`)), 20_000))),
      ]);
      clearTimeout(timer);
      waiting.clear();
      const refused = (await Promise.all(acks)).filter((a) => !a.ok).length;
      if (refused > 0) throw new Error(`hall-scale ${mode} round ${round}: ${refused} NEXT presses refused`);
      const lastAt = Math.max(...framedAt.values());
      last.push(lastAt - t0);
      if (mode === 'wire') {
        // Per bus: the time its wire was busy from the press to that bus's last frame; the round's
        // budget is the slowest bus's.
        let worstOver = -Infinity;
        let busyOfWorst = 0;
        let silentOfWorst = 0;
        for (const bus of rig.ledBuses) {
          const busLast = Math.max(...bus.windowIds.map((id) => framedAt.get(id)!));
          const busBusy = bus.wire!.busyWithin(t0, busLast);
          if (busLast - t0 - busBusy > worstOver) {
            worstOver = busLast - t0 - busBusy;
            busyOfWorst = busBusy;
            silentOfWorst = Math.max(0, (bus.wire!.intervals(t0)[0]?.[0] ?? t0) - t0);
          }
          if (process.env.HALL_SCALE_DEBUG) console.log(`round ${round} bus`, JSON.stringify(bus.wire!.intervals(t0).map(([a, b]) => [Math.round(a - t0), Math.round(b - t0)])), 'pad line 1', JSON.stringify(rig.lines[0]!.wire!.intervals(t0).map(([a, b]) => [Math.round(a - t0), Math.round(b - t0)])));
          bus.wire!.forget(t0);
        }
        busy.push(busyOfWorst);
        over.push(worstOver);
        silent.push(silentOfWorst);
      }
    }
  } finally {
    clearInterval(kioskTimer);
    await kiosk.endAsync(true);
  }
  const lastFrame = figures(last);
  const ledFramesRejected = rig.ledBuses.reduce((n, bus) => n + bus.sim.rejected, 0) - rejectedBefore;
  if (mode === 'pty') {
    const limit = roundMs(floorP99 + SCALE_TARGETS.ptyOverFloorMs);
    return { mode, rounds, lastFrame, roundsMs: last.map(roundMs), kioskIssued, ledFramesRejected, target: `last frame p99 ≤ floor p99 ${floorP99} ms + ${SCALE_TARGETS.ptyOverFloorMs} ms = ${limit} ms`, meetsTarget: lastFrame.p99 <= limit };
  }
  return {
    mode,
    rounds,
    lastFrame,
    wireBusy: figures(busy),
    overWire: figures(over),
    silentBeforeFirstFrame: figures(silent),
    keyFrameWireMs: roundMs(wireMs(encodePadFrame(1, 0, { verb: 'NEXT' }).length, PAD_BAUD)),
    roundsMs: last.map(roundMs),
    kioskIssued,
    ledFramesRejected,
    target: `in every round, last frame ≤ wire time busy ahead of it + ${SCALE_TARGETS.wireOverBusyMs} ms`,
    meetsTarget: Math.max(...over) <= SCALE_TARGETS.wireOverBusyMs,
  };
}

function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

export async function run(options: { floorLedP99Ms: number; rounds?: number; issueSeconds?: number }): Promise<ScaleBenchResult> {
  const rounds = options.rounds ?? 6;
  const log = createLogger({ level: process.env.HALL_EDGE_LOG_LEVEL ?? 'info', destination: createWriteStream('/dev/null') });

  // Wire-true first, on its own rig (its lines are paced relays).
  const wireRig = await startHallRig({ windows: WINDOWS, ledBuses: 2, wire: { turnaroundMs: 1 }, separateProcess: true, log });
  let wire: BurstFigures;
  try {
    await loginAll(wireRig);
    wire = await bursts(wireRig, 'wire', 3, options.floorLedP99Ms);
  } finally {
    await wireRig.close();
  }

  // The per-connection request cap (request-scheduler.ts: an operator connection 200/s by
  // default) is a policy a hall sets in `requests`; the throughput figure is about the commit
  // path, so this hall lifts it for its operators.
  const rig = await startHallRig({ windows: WINDOWS, ledBuses: 2, separateProcess: true, log, extraConfig: { requests: { operator: { perSecond: 100_000, burst: 100_000, running: 32 } } } });
  try {
    await loginAll(rig);
    const pty = await bursts(rig, 'pty', rounds, options.floorLedP99Ms);

    // A whole day's tickets: top up to 2,000 issued, call through the windows, then read RSS.
    const services = rig.config.services.map((s) => s.id);
    const issuedSoFar = Math.ceil(WINDOWS * rounds * 1.3) + 64 + pty.kioskIssued;
    await issuePipelined(rig.operator, services, Math.max(0, DAY_TICKETS - issuedSoFar), PIPELINE_DEPTH);
    const rss = rssMB(rig.daemonPid!);

    // Durable issues per second: 10 operators pipelining, for a fixed time.
    const clients = await Promise.all(
      Array.from({ length: ISSUE_CLIENTS }, async () => {
        const client = await connectMqtt(rig.mqttUrl, { username: TEST_USERS.operator.username, password: TEST_USERS.operator.password, reconnectPeriod: 0 });
        const requester = new Requester(client, rig.baseTopic);
        await requester.ready();
        return { client, requester };
      }),
    );
    let answered = 0;
    let seconds = 0;
    try {
      const started = performance.now();
      const stopAt = started + (options.issueSeconds ?? 2) * 1000;
      const counts = await Promise.all(clients.map(({ requester }) => issuePipelined(requester, services, Number.MAX_SAFE_INTEGER, PIPELINE_DEPTH, stopAt)));
      seconds = (performance.now() - started) / 1000;
      answered = counts.reduce((a, b) => a + b, 0);
    } finally {
      await Promise.all(clients.map(({ client }) => client.endAsync(true)));
    }
    const issuesPerSecond = Math.round(answered / seconds);
    return {
      bench: 'hall-scale',
      windows: WINDOWS,
      padLines: rig.lines.length,
      ledBuses: rig.ledBuses.length,
      pty,
      wire,
      rssMB: rss,
      rssTargetMB: SCALE_TARGETS.rssMB,
      rssMeetsTarget: rss <= SCALE_TARGETS.rssMB,
      dayTickets: DAY_TICKETS,
      issuesPerSecond,
      issueClients: ISSUE_CLIENTS,
      issuesAnswered: answered,
      issuesTargetPerSecond: SCALE_TARGETS.issuesPerSecond,
      issuesMeetTarget: issuesPerSecond >= SCALE_TARGETS.issuesPerSecond,
    };
  } finally {
    await rig.close();
  }
}

const verdict = (met: boolean) => (met ? 'met' : 'MISSED');

export function describe(r: ScaleBenchResult): string[] {
  const lines = [`hall at scale: ${r.windows} windows, ${r.padLines} pad lines, ${r.ledBuses} LED buses, daemon in its own process, a kiosk issuing ${KIOSK_PER_SECOND}/s throughout`];
  for (const b of [r.pty, r.wire]) {
    lines.push(`  all ${r.windows} press at once (${b.mode === 'pty' ? 'PTY, software only' : 'wire-true, lines paced at their baud'}), key → last window's LED frame: ${formatFigures(b.lastFrame)}`);
    lines.push(`    every round: ${b.roundsMs.join(', ')} ms; LED frames the controllers rejected (garbled): ${b.ledFramesRejected}`);
    if (b.wireBusy && b.overWire) lines.push(`    wire busy ahead of the last frame: ${formatFigures(b.wireBusy)}; last frame beyond it: ${formatFigures(b.overWire)}`);
    if (b.silentBeforeFirstFrame) lines.push(`    of that, the LED bus silent after the press before its first frame: ${formatFigures(b.silentBeforeFirstFrame)} (the first NEXT key frame alone is ${b.keyFrameWireMs} ms of pad wire)`);
    lines.push(`    target: ${b.target} → ${verdict(b.meetsTarget)}`);
  }
  lines.push(`  daemon RSS after a ${r.dayTickets}-ticket day: ${r.rssMB} MB — target ≤ ${r.rssTargetMB} MB → ${verdict(r.rssMeetsTarget)}`);
  lines.push(`  durable issue requests, ${r.issueClients} clients pipelining: ${r.issuesPerSecond}/s (${r.issuesAnswered} answered) — target ≥ ${r.issuesTargetPerSecond}/s → ${verdict(r.issuesMeetTarget)}`);
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const floor = Number(process.argv[2] ?? 10);
  const result = await run({ floorLedP99Ms: floor });
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify(result));
}
