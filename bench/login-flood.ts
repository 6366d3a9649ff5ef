/**
 * Real logins during a wrong-password flood (issue 11): 50 connections keep sending CONNECTs
 * with a wrong password (each answered one reconnects at once) while an operator logs in every
 * 100 ms from another address. The broker runs with its default limits; the flood runs in a
 * worker thread so its sockets do not share the broker's event loop.
 *
 * Target, fixed before measuring: the real logins' p90 ≤ 100 ms while one address floods (the
 * issue's case: 1.5 s before the throttle). Printed as well, and judged the same way: the flood
 * spread over 50 addresses (127.0.0.2-51), where per-address back-off alone cannot help and
 * only the "addresses without failures first" rule does.
 *
 *   npm run build && node dist/bench/login-flood.js
 */
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { connectMqtt } from '../src/bus/client.js';
import { startBroker, type RunningBroker } from '../src/bus/broker.js';
import { hashPassword } from '../src/bus/password.js';
import { Writable } from 'node:stream';
import { createLogger } from '../src/platform/logger.js';
import { connackOf, encodeConnect, openSocket } from '../test/support/raw-mqtt.js';
import { figures, percentile, roundMs, type Figures } from './stats.js';

const TARGET_P90_MS = 100;
const FLOOD_CONNECTIONS = 50;
const REAL_LOGINS = 20;
const LOGIN_EVERY_MS = 100;
const USER = { username: 'op', password: 'operator-secret-1' };

interface FloodJob {
  role: 'login-flood';
  port: number;
  addresses: string[];
}

interface FloodTally {
  attempts: number;
  /** CONNACK 5: a password check ran and failed. */
  refused: number;
  /** CONNACK 3: refused at once, no password check (too many waiting from that address). */
  throttled: number;
  /** Closed without a CONNACK (e.g. the broker closing at the end). */
  dropped: number;
}

export interface LoginFloodScenario {
  addresses: number;
  realLoginMs: Figures & { p90: number };
  /** The part of each real login spent waiting for a password-check slot (the throttle's own figure). */
  realLoginQueuedMs: Figures;
  /** p50 during the flood minus p50 with no flood: what the flood costs a real login on this box. */
  slowdownP50Ms: number;
  flood: FloodTally;
  meetsTarget: boolean;
}

export interface LoginFloodResult {
  bench: 'login-flood';
  targetP90Ms: number;
  floodConnections: number;
  baselineLoginMs: Figures;
  oneAddress: LoginFloodScenario;
  manyAddresses: LoginFloodScenario;
  /** Judged on the one-address flood. */
  meetsTarget: boolean;
}

async function timedLogin(url: string, n: number): Promise<number> {
  const started = performance.now();
  const client = await connectMqtt(url, { ...USER, reconnectPeriod: 0, connectTimeout: 30_000, clientId: `real-login-${n}` });
  const ms = performance.now() - started;
  await client.endAsync(true);
  return ms;
}

async function realLogins(url: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    times.push(await timedLogin(url, i));
    await new Promise((resolve) => setTimeout(resolve, LOGIN_EVERY_MS));
  }
  return times;
}

/** The broker's log, read for the real logins' `wait` (how long each queued for a password check). */
function loginWaits(): { log: ReturnType<typeof createLogger>; take: () => number[] } {
  let queued: number[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('mqtt client authenticated') || !line.includes('real-login-')) continue;
        const entry = JSON.parse(line) as { wait?: { queuedMs: number } };
        if (entry.wait) queued.push(entry.wait.queuedMs);
      }
      callback();
    },
  });
  return {
    log: createLogger({ destination, level: 'info' }),
    take: () => {
      const taken = queued;
      queued = [];
      return taken;
    },
  };
}

