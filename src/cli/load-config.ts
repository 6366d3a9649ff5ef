import { loadConfig, ConfigError } from '../config/load.js';
import type { HallConfig } from '../config/schema.js';
import { deviceKindSchemas } from './device-schemas.js';

/**
 * Loads a hall config for a CLI command, device options included. A broken config is printed
 * to stderr as the list of problems (never a stack trace) and gives undefined.
 */
export function loadConfigForCli(file: string): HallConfig | undefined {
  try {
    return loadConfig(file, { deviceKinds: deviceKindSchemas() });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}
