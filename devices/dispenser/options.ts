import { z } from 'zod';
import { contactSchema } from '../../src/device-contract/contact.js';

const localized = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });

const printerInterface = z.union([
  z.string().regex(/^(tcp:\/\/[^/:]+(:\d+)?\/?|\/dev\/.+)$/, 'a printer interface is "tcp://host:port" or a device file such as /dev/usb/lp0'),
  z.strictObject({ serial: z.string().min(1), baudRate: z.number().int().positive().default(9600) }),
]);

export const dispenserOptions = z.strictObject({
  /** Printed at the top of the ticket; the hall id when absent. */
  hallName: localized.optional(),
  /** QR payload template with {day}, {number}, {hall}; ASCII after substitution. */
  ticketUrl: z.string().optional(),
  printer: z.strictObject({
    type: z.enum(['epson', 'star']).default('epson'),
    interface: printerInterface,
    /** 0 turns status polling off. */
    statusPollMs: z.number().int().min(0).default(2000),
    confirmTimeoutMs: z.number().int().positive().default(5000),
    statusTimeoutMs: z.number().int().positive().default(1000),
  }),
  buttons: z
    .array(
      z.strictObject({
        service: z.string().min(1),
        priority: z.boolean().optional(),
        gpio: z.strictObject({
          backend: z.enum(['sysfs', 'chardev']),
          line: z.number().int().min(0),
          chip: z.string().optional(),
          activeLow: z.boolean().optional(),
          debounceMs: z.number().int().min(0).optional(),
        }),
      }),
    )
    .default([]),
  appointmentReader: z.strictObject({ port: z.string().min(1), baudRate: z.number().int().positive().default(9600) }).optional(),
  appointments: z
    .strictObject({
      /** HMAC salt for codes and ID numbers; a random one per start when absent. */
      salt: z.string().min(8).optional(),
      earlyMinutes: z.number().int().min(0).default(30),
      lateMinutes: z.number().int().min(0).default(15),
    })
    .prefault({}),
  footer: localized.optional(),
});

export type DispenserOptions = z.output<typeof dispenserOptions>;

/** `device/<id>/issue` from a kiosk or phone. */
export const issueRequest = z.strictObject({
  serviceId: z.string().min(1),
  priority: z.boolean().optional(),
  items: z.array(z.string()).max(20).optional(),
  channel: z.enum(['kiosk', 'mobile']).optional(),
  /** The visitor's phone or app account for "your turn is near" notices (never printed, never logged). */
  contact: contactSchema.optional(),
});

/** `device/<id>/reprint` from an operator. */
export const reprintRequest = z.strictObject({
  number: z.string().min(1),
});

/** `device/<id>/appointments` from the central server: replaces today's book. */
export const appointmentsRequest = z.strictObject({
  appointments: z.array(
    z.strictObject({
      serviceId: z.string().min(1),
      slotStart: z.number().int(),
      slotEnd: z.number().int(),
      code: z.string().optional(),
      idNumber: z.string().optional(),
    }),
  ),
});
