import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How the systemd unit runs the daemon: node's flags from `ExecStart=` (those before the script)
 * and the variables of `Environment=`. The benchmarks start their daemon process the same way,
 * so what they measure (memory above all) is the daemon as deployed, and the unit stays the one
 * place these settings live.
 */
export interface DeployedRuntime {
  nodeArgs: string[];
  env: Record<string, string>;
}

/** The unit file of the checkout this module runs from (as source, or compiled under dist/). */
function unitPath(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'systemd', 'hall-edge.service');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('systemd/hall-edge.service not found above this module');
}

export function parseUnitRuntime(unit: string): DeployedRuntime {
  const nodeArgs: string[] = [];
  const env: Record<string, string> = {};
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('ExecStart=')) {
      const words = line.slice('ExecStart='.length).split(/\s+/);
      // /usr/bin/node <flags...> <script> <args...>: the flags are the words starting with '-'.
      for (const word of words.slice(1)) {
        if (!word.startsWith('-')) break;
        nodeArgs.push(word);
      }
    } else if (line.startsWith('Environment=')) {
      for (const pair of line.slice('Environment='.length).split(/\s+/)) {
        const at = pair.indexOf('=');
        if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
      }
    }
  }
  return { nodeArgs, env };
}

/** The unit's runtime settings, without the ones only meaningful under systemd. */
export function deployedRuntime(): DeployedRuntime {
  const { nodeArgs, env } = parseUnitRuntime(readFileSync(unitPath(), 'utf8'));
  delete env.NODE_ENV;
  return { nodeArgs, env };
}
