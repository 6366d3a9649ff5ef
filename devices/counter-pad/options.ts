import { z } from 'zod';

/** One device = one serial line of pads (RS-485 bus, or a point-to-point port with one pad). */
export const counterPadOptions = z
  .strictObject({
    port: z.string().min(1),
    baudRate: z.number().int().positive().default(19200),
    pads: z
      .array(z.strictObject({ address: z.number().int().min(1).max(254), window: z.string().min(1) }))
      .min(1)
      .refine((pads) => new Set(pads.map((p) => p.address)).size === pads.length, 'pad addresses must be unique on a line')
      .refine((pads) => new Set(pads.map((p) => p.window)).size === pads.length, 'one pad per window'),
    /** Sent in RATE-REQ: how long the customer has to rate. */
    rateTimeoutSeconds: z.number().int().min(1).max(999).default(20),
    /** The host's own deadline is the pad's timeout plus this, for a pad that never answers. */
    rateMarginSeconds: z.number().min(0).default(5),
    /** The pads' heartbeat period; a pad silent for 3 periods is offline. */
    heartbeatSeconds: z.number().positive().default(10),
    ackTimeoutMs: z.number().int().positive().default(150),
    hostResends: z.number().int().min(0).max(5).default(2),
    /** Waiting-count changes are coalesced and sent at most this often. */
    waitingRefreshMs: z.number().int().positive().default(5000),
  })
  .strict();

export type CounterPadOptions = z.output<typeof counterPadOptions>;
export type CounterPadOptionsInput = z.input<typeof counterPadOptions>;
