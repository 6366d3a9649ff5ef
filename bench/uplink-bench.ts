/**
 * The uplink (src/uplink) against a real Mosquitto with a password file and an ACL:
 *
 * 1. Catch-up after an outage: 20,000 events wait in the journal (cursor 0); the uplink connects
 *    and sends them in batches, QoS 1, while a central consumer counts them. Throughput is events
 *    acknowledged per second until the persisted cursor reaches the last seq. Target ≥ 2,000/s.
 *    The event loop's delay during the catch-up is printed too (the batches are bounded so a
 *    catch-up never holds the loop).
 * 2. The call-next path with the central link dead vs alive: the daemon as its own process
 *    (`hall-edge run`), an operator's `call-next` requests one after another over MQTT, request →
 *    response, rounds alternating alive / dead (central broker SIGKILLed, the uplink retrying and
 *    its backlog growing). Alive rounds start once the uplink has caught up. Rule, fixed before measuring: the median of the dead rounds' p99 is
 *    within 25 % + 0.5 ms of the median of the alive rounds' p99.
 *
 *   npm run build && node dist/bench/uplink-bench.js
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { connectMqtt } from '../src/bus/client.js';
import { uplinkSection } from '../src/config/uplink-section.js';
import { Journal } from '../src/journal/journal.js';
import { silentLogger } from '../src/platform/logger.js';
import type { HallEvent } from '../src/queue/events.js';
import { Uplink } from '../src/uplink/uplink.js';
import { connect, Requester, startDaemonProcess, type DaemonProcess } from '../test/support/daemon-process.js';
import { TEST_USERS, writeTestHall } from '../test/support/hall-config.js';
import { Mosquitto } from '../test/support/mosquitto.js';
import { eventually } from '../test/support/eventually.js';
import { benchModel, simulateDay } from './journal-bench.js';
import { figures, formatFigures, roundMs, type Figures } from './stats.js';

const CATCH_UP_EVENTS = 20_000;
const CATCH_UP_TARGET_PER_S = 2_000;
const LOOP_ROUNDS = 6;
const PRESSES_PER_ROUND = 150;
const NOISE_RATIO = 0.25;
const NOISE_MS = 0.5;

const HALL = { username: 'bench-hall', password: 'bench-hall-secret' };
const COLLECTOR = { username: 'collector', password: 'collector-secret' };
const ACL = ['pattern write hall/%u/#', 'pattern read hall/%u/uplink/replay', '', `user ${COLLECTOR.username}`, 'topic read hall/#', 'topic write hall/+/uplink/replay', ''].join('\n');

export interface UplinkBenchResult {
  bench: 'uplink';
  catchUp: { events: number; ms: number; eventsPerSecond: number; target: number; met: boolean; messages: number; loopDelay: Figures };
  callNext: {
    presses: number;
    alive: Figures[];
    dead: Figures[];
    aliveMedianP99: number;
    deadMedianP99: number;
    rule: string;
    met: boolean;
  };
}

export async function run(): Promise<UplinkBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'uplink-bench-'));
  try {
    const catchUp = await catchUpBench(join(dir, 'catch-up'));
    const callNext = await callNextBench(join(dir, 'call-next'));
    return { bench: 'uplink', catchUp, callNext };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 20,000 events of busy days, as the hall journals them. */
function outageEvents(): HallEvent[] {
  const day = simulateDay(benchModel());
  const out: HallEvent[] = [];
  for (let shift = 1; out.length < CATCH_UP_EVENTS; shift--) {
    const ms = shift * 24 * 3600_000;
    for (const event of day) {
      if (out.length === CATCH_UP_EVENTS) break;
      const dayName = new Date(Date.parse(`${event.day}T00:00:00Z`) - ms).toISOString().slice(0, 10);
      out.push({ ...event, day: dayName, at: event.at - ms } as HallEvent);
    }
  }
  return out;
}

async function catchUpBench(dir: string): Promise<UplinkBenchResult['catchUp']> {
  const mosquitto = await Mosquitto.start({ dir: join(dir, 'central'), users: [HALL, COLLECTOR], acl: ACL });
  const journal = Journal.open(join(dir, 'journal.db'), silentLogger());
  const events = outageEvents();
  for (let i = 0; i < events.length; i += 1000) journal.append(events.slice(i, i + 1000));
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, HALL.password, { mode: 0o600 });
  const consumer = await connectMqtt(mosquitto.url, { ...COLLECTOR, reconnectPeriod: 0 });
  let received = 0;
  let messages = 0;
  consumer.on('message', (_topic, payload) => {
    messages++;
    received += (JSON.parse(payload.toString()) as { count: number }).count;
  });
  await consumer.subscribeAsync('hall/bench-hall/uplink/events', { qos: 1 });

  const uplink = new Uplink({
    section: uplinkSection.parse({ url: mosquitto.url, username: HALL.username, passwordFile }),
    hallId: 'bench-hall',
    journal,
    stateDir: dir,
    localBroker: { subscribe: async () => async () => undefined },
    alarms: { raise: () => undefined, clear: () => undefined },
    log: silentLogger(),
  });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  await uplink.start();
  await eventually(() => uplink.health().cursor === CATCH_UP_EVENTS && received >= CATCH_UP_EVENTS, 'the catch-up', 120_000, 5);
  const ms = performance.now() - started;
  delay.disable();
  await uplink.stop();
  await consumer.endAsync(true);
  journal.close();
  await mosquitto.stop();
  const eventsPerSecond = Math.round((CATCH_UP_EVENTS / ms) * 1000);
  const loopDelay: Figures = {
    samples: delay.count,
    p50: roundMs(delay.percentile(50) / 1e6),
    p99: roundMs(delay.percentile(99) / 1e6),
    max: roundMs(delay.max / 1e6),
  };
  return { events: CATCH_UP_EVENTS, ms: Math.round(ms), eventsPerSecond, target: CATCH_UP_TARGET_PER_S, met: eventsPerSecond >= CATCH_UP_TARGET_PER_S, messages, loopDelay };
}

