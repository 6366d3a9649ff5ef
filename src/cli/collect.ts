import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../platform/logger.js';
import { Collector } from '../central/collector.js';
import { cityTable, type CityRow } from '../central/city-stats.js';
import { centralPool } from '../central/database.js';

const USAGE = `hall-edge collect --mqtt URL [--username U --password-file F] --database postgres://... [--group NAME]
hall-edge collect stats --database postgres://... [--day YYYY-MM-DD] [--csv | --json]`;

/** `hall-edge collect`: the central collector, or (`collect stats`) the city table from its database. */
export async function collectCommand(args: string[]): Promise<number> {
  if (args[0] === 'stats') return statsCommand(args.slice(1));
  const { values } = parseArgs({
    args,
    options: {
      mqtt: { type: 'string' },
      username: { type: 'string' },
      'password-file': { type: 'string' },
      database: { type: 'string' },
      group: { type: 'string', default: 'collectors' },
      'client-id': { type: 'string' },
      'verify-seconds': { type: 'string', default: '300' },
    },
    strict: true,
  });
  if (!values.mqtt || !values.database) {
    process.stderr.write(`hall-edge collect: --mqtt and --database are required\n${USAGE}\n`);
    return 2;
  }
  let password: string | undefined;
  if (values['password-file']) {
    try {
      password = readFileSync(values['password-file'], 'utf8').split(/\r?\n/, 1)[0];
    } catch (err) {
      process.stderr.write(`hall-edge collect: cannot read --password-file: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const log = createLogger();
  const collector = new Collector({
    mqttUrl: values.mqtt,
    databaseUrl: values.database,
    group: values.group,
    log: log.child({ component: 'collector' }),
    verifySeconds: Number(values['verify-seconds']),
    ...(values.username !== undefined ? { username: values.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(values['client-id'] !== undefined ? { clientId: values['client-id'] } : {}),
  });
  try {
    await collector.start();
  } catch (err) {
    log.fatal({ err }, `collector could not start: ${(err as Error).message}`);
    return 1;
  }
  log.info({ group: values.group }, 'hall-edge collector running');
  return new Promise<number>((resolve) => {
    const stop = () => {
      collector.stop().then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'collector stop failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

async function statsCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { database: { type: 'string' }, day: { type: 'string' }, csv: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  if (!values.database) {
    process.stderr.write(`hall-edge collect stats: --database is required\n${USAGE}\n`);
    return 2;
  }
  if (values.day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.day)) {
    process.stderr.write(`hall-edge collect stats: --day must be YYYY-MM-DD\n`);
    return 2;
  }
  const pool = centralPool(values.database, 1);
  try {
    const rows = await cityTable(pool, values.day);
    if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else if (values.csv) process.stdout.write(toCsv(rows));
    else process.stdout.write(toText(rows));
    return 0;
  } catch (err) {
    // 42P01: no such table — the database is reachable but no collector has set it up yet.
    const message = (err as { code?: string }).code === '42P01' ? 'no collector has written to this database yet (start `hall-edge collect` on it first)' : (err as Error).message;
    process.stderr.write(`hall-edge collect stats: ${message}\n`);
    return 1;
  } finally {
    await pool.end();
  }
}

const COLUMNS: Array<[keyof CityRow, string]> = [
  ['hallId', 'hall'],
  ['name', 'name'],
  ['day', 'day'],
  ['issued', 'issued'],
  ['served', 'served'],
  ['waitP50Minutes', 'wait p50 min'],
  ['waitP90Minutes', 'wait p90 min'],
  ['handlingMeanMinutes', 'handling min'],
  ['evaluationRate', 'rated'],
  ['linkState', 'link'],
];

function toCsv(rows: CityRow[]): string {
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [COLUMNS.map(([, title]) => title).join(','), ...rows.map((row) => COLUMNS.map(([key]) => cell(row[key])).join(','))].join('\r\n') + '\r\n';
}

function toText(rows: CityRow[]): string {
  if (rows.length === 0) return 'no hall figures for that day\n';
  const table = [COLUMNS.map(([, title]) => title), ...rows.map((row) => COLUMNS.map(([key]) => (row[key] === null ? '-' : String(row[key]))))];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  return table.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
