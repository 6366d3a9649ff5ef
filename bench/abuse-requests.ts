/**
 * "Requests under abuse" (issue 11): the daemon runs in its own process; one operator
 * connection floods `issue`, then `health`, then `tickets` (1500 tickets in the day, so each
 * answer is a big page), 10 s each, as fast as it can publish; meanwhile a second operator
 * connection issues one ticket every 100 ms and times each answer. The flood runs in a worker
 * thread so it does not share an event loop with the client being measured.
 *
 * Targets, fixed before measuring: during each flood the second client's p99 ≤ 50 ms, the
 * daemon's peak RSS ≤ its idle RSS + 100 MB, and the daemon is still alive; the flooder gets
 * `busy`. Each flood is judged on its own and printed met/missed.
 *
 *   npm run build && npm run bench:abuse
 *
 * ABUSE_FLOODS=issue runs only that flood (a partial run never reports met); ABUSE_NODE_ARGS
 * passes flags to the daemon's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
 */
import { readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { writeTestHall, TEST_USERS } from '../test/support/hall-config.js';
import { connect, Requester, startDaemonProcess } from '../test/support/daemon-process.js';
import { figures, type Figures } from './stats.js';

const TARGET_P99_MS = 50;
const TARGET_RSS_GROWTH_MB = 100;
const FLOOD_MS = 10_000;
const ISSUE_EVERY_MS = 100;
const CONTROL_MS = 5_000;
const TICKETS_IN_DAY = 1500;
const BASE = 'hall/test-hall';
const ALL_FLOODS = ['issue', 'health', 'tickets'] as const;
type FloodCommand = (typeof ALL_FLOODS)[number];
/** ABUSE_FLOODS=tickets (comma-separated) runs only those floods, e.g. to profile one; a partial run never reports met. */
const FLOODS: readonly FloodCommand[] = process.env.ABUSE_FLOODS ? ALL_FLOODS.filter((f) => process.env.ABUSE_FLOODS!.split(',').includes(f)) : ALL_FLOODS;

interface FloodJob {
  role: 'request-flood';
  port: number;
  command: FloodCommand;
  durationMs: number;
}

interface FloodTally {
  sent: number;
  ok: number;
  busy: number;
  otherErrors: number;
  /** The other errors by code. */
  otherCodes: Record<string, number>;
  /** The daemon closed the flooder's connection. */
  cut?: boolean;
}

export interface AbuseFlood {
  command: FloodCommand;
  /** The second client's issue round trips during the flood. */
  otherIssue: Figures;
  otherFailures: number;
  flood: FloodTally;
  peakRssMB: number;
  daemonAlive: boolean;
  meetsTarget: boolean;
}

export interface AbuseResult {
  idleRssMB: number;
  /** The second client's issue round trips with no flood (not judged: the box's own noise). */
  control: { otherIssue: Figures; otherFailures: number };
  targetP99Ms: number;
  targetRssGrowthMB: number;
  floods: AbuseFlood[];
  meetsTarget: boolean;
}

function rssMB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 102.4) / 10 : Number.NaN;
}

export async function run(): Promise<AbuseResult> {
  const hall = writeTestHall({ windows: 4 });
  const daemonNodeArgs = process.env.ABUSE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const daemon = await startDaemonProcess(hall.file, hall.dir, 20_000, [], {}, daemonNodeArgs);
  const pid = daemon.proc.pid!;
  const op = TEST_USERS.operator;
  const admin = TEST_USERS.admin;
  try {
    // The day's tickets, so `tickets` answers are as large as on a busy day (one page: 500).
    const filler = new Requester(await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, admin.username, admin.password), BASE);
    await filler.ready();
    const services = ['social-security', 'medical-insurance', 'retirement'];
    for (let i = 0; i < TICKETS_IN_DAY; i++) {
      const r = await filler.request('issue', { serviceId: services[i % 3]!, items: ['养老保险参保', '社保卡补办'] });
      if (r.status !== 'ok') throw new Error(`could not fill the day: ${r.error ?? r.code}`);
    }
    const other = new Requester(await connect(`ws://127.0.0.1:${daemon.ports.wsPort}/mqtt`, op.username, op.password), BASE);
    await other.ready();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = [0, 1, 2, 3, 4].map(() => rssMB(pid)).sort((a, b) => a - b)[2]!;

    // The same client with no flood, on this box now: the noise floor the floods are read against.
    const quiet = await issueEvery(other, CONTROL_MS);
    const control = { otherIssue: figures(quiet.rounds), otherFailures: quiet.failures };

    const floods: AbuseFlood[] = [];
    for (const command of FLOODS) {
      let peak = rssMB(pid);
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, rssMB(pid));
        } catch {
          // the daemon is gone: judged below
        }
      }, 50);
      const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'request-flood', port: daemon.ports.tcpPort, command, durationMs: FLOOD_MS } satisfies FloodJob });
      const tally = new Promise<FloodTally>((resolve, reject) => {
        worker.once('message', (message: FloodTally) => resolve(message));
        worker.once('error', reject);
      });
      await new Promise((resolve) => setTimeout(resolve, 300)); // the flood is under way
      const { rounds, failures } = await issueEvery(other, FLOOD_MS - 600);
      const flood = await tally;
      await worker.terminate();
      clearInterval(sampler);
      const alive = daemon.proc.exitCode === null && daemon.proc.signalCode === null;
      const otherIssue = figures(rounds);
      floods.push({
        command,
        otherIssue,
        otherFailures: failures,
        flood,
        peakRssMB: peak,
        daemonAlive: alive,
        meetsTarget: alive && failures === 0 && otherIssue.p99 <= TARGET_P99_MS && peak <= idle + TARGET_RSS_GROWTH_MB && flood.busy > 0,
      });
      if (!alive) break;
      // Let the flood's last answers drain before the next one.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return { idleRssMB: idle, control, targetP99Ms: TARGET_P99_MS, targetRssGrowthMB: TARGET_RSS_GROWTH_MB, floods, meetsTarget: floods.length === ALL_FLOODS.length && floods.every((f) => f.meetsTarget) };
  } finally {
    daemon.proc.kill('SIGTERM');
    await daemon.exited;
    rmSync(hall.dir, { recursive: true, force: true });
  }
}

