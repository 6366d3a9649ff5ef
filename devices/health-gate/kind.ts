import type { DeviceKind } from '../../src/device-contract/index.js';
import { HealthGateDriver } from './driver.js';
import { healthGateKindInfo } from './info.js';
import type { HealthGateOptions } from './options.js';

/**
 * The entrance health gate as a device kind. The turnstile hangs on the gate's own Modbus coil or
 * on a box GPIO line, which the driver takes from its DeviceContext like every other kind.
 */
export const healthGateKind: DeviceKind<HealthGateOptions> = {
  ...healthGateKindInfo,
  create: (id, options, ctx) => new HealthGateDriver(id, options, ctx),
};
