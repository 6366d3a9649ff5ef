#!/usr/bin/env node
import { createLogger } from '../platform/logger.js';
import { VERSION } from '../platform/version.js';
// Each command's module is imported when it runs: `run` is on the restart path, and the demo's
// simulators, the stats client and the journal tools would otherwise load with every start.

const USAGE = `hall-edge ${VERSION} — the controller daemon of a public-service hall

Usage:
  hall-edge run --config FILE [--accept-journal-loss]
                                         run the daemon
  hall-edge demo [--state DIR] [--real-hours] [--tcp-port N] [--ws-port N] [--uplink mqtt://[user:pass@]host:port]
                                         run the demo hall: embedded broker, simulated devices,
                                         optionally sending its record to a central broker
  hall-edge check-config FILE            validate a config file without starting
  hall-edge passwd [--password P]        print a scrypt hash for a user's password (reads stdin)
  hall-edge stats --config FILE [--day YYYY-MM-DD] [--csv]
                                         a day's figures from the journal
  hall-edge journal verify|recover|export (--config FILE | --state DIR | --file JOURNAL)
                                         check the journal, rebuild it into a new file,
                                         or export a day (--day YYYY-MM-DD) as JSON lines
  hall-edge simulate --config FILE (--tickets N --profile P | --arrivals CSV | --replay-day D --journal FILE)
                   [--windows 28..36] [--target-p90 MIN] [--csv|--json] [--svg FILE]
                                         a what-if day on the real queue engine (simulate --help)
  hall-edge collect --mqtt URL [--username U --password-file F] --database postgres://… [--group NAME]
                                         the central collector: halls' uplinks into PostgreSQL
  hall-edge collect stats --database postgres://… [--day YYYY-MM-DD] [--csv | --json]
                                         the city table: every hall's figures for a day
  hall-edge voice build-clips --out DIR  generate the default voice clip set with espeak-ng
  hall-edge --version | --help
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return (await import('./run.js')).runCommand(rest);
    case 'demo':
      return (await import('./demo.js')).demoCommand(rest);
    case 'check-config':
      return (await import('./check-config.js')).checkConfigCommand(rest);
    case 'passwd':
      return (await import('./passwd.js')).passwdCommand(rest);
    case 'stats':
      return (await import('./stats.js')).statsCommand(rest);
    case 'journal':
      return (await import('./journal.js')).journalCommand(rest);
    case 'simulate': {
      const { simulateCommand } = await import('./simulate.js');
      return simulateCommand(rest);
    }
    case 'collect': {
      const { collectCommand } = await import('./collect.js');
      return collectCommand(rest);
    }
    case 'voice': {
      const { voiceCommand } = await import('./voice.js');
      return voiceCommand(rest);
    }
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`hall-edge: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const log = createLogger();
    log.fatal({ err }, 'hall-edge failed');
    process.exitCode = 1;
  },
);
