/**
 * The call-next loop end to end, 32 windows: a staff key press written into a pad line's PTY →
 * the queue decides and journals → (t1) the window's LED display frame read off the BX-5K bus by
 * the simulated controller, and (t2) `ticket.called` received by an MQTT subscriber over TCP.
 * The same run measures the floor: the same trip through a "null daemon" (floor-relay.ts: a Node
 * process that only journals one event, writes a ready-made BX-5K frame and publishes one MQTT
 * message), so "our processing" = end-to-end − floor, at each percentile. The parts of the floor
 * (PTY trips, one fsynced commit, one broker publish) are measured on their own too, for reference.
 * The sequential presses run in three rounds; the target is judged on the median round's p99.
 *
 *   npm run build && node dist/bench/call-next-loop.js
 *   HALL_EDGE_LOG_LEVEL=debug ...   (the daemon logs to /dev/null at info by default, as in production cost)
 *
 * PTYs have no baud rate: the RS-485 wire time (14 bytes at 19200 ≈ 7.3 ms, a ~60-byte BX-5K
 * frame at 57600 ≈ 10.4 ms) is not in these figures and comes on top on real hardware.
 */
import { createWriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { connectMqtt } from '../src/bus/client.js';
import { createLogger } from '../src/platform/logger.js';
import { TEST_USERS } from '../test/support/hall-config.js';
import type { SequencedEvent } from '../src/queue/events.js';
import { encodePadFrame } from '../devices/counter-pad/codec.js';
import { dynamicAreaFrame } from '../devices/led-bx5k/codec.js';
import { issueTicketsOverMqtt, LED_BAUD, loginAll, startHallRig, type HallRig } from './call-next-rig.js';
import { journalCommit, ptyOneWay, startRelayFloor, type RelayFloor, type RelaySession, type RelayTimes } from './floor.js';
import { figures, formatFigures, roundMs, type Figures } from './stats.js';

export interface CallNextBenchOptions {
  /** Sequential presses, one window after another (each waits for the previous loop to close). */
  presses?: number;
  /** Rounds in which all 32 pads press at once. */
  burstRounds?: number;
  floorSamples?: number;
  /** The daemon in its own process (the default, as on a real box) or in the bench's process. */
  separateProcess?: boolean;
  /**
   * Repetitions of the sequential presses (each with its own floor trips). The verdict is on the
   * median of the rounds' p99s: one p99 on a shared box moves with what else the box is doing.
   */
  rounds?: number;
}

interface LoopFigures {
  led: Figures;
  mqtt: Figures;
  both: Figures;
}

interface Difference {
  p50: number;
  p99: number;
}

export interface CallNextBenchResult {
  bench: 'call-next-loop';
  daemon: 'separate process' | 'in the bench process';
  windows: number;
  padLines: number;
  ledBaud: number;
  note: string;
  sequential: LoopFigures & { ack: Figures };
  burst: LoopFigures & { rounds: number; roundMax: Figures };
  floor: {
    ptyPadFrame: Figures & { bytes: number };
    ptyLedFrame: Figures & { bytes: number };
    journalCommit: Figures;
    mqttPublish: Figures;
    /** The whole trip through the null daemon, as many samples as sequential presses: the floor. */
    relay: RelayFloor;
  };
  /** Sequential end-to-end minus the relay floor, at p50/p99, over all rounds' samples. */
  processing: { led: Difference; mqtt: Difference; both: Difference };
  /** Each round's "both" processing at p99, and their median: what the target is judged on. */
  roundsBothP99: number[];
  medianRoundBothP99: number;
  /** Measured by the daemon itself over the sequential presses (`health` request). */
  inDaemon: { callNextExecute: Figures; journalCommit: Figures };
  /** An operator's `issue` request over MQTT/TCP, one after another: publish → response received. */
  issueRequest: Figures;
  targetP99Ms: number;
  /**
   * Judged only with the daemon in its own process, as deployed; null for the in-process run,
   * where the daemon shares its event loop with the simulated hardware.
   */
  meetsTarget: boolean | null;
  mismatches: number;
}

interface Pending {
  windowId: string;
  address: number;
  t0: number;
  ledAt?: number;
  ledNumber?: string;
  mqttAt?: number;
  mqttNumber?: string;
  done: () => void;
}

const TARGET_P99_MS = 2;
const WARMUP = 32;
/** Blocks in which sequential presses and floor trips take turns. */
const BLOCKS = 8;

export async function run(options: CallNextBenchOptions = {}): Promise<CallNextBenchResult> {
  // Enough samples that p99 is the 16th worst, not the 6th: a steadier figure on a noisy box.
  const presses = options.presses ?? 1600;
  const rounds = options.rounds ?? 3;
  const burstRounds = options.burstRounds ?? 8;
  const floorSamples = options.floorSamples ?? 300;

  // Production logs at info to journald; /dev/null keeps that cost in the loop without the noise.
  const log = createLogger({ level: process.env.HALL_EDGE_LOG_LEVEL ?? 'info', destination: createWriteStream('/dev/null') });
  const pending = new Map<string, Pending>();
  const byAddress = new Map<number, Pending>();
  const pings = new Map<number, (at: number) => void>();
  let mismatches = 0;

  const settle = (p: Pending) => {
    if (p.ledAt === undefined || p.mqttAt === undefined) return;
    if (p.ledNumber !== p.mqttNumber) mismatches += 1;
    pending.delete(p.windowId);
    byAddress.delete(p.address);
    p.done();
  };

  const onEvent = (event: SequencedEvent, at: number) => {
    if (event.type !== 'ticket.called') return;
    const p = pending.get(event.windowId);
    if (!p || p.mqttAt !== undefined) return;
    p.mqttAt = at;
    p.mqttNumber = event.number;
    settle(p);
  };

  const separateProcess = options.separateProcess ?? true;
  const rig: HallRig = await startHallRig({ windows: 32, log, separateProcess, onEvent });
  let relaySession: RelaySession | undefined;
  try {
    // The frame has been read off the PTY when the simulated controller has it framed and
    // CRC-checked ('received'); rendering its text ('updated', right after) is the simulator's
    // own work, as a real controller's is not our CPU's.
    const framedAt = new Map<number, number>();
    rig.led.on('received', (address, command) => {
      if (command === 'dynamicArea') framedAt.set(address, performance.now());
    });
    rig.led.on('updated', (address, text) => {
      const at = framedAt.get(address) ?? performance.now();
      const p = byAddress.get(address);
      if (!p || p.ledAt !== undefined) return;
      const match = /^(\S+) 请到\d+号窗口$/.exec(text);
      if (!match) return;
      p.ledAt = at;
      p.ledNumber = match[1];
      settle(p);
    });

    await loginAll(rig);
    const issueTimes: number[] = [];
    // Slack: windows take different services, and one whose lines ran dry could not call.
    await issueTicketsOverMqtt(rig, Math.ceil((WARMUP + presses + burstRounds * 32) * 1.25) + 32, issueTimes);
    // Later rounds take their tickets just before they run, so every round sees a similar queue.
    const ticketsForRound = Math.ceil(presses * 1.25);

    const press = (windowId: string, t0: number): { loop: Promise<Pending>; ack: Promise<number> } => {
      const { sim, address } = rig.padOf(windowId);
      let entry!: Pending;
      const loop = new Promise<Pending>((resolve) => {
        entry = { windowId, address: rig.ledAddressOf(windowId), t0, done: () => resolve(entry) };
      });
      pending.set(windowId, entry);
      byAddress.set(entry.address, entry);
      const ack = sim.press(address, 'NEXT').then((result) => {
        if (!result.ok) throw new Error(`NEXT at ${windowId} refused: ${result.text ?? 'no ACK'}`);
        return performance.now() - t0;
      });
      return { loop, ack };
    };
    const timedOut = (what: string) => new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`call-next bench: ${what} did not complete in 10 s`)), 10_000).unref());

    // Sequential: one loop at a time, windows in turn, the first round only warming up. The
    // floor's trips through the null daemon are interleaved with them in blocks, so both see the
    // same machine (this box is shared: its noise comes and goes over seconds).
    const padFrame = encodePadFrame(1, 3, { verb: 'NEXT' });
    const ledFrame = dynamicAreaFrame(7, [{ areaId: 0, x: 0, y: 0, width: 16, height: 32, text: '\\FO000\\C1A023 请到7号窗口' }]);
    relaySession = await startRelayFloor(padFrame, ledFrame);
    const relayTimes: RelayTimes = { led: [], mqtt: [], both: [] };
    await relaySession.measure(WARMUP, { led: [], mqtt: [], both: [] });
    const seq = { led: [] as number[], mqtt: [] as number[], both: [] as number[], ack: [] as number[] };
    let roundBoth: number[] = [];
    let pressed = 0;
    const pressInTurn = async (count: number, record: boolean): Promise<void> => {
      for (let i = 0; i < count; i++, pressed++) {
        const windowId = rig.windowIds[pressed % rig.windowIds.length]!;
        const { loop, ack } = press(windowId, performance.now());
        const [p, ackMs] = await Promise.race([Promise.all([loop, ack]), timedOut(`press ${pressed} at ${windowId}`)]);
        if (!record) continue;
        seq.led.push(p.ledAt! - p.t0);
        seq.mqtt.push(p.mqttAt! - p.t0);
        seq.both.push(Math.max(p.ledAt!, p.mqttAt!) - p.t0);
        seq.ack.push(ackMs);
        roundBoth.push(Math.max(p.ledAt!, p.mqttAt!) - p.t0);
      }
    };
    await pressInTurn(WARMUP, false);
    const roundsBothP99: number[] = [];
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await issueTicketsOverMqtt(rig, ticketsForRound, issueTimes);
      roundBoth = [];
      const roundRelay: RelayTimes = { led: [], mqtt: [], both: [] };
      for (let block = 0; block < BLOCKS; block++) {
        const count = Math.round((presses * (block + 1)) / BLOCKS) - Math.round((presses * block) / BLOCKS);
        // Alternate which goes first, so neither always follows the other's after-effects.
        if (block % 2 === 0) {
          await pressInTurn(count, true);
          await relaySession.measure(count, roundRelay);
        } else {
          await relaySession.measure(count, roundRelay);
          await pressInTurn(count, true);
        }
      }
      roundsBothP99.push(roundMs(figures(roundBoth).p99 - figures(roundRelay.both).p99));
      relayTimes.led.push(...roundRelay.led);
      relayTimes.mqtt.push(...roundRelay.mqtt);
      relayTimes.both.push(...roundRelay.both);
    }
    const medianRoundBothP99 = [...roundsBothP99].sort((a, b) => a - b)[Math.floor(roundsBothP99.length / 2)]!;

    // The daemon's own account of the sequential presses (its `health` request): the time inside
    // `execute` (journal commit, queue, every listener) and the journal commit alone.
    const health = await rig.operator.request('health');
    type Summary = { count: number; p50: number; p99: number; max: number };
    const latency = (health.data as { latency: { executeMs: Record<string, Summary>; journalCommitMs: Summary } }).latency;
    const asFigures = (f: { count: number; p50: number; p99: number; max: number }): Figures => ({ samples: f.count, p50: f.p50, p99: f.p99, max: f.max });
    const inDaemon = { callNextExecute: asFigures(latency.executeMs['call-next']!), journalCommit: asFigures(latency.journalCommitMs) };

    // Bursts: every pad presses in the same instant; t0 is that instant for all 32.
    const burst = { led: [] as number[], mqtt: [] as number[], both: [] as number[], roundMax: [] as number[] };
    for (let round = 0; round < burstRounds; round++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const t0 = performance.now();
      const started = rig.windowIds.map((windowId) => press(windowId, t0));
      const loops = await Promise.race([Promise.all(started.map((s) => Promise.all([s.loop, s.ack]))), timedOut(`burst ${round}`)]);
      for (const [p] of loops) {
        burst.led.push(p.ledAt! - t0);
        burst.mqtt.push(p.mqttAt! - t0);
        burst.both.push(Math.max(p.ledAt!, p.mqttAt!) - t0);
      }
      burst.roundMax.push(Math.max(...loops.map(([p]) => Math.max(p.ledAt!, p.mqttAt!) - t0)));
    }

    // The floor's parts, each on its own, for reference.
    const ptyPad = await ptyOneWay(padFrame, floorSamples, 19200);
    const ptyLed = await ptyOneWay(ledFrame, floorSamples, LED_BAUD);
    const journal = journalCommit(floorSamples);
    // One message through the same broker to the same subscriber: a device client publishes on
    // its own topic (the only kind of publish a client may make that the observer can receive).
    const pingTopic = `${rig.baseTopic}/device/${TEST_USERS.device.deviceId}/bench-ping`;
    const pinger = await connectMqtt(rig.mqttUrl, { username: TEST_USERS.device.username, password: TEST_USERS.device.password, reconnectPeriod: 0 });
    rig.observer.on('message', (topic, payload) => {
      if (topic !== pingTopic) return;
      const at = performance.now();
      pings.get((JSON.parse(payload.toString()) as { id: number }).id)?.(at);
    });
    await rig.observer.subscribeAsync(pingTopic, { qos: 1 });
    const mqttTimes: number[] = [];
    try {
      for (let id = 0; id < floorSamples; id++) {
        const received = new Promise<number>((resolve) => pings.set(id, resolve));
        const t0 = performance.now();
        pinger.publish(pingTopic, JSON.stringify({ id }), { qos: 1 });
        mqttTimes.push((await Promise.race([received, timedOut(`MQTT ping ${id}`)])) - t0);
        pings.delete(id);
      }
    } finally {
      await pinger.endAsync(true);
    }
    const mqttFloor = figures(mqttTimes);

    const relay: RelayFloor = { led: figures(relayTimes.led), mqtt: figures(relayTimes.mqtt), both: figures(relayTimes.both) };
    const minus = (f: Figures, floor: Figures): Difference => ({ p50: roundMs(f.p50 - floor.p50), p99: roundMs(f.p99 - floor.p99) });

    const sequential = { led: figures(seq.led), mqtt: figures(seq.mqtt), both: figures(seq.both), ack: figures(seq.ack) };
    const processing = { led: minus(sequential.led, relay.led), mqtt: minus(sequential.mqtt, relay.mqtt), both: minus(sequential.both, relay.both) };
    return {
      bench: 'call-next-loop',
      daemon: separateProcess ? 'separate process' : 'in the bench process',
      windows: rig.windowIds.length,
      padLines: rig.lines.length,
      ledBaud: LED_BAUD,
      note: 'PTYs carry no baud-rate delay: real RS-485 wire time comes on top of every figure',
      sequential,
      burst: { rounds: burstRounds, led: figures(burst.led), mqtt: figures(burst.mqtt), both: figures(burst.both), roundMax: figures(burst.roundMax) },
      floor: {
        ptyPadFrame: { ...ptyPad, bytes: padFrame.length },
        ptyLedFrame: { ...ptyLed, bytes: ledFrame.length },
        journalCommit: journal,
        mqttPublish: mqttFloor,
        relay,
      },
      processing,
      inDaemon,
      issueRequest: figures(issueTimes.slice(WARMUP)),
      targetP99Ms: TARGET_P99_MS,
      roundsBothP99,
      medianRoundBothP99,
      meetsTarget: separateProcess ? medianRoundBothP99 < TARGET_P99_MS : null,
      mismatches,
    };
  } finally {
    await relaySession?.close();
    await rig.close();
  }
}

