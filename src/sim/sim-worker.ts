/**
 * A what-if run in a worker thread: the daemon's `simulate` request starts one, so the sweep's
 * CPU time is spent beside the live hall's event loop, never in it; the daemon terminates it
 * at its time limit. Input and output are plain data (structured clone).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { QueueModel } from '../queue/model.js';
import { planSimulation, type SimRequest } from './plan.js';
import { p90Chart } from './svg-chart.js';
import { runSweep } from './sweep.js';

export interface SimWorkerInput {
  model: QueueModel;
  request: SimRequest;
}

export type SimWorkerOutput = { ok: true; data: Record<string, unknown> } | { ok: false; message: string };

export function runWhatIf(input: SimWorkerInput): SimWorkerOutput {
  try {
    const plan = planSimulation(input.model, input.request);
    const result = runSweep({ variants: plan.variants, days: plan.days, targetP90Minutes: input.request.targetP90, now: () => performance.now() });
    return {
      ok: true,
      data: {
        arrivals: plan.arrivals,
        handling: plan.handling,
        days: plan.days.length,
        variants: result.variants,
        target: result.target ?? null,
        svg: p90Chart(result, { title: `Waiting p90 (min) — ${plan.arrivals}` }),
        elapsedMs: Math.round(result.elapsedMs),
      },
    };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

if (parentPort && workerData) parentPort.postMessage(runWhatIf(workerData as SimWorkerInput));
