import { loadConfig, ConfigError } from '../config/load.js';
import { deviceKindSchemas } from './device-schemas.js';

export async function checkConfigCommand(args: string[]): Promise<number> {
  const file = args[0];
  if (!file || args.length > 1) {
    process.stderr.write('usage: hall-edge check-config FILE\n');
    return 2;
  }
  try {
    const config = loadConfig(file, { deviceKinds: deviceKindSchemas() });
    process.stdout.write(
      `${file}: OK — hall "${config.hall.id}", ${config.services.length} services, ${config.windows.length} windows, ` +
        `${config.users.length} users, ${(config.devices ?? []).length} devices\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
