import { z } from 'zod';

/** One device = one RS-485 line of BX-5K controllers (one per window display, plus hall screens). */
export const ledBx5kDisplay = z
  .object({
    address: z.number().int().min(1).max(0xfffd),
    window: z.string().min(1).optional(),
    role: z.enum(['window', 'hall']),
    /** Pixels; BX-5K areas are placed in 8-pixel columns. */
    width: z.number().int().positive().multipleOf(8),
    height: z.number().int().positive(),
    /** Inline font code sent before every text, e.g. \FO000. */
    font: z
      .string()
      .regex(/^\\F[A-Z]\d{3}$/, 'a BX-5K font code like \\FO000')
      .optional(),
  })
  .strict()
  .refine((d) => d.role !== 'window' || d.window !== undefined, 'a window display needs `window`');

export const ledBx5kOptions = z
  .object({
    port: z.string().min(1),
    baudRate: z.union([z.literal(9600), z.literal(19200), z.literal(38400), z.literal(57600), z.literal(115200)]).default(57600),
    replyTimeoutMs: z.number().int().positive().default(300),
    /** Resends after a reply timeout or a CRC error. */
    retries: z.number().int().min(0).max(5).default(2),
    /** Failed updates in a row after which a display is reported offline (and probed in the background). */
    offlineAfter: z.number().int().positive().default(3),
    /** Background ping of offline displays. */
    probeIntervalMs: z.number().int().positive().default(5000),
    /** The hall display is refreshed at most this often. */
    hallRefreshMs: z.number().int().min(0).default(300),
    /** How long an operator's broadcast stays on the hall display. */
    noticeSeconds: z.number().int().min(1).max(3600).default(60),
    /** A busy controller is asked again after this long, up to busyRetries times. */
    busyRetryMs: z.number().int().positive().default(50),
    busyRetries: z.number().int().min(0).max(10).default(3),
    displays: z
      .array(ledBx5kDisplay)
      .min(1)
      .refine((ds) => new Set(ds.map((d) => d.address)).size === ds.length, 'display addresses must be unique on a line'),
  })
  .strict();

export type LedBx5kOptions = z.output<typeof ledBx5kOptions>;
export type LedBx5kOptionsInput = z.input<typeof ledBx5kOptions>;
export type LedBx5kDisplayOptions = z.output<typeof ledBx5kDisplay>;
