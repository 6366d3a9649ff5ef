import type { DeviceKindInfo, LazyDeviceKind } from '../src/device-contract/index.js';
import { counterPadKindInfo } from './counter-pad/info.js';
import { dispenserKindInfo } from './dispenser/info.js';
import { healthGateKindInfo } from './health-gate/info.js';
import { ledBx5kKindInfo } from './led-bx5k/info.js';
import { voiceCallerKindInfo } from './voice-caller/info.js';

/** A kind's info plus the import of its driver, done only when a device of the kind is configured. */
function lazy<O>(info: DeviceKindInfo<O>, load: LazyDeviceKind<O>['load']): LazyDeviceKind<unknown> {
  return { ...info, load } as unknown as LazyDeviceKind<unknown>;
}

/**
 * Every device kind the daemon knows. A new device kind is a folder under devices/ and one line
 * here; config validation and the daemon both read this list. Only the light part (options
 * schema, alarms) is imported here: the drivers pull in serialport, modbus-serial and the printer
 * library, which cost seconds of start-up on a loaded 2-core box when no such device exists.
 */
export function deviceKinds(): Map<string, LazyDeviceKind<unknown>> {
  const kinds = [
    lazy(counterPadKindInfo, async () => (await import('./counter-pad/kind.js')).counterPadKind),
    lazy(dispenserKindInfo, async () => (await import('./dispenser/kind.js')).dispenserKind),
    lazy(healthGateKindInfo, async () => (await import('./health-gate/kind.js')).healthGateKind),
    lazy(ledBx5kKindInfo, async () => (await import('./led-bx5k/kind.js')).ledBx5kKind),
    lazy(voiceCallerKindInfo, async () => (await import('./voice-caller/kind.js')).voiceCallerKind),
  ];
  return new Map(kinds.map((kind) => [kind.kind, kind]));
}
