import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../platform/logger.js';
import { loadConfigForCli } from './load-config.js';
import { startDaemon, type RunningDaemon } from '../hall/daemon.js';

export async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, 'accept-journal-loss': { type: 'boolean', default: false } }, strict: true });
  if (!values.config) {
    process.stderr.write('hall-edge run: --config FILE is required\n');
    return 2;
  }
  const config = loadConfigForCli(values.config);
  if (!config) return 1;
  const log = createLogger({ level: config.log?.level });
  const invocation = `hall-edge run --config ${values.config}`;
  return runUntilSignal(log, () => startDaemon({ config, log, acceptJournalLoss: values['accept-journal-loss'], invocation }));
}

/**
 * Runs a daemon until SIGTERM/SIGINT, then stops it cleanly (offline state published, journal
 * closed). A second signal forces the exit.
 */
export interface RunHooks {
  onStarted?: (daemon: RunningDaemon) => void | Promise<void>;
  /** On the signal, before the daemon stops (the demo stops its scripted staff and visitors). */
  beforeStop?: () => void;
  /** Once the daemon has stopped (the demo closes its simulated hardware then). */
  afterStopped?: () => Promise<void>;
}

export async function runUntilSignal(log: Logger, start: () => Promise<RunningDaemon>, hooks: RunHooks = {}): Promise<number> {
  const { onStarted, beforeStop, afterStopped } = hooks;
  installCrashHandlers(log);
  let daemon: RunningDaemon;
  try {
    daemon = await start();
  } catch (err) {
    log.fatal({ err }, `could not start: ${(err as Error).message}`);
    return 1;
  }
  await onStarted?.(daemon);
  return new Promise<number>((resolve) => {
    let signalled = false;
    const stop = (signal: NodeJS.Signals) => {
      if (signalled) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      signalled = true;
      log.info({ signal }, 'stopping');
      beforeStop?.();
      // The daemon first, then whatever ran beside it (the demo's simulated hardware): devices
      // vanishing under a running daemon would be logged as faults.
      daemon
        .stop()
        .then(() => afterStopped?.())
        .then(
          () => resolve(0),
          (err: unknown) => {
            log.error({ err }, 'stop failed');
            resolve(1);
          },
        );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function installCrashHandlers(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    // A bug, but not one worth dropping every device and client for: log it loudly and go on.
    log.error({ err: reason }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (err) => {
    // State may be inconsistent; the journal holds everything acknowledged, so exit and let
    // systemd restart us from it.
    log.fatal({ err }, 'uncaught exception: exiting for a clean restart');
    process.exit(70);
  });
}
