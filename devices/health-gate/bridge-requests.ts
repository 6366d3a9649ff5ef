import { z } from 'zod';
import { bridgeRequest } from '../../src/device-contract/index.js';
import type { HealthGateDriver } from './driver.js';

/** An operator's hold: the same fields on `device/<id>/hold` and `bridge/request/gate-hold`. */
export const holdRequestSchema = z.strictObject({ mode: z.enum(['open', 'shut', 'auto']) });

/** `bridge/request/gate-hold`: every gate (or the one named) held open, shut or back to automatic. */
export const gateBridgeRequests = [
  bridgeRequest({
    name: 'gate-hold',
    schema: holdRequestSchema,
    fanOut: { to: 'each', listKey: 'gates' },
    handle: (driver, { mode }, caller) => (driver as HealthGateDriver).hold(mode, caller.username),
  }),
];
