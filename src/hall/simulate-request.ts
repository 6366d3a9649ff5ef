import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { RequestError } from '../bus/bridge.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../platform/logger.js';
import type { QueueModel } from '../queue/model.js';
import type { SimRequest } from '../sim/plan.js';
import { PROFILES } from '../sim/profiles.js';
import type { SimWorkerInput, SimWorkerOutput } from '../sim/sim-worker.js';
import type { MqttApi } from './mqtt-api.js';
import { formatZodIssues } from './request-schemas.js';

/** A what-if run is stopped (and answered `timeout`) after this long. */
export const SIMULATE_TIME_LIMIT_MS = 20_000;
/** The worker's heap: a sweep of days needs tens of MB; a runaway one is stopped here. */
const WORKER_HEAP_MB = 256;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');
const payloadSchema = z.strictObject({
  tickets: z.number().int().min(1).max(5000).optional(),
  profile: z.enum(PROFILES).optional(),
  arrivalsCsv: z.string().max(200_000).optional(),
  replayDay: day.optional(),
  date: day.optional(),
  days: z.number().int().min(1).max(20).optional(),
  seed: z.number().int().optional(),
  handling: z.enum(['config', 'empirical']).optional(),
  historyDays: z.number().int().min(1).max(30).optional(),
  distribution: z.enum(['lognormal', 'exponential', 'fixed']).optional(),
  cv: z.number().positive().max(5).optional(),
  windows: z.string().max(40).optional(),
  skills: z.array(z.string().min(1).max(500)).max(10).optional(),
  mix: z.record(z.string(), z.number().min(0)).optional(),
  targetP90: z.number().positive().max(600).optional(),
});

/**
 * `bridge/request/simulate` (admins only): a what-if day on the hall's own model, run in a
 * worker thread with a time limit so the live hall's event loop is never held; one run at a
 * time. History and a replayed day are read from the journal here (reads only).
 */
export function registerSimulateRequest(api: MqttApi, options: { model: QueueModel; journal: Journal; log: Logger; timeLimitMs?: number }): void {
  let running = false;
  api.addRequest('simulate', async (payload, caller) => {
    if (caller.role !== 'admin') throw new RequestError('forbidden', 'what-if simulation is for admins');
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) throw new RequestError('bad-request', formatZodIssues(parsed.error.issues));
    const sources = [parsed.data.tickets !== undefined || parsed.data.profile !== undefined, parsed.data.arrivalsCsv !== undefined, parsed.data.replayDay !== undefined].filter(Boolean).length;
    // Checked here, before a worker is started (the dashboard probes an admin's right with `{}`).
    if (sources !== 1) throw new RequestError('bad-request', 'give exactly one source of arrivals: tickets (with profile), arrivalsCsv, or replayDay');
    if (running) throw new RequestError('busy', 'a simulation is already running: try again when it has answered');
    const { replayDay, historyDays, ...rest } = parsed.data;
    const request: SimRequest = { ...rest };
    if (replayDay !== undefined) {
      const events = options.journal.readDay(replayDay);
      if (events.length === 0) throw new RequestError('unknown-day', `no journal entries for ${replayDay}`);
      request.replay = { day: replayDay, events };
    }
    if (request.handling === 'empirical') {
      const days = options.journal.days().filter((d) => replayDay === undefined || d <= replayDay).slice(-(historyDays ?? 5));
      request.history = days.map((d) => options.journal.readDay(d));
    }
    running = true;
    try {
      return await runInWorker({ model: options.model, request }, options.timeLimitMs ?? SIMULATE_TIME_LIMIT_MS, options.log);
    } finally {
      running = false;
    }
  });
}

export function runInWorker(input: SimWorkerInput, timeLimitMs: number, log: Logger): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const worker = new Worker(workerFile(), { workerData: input, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new RequestError('timeout', `the simulation took longer than ${Math.round(timeLimitMs / 1000)} s and was stopped: try fewer days or variants`));
    }, timeLimitMs);
    worker.once('message', (output: SimWorkerOutput) => {
      clearTimeout(timer);
      void worker.terminate();
      log.info({ ms: Date.now() - started, ok: output.ok }, 'simulation done');
      if (output.ok) resolve(output.data);
      else reject(new RequestError('bad-request', output.message));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      log.error({ err }, 'simulation worker failed');
      reject(new RequestError('internal', `the simulation failed: ${err.message}`));
    });
  });
}

/**
 * The worker's compiled file. From dist it sits beside this module's folder; when this module
 * runs from TypeScript sources (the test runner), the build's copy under dist/ is used.
 */
function workerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, '../sim/sim-worker.js');
  if (existsSync(sibling)) return sibling;
  let dir = here;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist/src/sim/sim-worker.js');
}
