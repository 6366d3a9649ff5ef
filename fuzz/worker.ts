import { runTarget } from './engine.js';
import { progressLine } from './report.js';
import { loadTarget } from './targets/load.js';

/**
 * Runs one target in a child process of its own (run.ts forks it): two targets fuzz at once, each
 * with its own heap, and process.cpuUsage() times only this target's inputs.
 */
const [name, inputs, seed] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const target = await loadTarget(name);
if (!target) throw new Error(`no fuzz target ${name}`);
const report = await runTarget(target, {
  inputs,
  seed,
  onProgress: (done, soFar) => process.connected && process.send?.({ progress: done, line: progressLine(soFar) }),
});
process.send?.({ report }, () => process.exit(0));
