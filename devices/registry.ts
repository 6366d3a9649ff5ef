import type { DeviceKind } from '../src/hall/device-api.js';

/**
 * Every device kind the daemon knows. A new device kind is a folder under devices/ and one line
 * here; config validation and the daemon both read this list.
 */
export function deviceKinds(): Map<string, DeviceKind<unknown>> {
  const kinds: Array<DeviceKind<never>> = [];
  return new Map(kinds.map((kind) => [kind.kind, kind as unknown as DeviceKind<unknown>]));
}
