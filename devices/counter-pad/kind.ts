import type { DeviceKind } from '../../src/device-contract/index.js';
import { CounterPadDriver } from './driver.js';
import { counterPadKindInfo } from './info.js';
import type { CounterPadOptions } from './options.js';

/** Staff keypads with evaluator pads (呼叫器/评价器), one device per serial line of pads. */
export const counterPadKind: DeviceKind<CounterPadOptions> = {
  ...counterPadKindInfo,
  create: (id, options, ctx) => new CounterPadDriver(id, options, ctx),
};
