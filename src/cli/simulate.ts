import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { toQueueModel } from '../config/load.js';
import { Journal, JournalError } from '../journal/journal.js';
import { silentLogger } from '../platform/logger.js';
import type { HallEvent } from '../queue/events.js';
import { planSimulation, SimRequestError, type SimRequest } from '../sim/plan.js';
import { PROFILES, type ProfileName } from '../sim/profiles.js';
import { serviceTable, sweepCsv, targetAnswerText, variantTable } from '../sim/report.js';
import { p90Chart } from '../sim/svg-chart.js';
import { runSweep } from '../sim/sweep.js';
import { loadConfigForCli } from './load-config.js';

const USAGE = `usage: hall-edge simulate --config FILE (--tickets N [--profile flat|morning-peak|policy-day]
                                       | --arrivals FILE.csv | --replay-day YYYY-MM-DD --journal FILE)
  [--windows 28..36] [--skills 'w13,w14=medical-insurance;w15=medical-insurance*3,social-security']...
  [--variant-config OTHER.yaml]... [--target-p90 MIN] [--days N] [--seed N] [--date YYYY-MM-DD]
  [--journal FILE [--history-days N]] [--handling config|empirical] [--distribution lognormal|exponential|fixed] [--cv X]
  [--mix svc=weight,...] [--priority-share X] [--no-show-share X]
  [--csv | --json] [--svg FILE]
  A what-if day on the hall's own queue engine and statistics, on a virtual clock: nothing is
  sent anywhere and the live hall's journal is only read.
`;

