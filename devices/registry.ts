import type { DeviceKind } from '../src/device-contract/index.js';
import { counterPadKind } from './counter-pad/kind.js';
import { dispenserKind } from './dispenser/kind.js';
import { healthGateKind } from './health-gate/kind.js';
import { ledBx5kKind } from './led-bx5k/kind.js';
import { voiceCallerKind } from './voice-caller/kind.js';

/**
 * Every device kind the daemon knows. A new device kind is a folder under devices/ and one line
 * here; config validation and the daemon both read this list.
 */
export function deviceKinds(): Map<string, DeviceKind<unknown>> {
  const kinds = [counterPadKind, dispenserKind, healthGateKind, ledBx5kKind, voiceCallerKind] as unknown as Array<DeviceKind<unknown>>;
  return new Map(kinds.map((kind) => [kind.kind, kind]));
}