async function floodScenario(broker: RunningBroker, url: string, addresses: string[], waits: ReturnType<typeof loginWaits>, baseline: Figures): Promise<LoginFloodScenario> {
  const job: FloodJob = { role: 'login-flood', port: broker.ports.tcpPort, addresses };
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  const tally = new Promise<FloodTally>((resolve, reject) => {
    worker.once('message', (message: FloodTally) => resolve(message));
    worker.once('error', reject);
  });
  // The flood is on when the password checks are busy and logins are waiting.
  const deadline = Date.now() + 10_000;
  while (broker.loginsPending() < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  waits.take();
  const times = await realLogins(url, REAL_LOGINS);
  worker.postMessage('stop');
  const flood = await tally;
  await worker.terminate();
  const sorted = [...times].sort((a, b) => a - b);
  const p90 = roundMs(percentile(sorted, 0.9));
  const realLoginMs = { ...figures(times), p90 };
  return { addresses: addresses.length, realLoginMs, realLoginQueuedMs: figures(waits.take()), slowdownP50Ms: roundMs(realLoginMs.p50 - baseline.p50), flood, meetsTarget: p90 <= TARGET_P90_MS };
}

export async function run(): Promise<LoginFloodResult> {
  const waits = loginWaits();
  const broker = await startBroker(
    { hallId: 'bench', tcp: { host: '127.0.0.1', port: 0 }, users: [{ username: USER.username, role: 'operator', passwordHash: hashPassword(USER.password) }] },
    waits.log,
  );
  try {
    const url = `mqtt://127.0.0.1:${broker.ports.tcpPort}`;
    await timedLogin(url, -1); // warm-up
    const baseline = figures(await realLogins(url, 10));
    const oneAddress = await floodScenario(broker, url, ['127.0.0.2'], waits, baseline);
    const manyAddresses = await floodScenario(broker, url, Array.from({ length: FLOOD_CONNECTIONS }, (_, i) => `127.0.0.${i + 2}`), waits, baseline);
    return {
      bench: 'login-flood',
      targetP90Ms: TARGET_P90_MS,
      floodConnections: FLOOD_CONNECTIONS,
      baselineLoginMs: baseline,
      oneAddress,
      manyAddresses,
      meetsTarget: oneAddress.meetsTarget,
    };
  } finally {
    await broker.close();
  }
}

export function describe(r: LoginFloodResult): string[] {
  const scenario = (name: string, s: LoginFloodScenario): string =>
    `login flood: real login during ${r.floodConnections} wrong-password connections from ${name}: p50 ${s.realLoginMs.p50} ms, p90 ${s.realLoginMs.p90} ms, max ${s.realLoginMs.max} ms (${s.realLoginMs.samples} logins; of it waiting for a password check: p50 ${s.realLoginQueuedMs.p50} ms, max ${s.realLoginQueuedMs.max} ms; p50 ${s.slowdownP50Ms >= 0 ? '+' : ''}${s.slowdownP50Ms} ms against no flood) → ${s.meetsTarget ? 'met' : 'MISSED'}; flood: ${s.flood.attempts} attempts, ${s.flood.refused} checked and refused, ${s.flood.throttled} throttled without a check`;
  return [
    `login flood: real login with no flood: ${r.baselineLoginMs.p50} ms p50, max ${r.baselineLoginMs.max} ms`,
    scenario('one address', r.oneAddress),
    scenario(`${r.manyAddresses.addresses} addresses`, r.manyAddresses),
    `  target: real login p90 ≤ ${r.targetP90Ms} ms during the one-address flood → ${r.meetsTarget ? 'met' : 'MISSED'}`,
  ];
}

/** Worker side: FLOOD_CONNECTIONS loops, each reconnecting with a wrong password as soon as it is answered. */
async function flood(job: FloodJob): Promise<void> {
  const tally: FloodTally = { attempts: 0, refused: 0, throttled: 0, dropped: 0 };
  let stopping = false;
  parentPort!.once('message', () => (stopping = true));
  const loop = async (slot: number): Promise<void> => {
    const localAddress = job.addresses[slot % job.addresses.length]!;
    for (let n = 0; !stopping; n++) {
      tally.attempts++;
      try {
        const socket = await openSocket(job.port, localAddress);
        const answer = connackOf(socket);
        socket.write(encodeConnect({ clientId: `flood-${slot}-${n}`, username: USER.username, password: `wrong-${slot}-${n}` }));
        const code = await answer;
        socket.destroy();
        if (code === 5) tally.refused++;
        else if (code === 3) tally.throttled++;
        else tally.dropped++;
      } catch {
        tally.dropped++;
      }
    }
  };
  await Promise.all(Array.from({ length: FLOOD_CONNECTIONS }, (_, slot) => loop(slot)));
  parentPort!.postMessage(tally);
}

if (!isMainThread && (workerData as Partial<FloodJob> | undefined)?.role === 'login-flood') {
  void flood(workerData as FloodJob);
} else if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify(result));
}
