import { loadConfigForCli } from './load-config.js';

export async function checkConfigCommand(args: string[]): Promise<number> {
  const file = args[0];
  if (!file || args.length > 1) {
    process.stderr.write('usage: hall-edge check-config FILE\n');
    return 2;
  }
  const config = loadConfigForCli(file);
  if (!config) return 1;
  process.stdout.write(
    `${file}: OK — hall "${config.hall.id}", ${config.services.length} services, ${config.windows.length} windows, ` +
      `${config.users.length} users, ${(config.devices ?? []).length} devices\n`,
  );
  return 0;
}
