import { connectMqtt } from '../bus/client.js';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toQueueModel } from '../config/load.js';
import type { HallConfig } from '../config/schema.js';
import { Journal, JournalError } from '../journal/journal.js';
import { silentLogger } from '../platform/logger.js';
import { HallCalendar } from '../queue/calendar.js';
import { computeDayStats, type DayStats } from '../queue/stats.js';
import { dayReportCsv } from '../hall/report-csv.js';
import { loadConfigForCli } from './load-config.js';

const USAGE = `usage: hall-edge stats --config FILE [--day YYYY-MM-DD] [--csv] [--user U --password P]
  Reads the journal directly when the daemon is stopped. While the daemon runs it holds the
  journal, so pass an operator's MQTT --user/--password and the figures are asked of it.
`;

export async function statsCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      day: { type: 'string' },
      csv: { type: 'boolean', default: false },
      user: { type: 'string', short: 'u' },
      password: { type: 'string', short: 'P' },
    },
    strict: true,
  });
  if (!values.config) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (values.day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.day)) {
    process.stderr.write(`hall-edge stats: --day must be YYYY-MM-DD, got "${values.day}"\n`);
    return 2;
  }
  const config = loadConfigForCli(values.config);
  if (!config) return 1;
  const model = toQueueModel(config);
  const day = values.day ?? new HallCalendar(model.clock).businessDay(Date.now());

  let stats: DayStats | undefined;
  try {
    stats = readFromJournal(config, day);
  } catch (err) {
    if (!(err instanceof JournalError) || err.code !== 'locked') throw err;
    if (!values.user || !values.password) {
      process.stderr.write(`hall-edge stats: the daemon is running and holds the journal; pass --user and --password of an operator to ask it over MQTT\n`);
      return 1;
    }
    try {
      stats = await askDaemon(config, day, values.user, values.password);
    } catch (askErr) {
      process.stderr.write(`hall-edge stats: could not get the figures from the daemon at ${config.mqtt.tcp.host}:${config.mqtt.tcp.port}: ${(askErr as Error).message}\n`);
      return 1;
    }
  }
  if (!stats) {
    process.stderr.write(`hall-edge stats: no journal entries for ${day}\n`);
    return 1;
  }
  if (values.csv) {
    const services = Object.fromEntries(config.services.map((s) => [s.id, s.name.zh]));
    const windows = Object.fromEntries(model.windows.map((w) => [w.id, w.name.zh]));
    process.stdout.write(dayReportCsv(stats, { services, windows }));
  } else {
    process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
  }
  return 0;
}

function readFromJournal(config: HallConfig, day: string): DayStats | undefined {
  const journal = Journal.open(join(config.stateDir, 'journal.db'), silentLogger(), { lockTimeoutMs: 200 });
  try {
    const stored = journal.dailyStats(day);
    if (stored) return stored;
    const events = journal.readDay(day);
    return events.length > 0 ? computeDayStats(toQueueModel(config), events) : undefined;
  } finally {
    journal.close();
  }
}

async function askDaemon(config: HallConfig, day: string, username: string, password: string): Promise<DayStats | undefined> {
  const host = config.mqtt.tcp.host === '0.0.0.0' ? '127.0.0.1' : config.mqtt.tcp.host;
  const client = await connectMqtt(`mqtt://${host}:${config.mqtt.tcp.port}`, { username, password, reconnectPeriod: 0, connectTimeout: 5000 });
  try {
    const base = `hall/${config.hall.id}`;
    const transaction = `stats-${process.pid}`;
    const response = new Promise<{ status: string; data?: DayStats; error?: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the daemon did not answer within 10 s')), 10_000);
      client.on('message', (_topic, payload) => {
        const message = JSON.parse(payload.toString()) as { transaction?: string; status: string; data?: DayStats; error?: string };
        if (message.transaction !== transaction) return;
        clearTimeout(timer);
        resolve(message);
      });
    });
    await client.subscribeAsync(`${base}/bridge/response/stats`, { qos: 1 });
    await client.publishAsync(`${base}/bridge/request/stats`, JSON.stringify({ transaction, day }), { qos: 1 });
    const answer = await response;
    if (answer.status !== 'ok') {
      if (answer.error?.startsWith('no journal entries')) return undefined;
      throw new Error(answer.error ?? 'the daemon refused the request');
    }
    return answer.data;
  } finally {
    await client.endAsync();
  }
}