export function describe(r: CallNextBenchResult): string[] {
  const d = (x: Difference) => `p50 ${x.p50} ms, p99 ${x.p99} ms`;
  return [
    `call-next loop, ${r.windows} windows (${r.padLines} pad lines, LED bus at ${r.ledBaud} baud), daemon ${r.daemon}; ${r.note}`,
    `  sequential presses, key → LED frame:    ${formatFigures(r.sequential.led)}`,
    `  sequential presses, key → MQTT event:   ${formatFigures(r.sequential.mqtt)}`,
    `  sequential presses, key → both:         ${formatFigures(r.sequential.both)}`,
    `  sequential presses, key → pad's ACK:    ${formatFigures(r.sequential.ack)}`,
    `  all 32 at once (${r.burst.rounds} rounds), → LED:  ${formatFigures(r.burst.led)}`,
    `  all 32 at once, → MQTT:                 ${formatFigures(r.burst.mqtt)}`,
    `  all 32 at once, → both:                 ${formatFigures(r.burst.both)}; whole round ${formatFigures(r.burst.roundMax)}`,
    `  parts of the floor, each alone: PTY ${r.floor.ptyPadFrame.bytes}-byte pad frame ${formatFigures(r.floor.ptyPadFrame)}`,
    `    PTY ${r.floor.ptyLedFrame.bytes}-byte BX-5K frame ${formatFigures(r.floor.ptyLedFrame)}`,
    `    journal commit (fsync) ${formatFigures(r.floor.journalCommit)}`,
    `    broker publish → TCP subscriber ${formatFigures(r.floor.mqttPublish)}`,
    `  floor, the same trip through a null daemon (journal + frame + publish, nothing else): → LED ${formatFigures(r.floor.relay.led)}`,
    `  floor, null daemon → MQTT:              ${formatFigures(r.floor.relay.mqtt)}`,
    `  floor, null daemon → both:              ${formatFigures(r.floor.relay.both)}`,
    `  our processing (end-to-end − floor): LED ${d(r.processing.led)}; MQTT ${d(r.processing.mqtt)}; both ${d(r.processing.both)}`,
    `  inside the daemon: call-next execute p50 ${r.inDaemon.callNextExecute.p50} ms, p99 ${r.inDaemon.callNextExecute.p99} ms, of which journal commit p50 ${r.inDaemon.journalCommit.p50} ms, p99 ${r.inDaemon.journalCommit.p99} ms`,
    `  issue request over MQTT (publish → response, one after another): ${formatFigures(r.issueRequest)}`,
    `  our processing at p99 ("both") in each of ${r.roundsBothP99.length} rounds: ${r.roundsBothP99.join(', ')} ms; median ${r.medianRoundBothP99} ms`,
    `  target: median round < ${r.targetP99Ms} ms at p99 → ${r.meetsTarget === null ? 'judged on the separate-process run only' : r.meetsTarget ? 'met' : 'MISSED'}${r.mismatches > 0 ? `; ${r.mismatches} LED/MQTT ticket mismatches!` : ''}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify(result));
}