export async function simulateCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        tickets: { type: 'string' },
        profile: { type: 'string' },
        arrivals: { type: 'string' },
        'replay-day': { type: 'string' },
        journal: { type: 'string' },
        'history-days': { type: 'string' },
        handling: { type: 'string' },
        distribution: { type: 'string' },
        cv: { type: 'string' },
        windows: { type: 'string' },
        skills: { type: 'string', multiple: true },
        'variant-config': { type: 'string', multiple: true },
        'target-p90': { type: 'string' },
        days: { type: 'string' },
        seed: { type: 'string' },
        date: { type: 'string' },
        mix: { type: 'string' },
        'priority-share': { type: 'string' },
        'no-show-share': { type: 'string' },
        csv: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        svg: { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`hall-edge simulate: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.config) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfigForCli(values.config);
  if (!config) return 1;
  const model = toQueueModel(config);
  try {
    const num = (name: string, text: string | undefined): number | undefined => {
      if (text === undefined) return undefined;
      const n = Number(text);
      if (!Number.isFinite(n)) throw new SimRequestError(`--${name} must be a number, got "${text}"`);
      return n;
    };
    if (values.profile !== undefined && !(PROFILES as readonly string[]).includes(values.profile)) throw new SimRequestError(`--profile must be one of ${PROFILES.join(', ')}`);
    if (values.handling !== undefined && !['config', 'empirical'].includes(values.handling)) throw new SimRequestError('--handling must be config or empirical');
    if (values.distribution !== undefined && !['lognormal', 'exponential', 'fixed'].includes(values.distribution)) throw new SimRequestError('--distribution must be lognormal, exponential or fixed');
    const request: SimRequest = {
      ...(values.tickets !== undefined ? { tickets: num('tickets', values.tickets) } : {}),
      ...(values.profile !== undefined ? { profile: values.profile as ProfileName } : {}),
      ...(values.arrivals !== undefined ? { arrivalsCsv: readFileSync(values.arrivals, 'utf8') } : {}),
      ...(values.date !== undefined ? { date: values.date } : {}),
      ...(values.days !== undefined ? { days: num('days', values.days) } : {}),
      ...(values.seed !== undefined ? { seed: num('seed', values.seed) } : {}),
      ...(values.handling !== undefined ? { handling: values.handling as 'config' | 'empirical' } : {}),
      ...(values.distribution !== undefined ? { distribution: values.distribution as 'lognormal' } : {}),
      ...(values.cv !== undefined ? { cv: num('cv', values.cv) } : {}),
      ...(values.windows !== undefined ? { windows: values.windows } : {}),
      ...(values.skills ? { skills: values.skills } : {}),
      ...(values['target-p90'] !== undefined ? { targetP90: num('target-p90', values['target-p90']) } : {}),
      ...(values['priority-share'] !== undefined ? { priorityShare: num('priority-share', values['priority-share']) } : {}),
      ...(values['no-show-share'] !== undefined ? { behaviour: { noShowShare: num('no-show-share', values['no-show-share'])! } } : {}),
      ...(values.mix !== undefined ? { mix: parseMix(values.mix) } : {}),
    };
    if (values['variant-config']) {
      request.alternatives = [];
      for (const file of values['variant-config']) {
        const other = loadConfigForCli(file);
        if (!other) return 1;
        request.alternatives.push({ label: basename(file), model: toQueueModel(other) });
      }
    }
    if (values['replay-day'] !== undefined && !values.journal) throw new SimRequestError('--replay-day needs --journal FILE');
    if (values.journal) {
      const { replay, history } = readJournal(values.journal, values['replay-day'], num('history-days', values['history-days']) ?? 20);
      if (replay) request.replay = replay;
      request.history = history;
    }
    const plan = planSimulation(model, request);
    const result = runSweep({ variants: plan.variants, days: plan.days, targetP90Minutes: request.targetP90, now: () => performance.now() });
    if (values.svg) writeFileSync(values.svg, p90Chart(result, { title: `Waiting p90 (min) — ${plan.arrivals}` }));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ arrivals: plan.arrivals, handling: plan.handling, behaviour: plan.behaviour, variants: result.variants, target: result.target ?? null, firstDayStats: result.firstDays.map((d) => d.stats), elapsedMs: Math.round(result.elapsedMs) }, null, 2)}\n`);
      return 0;
    }
    if (values.csv) {
      process.stdout.write(sweepCsv(result));
      return 0;
    }
    const lines = [
      `Simulated ${plan.days.length} day(s) from ${plan.days[0]!.date}: ${plan.arrivals}.`,
      `Handling times: ${plan.handling}. Waits in minutes; a ticket never called counts up to closing.`,
      '',
    ];
    if (result.variants.length > 1) lines.push(variantTable(result), '');
    // The answer's hall in detail; without one, the largest hall tried.
    const detail = result.variants.find((v) => v.label === result.target?.label) ?? result.variants[result.variants.length - 1]!;
    const detailModel = plan.variants.find((v) => v.label === detail.label)!.model;
    lines.push(`${detail.label}, per service:`, serviceTable(detail, detailModel), '');
    const answer = targetAnswerText(result);
    if (answer) lines.push(answer);
    lines.push(`(${result.variants.length} variant(s) × ${plan.days.length} day(s) in ${Math.round(result.elapsedMs)} ms${values.svg ? `; chart written to ${values.svg}` : ''})`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    if (err instanceof SimRequestError || err instanceof JournalError || (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as Error).name === 'ArrivalsCsvError') {
      process.stderr.write(`hall-edge simulate: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

function parseMix(text: string): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [id, weight] = part.split('=');
    if (!id || weight === undefined || !Number.isFinite(Number(weight))) throw new SimRequestError(`--mix "${part}": expected service=weight`);
    mix[id.trim()] = Number(weight);
  }
  return mix;
}

/** The day to replay and the history before it (the last `historyDays` days with events). */
function readJournal(file: string, replayDay: string | undefined, historyDays: number): { replay?: { day: string; events: HallEvent[] }; history: HallEvent[][] } {
  const path = file.endsWith('.db') ? file : join(file, 'journal.db');
  const journal = Journal.open(path, silentLogger(), { lockTimeoutMs: 200 });
  try {
    const days = journal.days();
    let replay: { day: string; events: HallEvent[] } | undefined;
    if (replayDay !== undefined) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(replayDay)) throw new SimRequestError(`--replay-day must be YYYY-MM-DD, got "${replayDay}"`);
      const events = journal.readDay(replayDay);
      if (events.length === 0) throw new SimRequestError(`the journal has no events for ${replayDay} (days: ${days.slice(-5).join(', ') || 'none'})`);
      replay = { day: replayDay, events };
    }
    const past = days.filter((d) => replayDay === undefined || d <= replayDay).slice(-Math.max(1, historyDays));
    return { ...(replay ? { replay } : {}), history: past.map((d) => journal.readDay(d)) };
  } finally {
    journal.close();
  }
}
