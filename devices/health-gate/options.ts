import { z } from 'zod';
import { registerMapSchema } from './registers.js';
import { gatePolicySchema } from './policy.js';
import { DEFAULT_SCAN_RULES, scanRuleSchema } from './scan-rules.js';

/** Config of one `health-gate` device entry. Every field but `modbus` has a default. */
export const healthGateOptionsSchema = z
  .strictObject({
    modbus: z.union([
      z.strictObject({ tcp: z.string().regex(/^.+:\d{1,5}$/, 'expected "host:port"') }).strict(),
      z
        .strictObject({
          rtu: z
            .strictObject({
              port: z.string().min(1),
              baudRate: z.number().int().positive().default(9600),
              parity: z.enum(['none', 'even', 'odd']).default('none'),
              unitId: z.number().int().min(1).max(247).optional(),
            })
            .strict(),
        })
        .strict(),
    ]),
    unitId: z.number().int().min(1).max(247).default(1),
    pollMs: z.number().int().min(20).max(10_000).default(200),
    timeoutMs: z.number().int().min(50).max(10_000).default(500),
    /** Another model's register layout; unspecified fields keep the default map. */
    registers: registerMapSchema.prefault({}),
    scanner: z
      .strictObject({
        port: z.string().min(1),
        baudRate: z.number().int().positive().default(9600),
        rules: z.array(scanRuleSchema).min(1).default(DEFAULT_SCAN_RULES),
      })
      .optional(),
    policy: gatePolicySchema.prefault({}),
    gate: z
      .strictObject({
        output: z
          .union([
            z.literal('modbus-coil'),
            z.strictObject({
              gpio: z.strictObject({
                line: z.number().int().min(0),
                chip: z.string().optional(),
                activeLow: z.boolean().default(false),
                backend: z.enum(['sysfs', 'chardev']).default('chardev'),
              }),
            }),
          ])
          .default('modbus-coil'),
        openSeconds: z.number().positive().max(60).default(3),
      })
      .prefault({}),
    alarmSeconds: z.number().positive().max(300).default(5),
    /** Polls with presence but an unmoving measurement counter before the sensor counts as frozen. */
    frozenPolls: z.number().int().min(2).default(15),
    /** Failed polls in a row before the gate is declared offline (one lost frame is not an outage). */
    failuresBeforeOffline: z.number().int().min(1).default(2),
    /** Journal the raw scan payload with each decision. Off: a health code is personal data. */
    storeScanPayload: z.boolean().default(false),
    /** Write the policy's fever threshold into the gate's holding register on connect, so its own display agrees. */
    writeThreshold: z.boolean().default(true),
  })
  .superRefine((options, ctx) => {
    if (options.policy.requireHealthCode && !options.scanner) {
      ctx.addIssue({ code: 'custom', path: ['scanner'], message: 'policy.requireHealthCode is on but no scanner is configured: add scanner.port or set policy.requireHealthCode: false' });
    }
  });

export type HealthGateOptions = z.infer<typeof healthGateOptionsSchema>;
export type HealthGateOptionsInput = z.input<typeof healthGateOptionsSchema>;
