import type { DeviceKind } from '../../src/device-contract/index.js';
import { HealthGateDriver, type GpioBackendProvider } from './driver.js';
import { healthGateKindInfo } from './info.js';
import type { HealthGateOptions } from './options.js';

/**
 * The entrance health gate as a device kind. `healthGateKind` drives the turnstile through the
 * gate's own Modbus coil; a hall whose turnstile hangs on a box GPIO needs the kind made with
 * the platform's GPIO backends (`createHealthGateKind({ gpio })`).
 */
export function createHealthGateKind(deps: { gpio?: GpioBackendProvider } = {}): DeviceKind<HealthGateOptions> {
  return {
    ...healthGateKindInfo,
    create: (id, options, ctx) => new HealthGateDriver(id, options, ctx, deps.gpio),
  };
}

export const healthGateKind: DeviceKind<HealthGateOptions> = createHealthGateKind();