async function callNextBench(dir: string): Promise<UplinkBenchResult['callNext']> {
  const mosquitto = await Mosquitto.start({ dir: join(dir, 'central'), users: [HALL, COLLECTOR], acl: ACL });
  const hall = writeTestHall({ hallId: 'bench-hall', windows: 8, extra: {
      uplink: { url: mosquitto.url, username: HALL.username, passwordFile: 'uplink-password', reconnectMaxSeconds: 1 },
      // One operator issues the round's tickets back to back: the per-connection rate (200/s by
      // default, a guard against a runaway client) would refuse them, and it is not what this measures.
      requests: { operator: { perSecond: 100_000, burst: 100_000 } },
    },
  });
  writeFileSync(join(hall.dir, 'uplink-password'), HALL.password, { mode: 0o600 });
  let daemon: DaemonProcess | undefined;
  try {
    // Info-level JSON logs go to the pipe as on a box; the bench only reads the start line.
    daemon = await startDaemonProcess(hall.file, hall.dir);
    const client = await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, TEST_USERS.operator.username, TEST_USERS.operator.password);
    const requester = new Requester(client, 'hall/bench-hall');
    await requester.ready();
    for (let w = 1; w <= 8; w++) await requester.request('login', { windowId: `w0${w}`, staffId: `s${w}` });
    const alive: Figures[] = [];
    const dead: Figures[] = [];
    for (let round = 0; round < LOOP_ROUNDS; round++) {
      const linkAlive = round % 2 === 0;
      if (linkAlive && !mosquitto.running) await mosquitto.start();
      if (!linkAlive) await mosquitto.kill('SIGKILL');
      // health is a big query with a per-client rate: polled at a walking pace, refusals skipped.
      const health = async (): Promise<{ connected: boolean; backlog: number }> => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const response = await requester.request('health');
        return response.status === 'ok' ? (response.data!.uplink as { connected: boolean; backlog: number }) : { connected: !linkAlive, backlog: 1 };
      };
      // Tickets to call: issued first, so each measured press calls one.
      for (let i = 0; i < 2 * PRESSES_PER_ROUND; i++) await requester.request('issue', { serviceId: ['social-security', 'medical-insurance', 'retirement'][i % 3], channel: 'kiosk' });
      // Steady state: alive = connected with nothing left to catch up (the catch-up is measured
      // above); dead = the uplink has noticed and is retrying.
      let state = await health();
      while (linkAlive ? !state.connected || state.backlog > 0 : state.connected) state = await health();
      const samples: number[] = [];
      for (let i = 0; i < PRESSES_PER_ROUND; i++) {
        const t0 = performance.now();
        const response = await requester.request('call-next', { windowId: `w0${(i % 8) + 1}` });
        samples.push(performance.now() - t0);
        if (response.status !== 'ok' && response.code !== 'queue-empty') throw new Error(`call-next failed: ${response.error}`);
      }
      (linkAlive ? alive : dead).push(figures(samples));
    }
    client.end(true);
    const median = (list: Figures[]) => {
      const sorted = list.map((f) => f.p99).sort((a, b) => a - b);
      return roundMs(sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2);
    };
    const aliveMedianP99 = median(alive);
    const deadMedianP99 = median(dead);
    return {
      presses: PRESSES_PER_ROUND,
      alive,
      dead,
      aliveMedianP99,
      deadMedianP99,
      rule: `dead p99 ≤ alive p99 × ${1 + NOISE_RATIO} + ${NOISE_MS} ms (medians of ${LOOP_ROUNDS / 2} rounds each)`,
      met: deadMedianP99 <= aliveMedianP99 * (1 + NOISE_RATIO) + NOISE_MS,
    };
  } finally {
    if (daemon) {
      daemon.proc.kill('SIGKILL');
      await daemon.exited;
    }
    await mosquitto.stop();
    rmSync(hall.dir, { recursive: true, force: true });
  }
}

export function describe(result: UplinkBenchResult): string[] {
  const { catchUp, callNext } = result;
  return [
    `uplink: catch-up of ${catchUp.events} events after an outage: ${catchUp.eventsPerSecond} events/s acknowledged (${catchUp.ms} ms, ${catchUp.messages} messages) — target ≥ ${catchUp.target}/s: ${catchUp.met ? 'met' : 'MISSED'}`,
    `uplink: event-loop delay during the catch-up (this process also runs the central consumer): ${formatFigures(catchUp.loopDelay)}`,
    ...callNext.alive.map((f, i) => `uplink: call-next request round trip, central link alive (round ${i + 1}): ${formatFigures(f)}`),
    ...callNext.dead.map((f, i) => `uplink: call-next request round trip, central link DEAD (round ${i + 1}): ${formatFigures(f)}`),
    `uplink: call-next p99 alive ${callNext.aliveMedianP99} ms vs dead ${callNext.deadMedianP99} ms — ${callNext.rule}: ${callNext.met ? 'met' : 'MISSED'}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify(result));
}
