import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ZodType } from 'zod';
import { hallConfigSchema, type HallConfig } from './schema.js';
import { formatIssues } from './format-issues.js';
import { validateDeviceOptions } from './device-options.js';
import { parseYaml } from './yaml-source.js';

export { toQueueModel } from './to-queue-model.js';
export { validateDeviceOptions } from './device-options.js';
export type { HallConfig } from './schema.js';

/** Everything wrong with a config file, one problem per line, each naming the field to fix. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${file}: invalid configuration (${count})\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Options schemas of the device kinds; without it device options are not checked. */
  deviceKinds?: ReadonlyMap<string, ZodType>;
}

/** Reads, parses and validates a config file; relative paths in it are taken from its directory. */
export function loadConfig(file: string, options: LoadOptions = {}): HallConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [code === 'ENOENT' ? 'file not found' : `cannot read the file: ${(err as Error).message}`]);
  }
  return parseConfig(text, file, options);
}

/**
 * Validates config text. `file` names it in errors and anchors relative paths (the current
 * directory when absent).
 */
export function parseConfig(text: string, file?: string, options: LoadOptions = {}): HallConfig {
  const yaml = parseYaml(text);
  if (!yaml.ok) throw new ConfigError(file ?? '<config>', yaml.problems);
  return parseConfigDocument(yaml.value, file, options);
}

/**
 * Validates the data of a config document (what the YAML text parses to): schema, paths,
 * cross-checks, device options. parseConfig's second half; the fuzzer also feeds it documents
 * directly, since writing each one out as YAML cost more than checking it.
 */
export function parseConfigDocument(value: unknown, file?: string, options: LoadOptions = {}): HallConfig {
  const name = file ?? '<config>';
  const baseDir = file ? dirname(resolve(file)) : process.cwd();
  if (value === null || value === undefined) throw new ConfigError(name, ['the file is empty: expected the hall configuration (hall, services, windows, users, ...)']);

  const result = hallConfigSchema.safeParse(value, { reportInput: true });
  if (!result.success) throw new ConfigError(name, formatIssues(result.error.issues));

  const config = resolvePaths(result.data, baseDir);
  const problems = [...missingFiles(config), ...(options.deviceKinds ? validateDeviceOptions(config, options.deviceKinds) : [])];
  if (problems.length > 0) throw new ConfigError(name, problems);
  return config;
}

function resolvePaths(config: HallConfig, baseDir: string): HallConfig {
  const at = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  const tls = config.mqtt.tls;
  const uplink = config.uplink;
  const optional = (path: string | undefined) => (path === undefined ? undefined : at(path));
  return {
    ...config,
    stateDir: at(config.stateDir),
    journal: {
      ...config.journal,
      ...(config.journal.watermarkMirror !== undefined ? { watermarkMirror: at(config.journal.watermarkMirror) } : {}),
      backup: { ...config.journal.backup, ...(config.journal.backup.dir !== undefined ? { dir: at(config.journal.backup.dir) } : {}) },
    },
    ...(uplink
      ? { uplink: { ...uplink, passwordFile: optional(uplink.passwordFile), ca: optional(uplink.ca), cert: optional(uplink.cert), key: optional(uplink.key) } }
      : {}),
    mqtt: {
      ...config.mqtt,
      ...(tls ? { tls: { ...tls, cert: at(tls.cert), key: at(tls.key), ...(tls.ca !== undefined ? { ca: at(tls.ca) } : {}) } } : {}),
    },
  };
}

/** TLS and password files are read at start; a missing one is better reported now, by field. */
function missingFiles(config: HallConfig): string[] {
  const { tls } = config.mqtt;
  const uplink = config.uplink;
  const files: Array<[string, string | undefined]> = [
    ['mqtt.tls.cert', tls?.cert],
    ['mqtt.tls.key', tls?.key],
    ['mqtt.tls.ca', tls?.ca],
    ['uplink.passwordFile', uplink?.passwordFile],
    ['uplink.ca', uplink?.ca],
    ['uplink.cert', uplink?.cert],
    ['uplink.key', uplink?.key],
  ];
  const problems: string[] = [];
  for (const [field, path] of files) {
    if (path === undefined) continue;
    try {
      if (!statSync(path).isFile()) problems.push(`${field}: ${path} is not a file`);
    } catch {
      problems.push(`${field}: file not found: ${path}`);
    }
  }
  return problems;
}