/** One `issue` every ISSUE_EVERY_MS for `durationMs`, each round trip timed. */
async function issueEvery(client: Requester, durationMs: number): Promise<{ rounds: number[]; failures: number }> {
  const rounds: number[] = [];
  let failures = 0;
  const until = Date.now() + durationMs;
  let next = Date.now();
  while (Date.now() < until) {
    const t0 = performance.now();
    try {
      const r = await client.request('issue', { serviceId: 'retirement' }, 10_000);
      if (r.status === 'ok') rounds.push(performance.now() - t0);
      else failures++;
    } catch {
      failures++;
    }
    next += ISSUE_EVERY_MS;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return { rounds, failures };
}

export function describe(result: AbuseResult): string[] {
  const c = result.control;
  const lines = [
    `requests under abuse: daemon idle RSS ${result.idleRssMB} MB; targets: the other operator's issue p99 ≤ ${result.targetP99Ms} ms, peak RSS ≤ idle + ${result.targetRssGrowthMB} MB, daemon alive, flooder told busy`,
    `  no flood (control, not judged): the other operator's issue every ${ISSUE_EVERY_MS} ms p50 ${c.otherIssue.p50} ms, p99 ${c.otherIssue.p99} ms, max ${c.otherIssue.max} ms (${c.otherIssue.samples} samples, ${c.otherFailures} failed)`,
  ];
  for (const f of result.floods) {
    lines.push(
      `  flood of ${f.command} (${f.flood.sent} sent in ${FLOOD_MS / 1000} s: ${f.flood.ok} ok, ${f.flood.busy} busy, ${f.flood.otherErrors} other${f.flood.otherErrors ? ` ${JSON.stringify(f.flood.otherCodes)}` : ''}${f.flood.cut ? ', flooder cut' : ''}): other operator's issue every ${ISSUE_EVERY_MS} ms p50 ${f.otherIssue.p50} ms, p99 ${f.otherIssue.p99} ms, max ${f.otherIssue.max} ms (${f.otherIssue.samples} samples, ${f.otherFailures} failed); daemon peak RSS ${f.peakRssMB} MB (+${Math.round((f.peakRssMB - result.idleRssMB) * 10) / 10}); ${f.daemonAlive ? 'alive' : 'DIED'} — ${f.meetsTarget ? 'met' : 'MISSED'}`,
    );
  }
  lines.push(`requests under abuse: ${result.meetsTarget ? 'met' : 'MISSED'}`);
  return lines;
}

/** The flooder: publishes as fast as the socket takes it (QoS 0), counting the answers. */
async function flood(job: FloodJob): Promise<void> {
  const client = await connect(`mqtt://127.0.0.1:${job.port}`, TEST_USERS.operator.username, TEST_USERS.operator.password);
  const tally: FloodTally = { sent: 0, ok: 0, busy: 0, otherErrors: 0, otherCodes: {}, cut: false };
  client.on('message', (_topic, payload) => {
    const answer = JSON.parse(payload.toString()) as { status: string; code?: string };
    if (answer.status === 'ok') tally.ok++;
    else if (answer.code === 'busy') tally.busy++;
    else {
      tally.otherErrors++;
      tally.otherCodes[answer.code ?? 'none'] = (tally.otherCodes[answer.code ?? 'none'] ?? 0) + 1;
    }
  });
  await client.subscribeAsync(`${BASE}/bridge/response/${job.command}`, { qos: 0 });
  const body = job.command === 'issue' ? { serviceId: 'social-security' } : {};
  const until = Date.now() + job.durationMs;
  const topic = `${BASE}/bridge/request/${job.command}`;
  let closed = false;
  client.once('close', () => (closed = true));
  while (Date.now() < until && !closed) {
    // A batch per turn, then wait for the socket to drain: as fast as the link takes it. The
    // daemon may stop reading this connection (back-pressure) or cut it: never wait past the end.
    for (let i = 0; i < 200; i++) client.publish(topic, JSON.stringify({ transaction: `f${tally.sent++}`, ...body }), { qos: 0 });
    await new Promise<void>((resolve) => setImmediate(resolve));
    const stream = (client as unknown as { stream?: { writableLength?: number; once(e: string, f: () => void): void; off(e: string, f: () => void): void } }).stream;
    if (stream?.writableLength && stream.writableLength > 1 << 20) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, until - Date.now()));
        stream.once('drain', done);
        stream.once('close', done);
      });
    }
  }
  tally.cut = closed;
  await new Promise((resolve) => setTimeout(resolve, 500)); // the last answers
  parentPort!.postMessage(tally);
  await client.endAsync(true);
}

if (!isMainThread && (workerData as Partial<FloodJob> | undefined)?.role === 'request-flood') {
  void flood(workerData as FloodJob);
} else if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify({ abuse: result }));
}
