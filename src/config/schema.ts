import { z } from 'zod';
import { describeValue } from './format-issues.js';
import { strictObject } from './strict-object.js';
import { uplinkSection } from './uplink-section.js';
import { notifySection } from './notify-section.js';
import { passwordHashProblem } from './password-format.js';
import { crossCheck } from './cross-checks.js';
import { isValidTimeZone, parseClockTime, parseTimeRange, WEEKDAY_NAMES } from './time.js';

/**
 * The hall's YAML config. Every object is strict, so a misspelt key is an error that names it
 * rather than a setting silently ignored. Checks that span sections (skills naming services,
 * unique numbers, ...) live in cross-checks.ts.
 */

function pattern(regex: RegExp, what: string) {
  return z.string().superRefine((value, ctx) => {
    if (!regex.test(value)) ctx.addIssue({ code: 'custom', message: `"${value}" is not a valid ${what}` });
  });
}

/** Ends up in MQTT topics (`hall/<id>`, `device/<id>`): lower case, no separators. */
const slug = (what: string) => z.string().max(64).pipe(pattern(/^[a-z0-9_-]+$/, `${what} (use a-z, 0-9, "-" and "_")`));
/** One MQTT topic level (`window/<id>`, `queue/<serviceId>`). */
const topicId = (what: string) => z.string().max(64).pipe(pattern(/^[A-Za-z0-9_-]+$/, `${what} (use letters, digits, "-" and "_")`));

function clockTime(options: { allowEndOfDay?: boolean } = {}) {
  return z.string().superRefine((value, ctx) => {
    if (parseClockTime(value, options) === undefined) {
      ctx.addIssue({ code: 'custom', message: `bad time "${value}": expected HH:MM from 00:00 to ${options.allowEndOfDay ? '24:00' : '23:59'}` });
    }
  });
}

const timeRange = z.string().superRefine((value, ctx) => {
  if (!parseTimeRange(value)) ctx.addIssue({ code: 'custom', message: `bad time range "${value}": expected "HH:MM-HH:MM" with the start before the end` });
});

const port = z.number().int().min(0).max(65535);
const host = z.string().min(1);

const localizedName = strictObject({ zh: z.string().min(1), en: z.string().min(1) });

const ticketUrl = z.string().superRefine((value, ctx) => {
  const unknown = [...value.matchAll(/\{([^}]*)\}/g)].map((match) => match[1]).filter((name) => name !== 'day' && name !== 'number');
  if (unknown.length > 0) {
    ctx.addIssue({ code: 'custom', message: `unknown placeholder {${unknown[0]}} (known: {day}, {number})` });
    return;
  }
  let url: URL | undefined;
  try {
    url = new URL(value.replaceAll('{day}', '2024-01-01').replaceAll('{number}', 'A001'));
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) ctx.addIssue({ code: 'custom', message: `"${value}" is not an http(s) URL` });
});

const publicUrl = z.string().superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || !/^[\x21-\x7e]+$/.test(value)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an http(s) base URL such as http://192.168.1.10:8080 (ASCII, no ?query or #fragment)` });
  }
});

const hall = strictObject({
  id: slug('hall id'),
  name: localizedName,
  timeZone: z.string().superRefine((value, ctx) => {
    if (!isValidTimeZone(value)) ctx.addIssue({ code: 'custom', message: `unknown time zone "${value}" (use an IANA name such as Asia/Shanghai)` });
  }),
  dayStartsAt: clockTime().default('04:00'),
  openDays: z.array(z.enum(WEEKDAY_NAMES)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
  openingHours: strictObject({ open: clockTime(), close: clockTime({ allowEndOfDay: true }) }),
  ticketUrl: ticketUrl.optional(),
});

const queue = strictObject({
  recallLimit: z.number().int().min(0).max(10).default(2),
  priorityServedBy: z.enum(['all-windows', 'priority-windows']).default('all-windows'),
  priorityGuard: z.number().int().min(0).max(100).default(3),
  requeuePlace: z.enum(['back', 'original']).default('back'),
  appointmentEarlyMinutes: z.number().int().min(0).max(240).default(10),
  appointmentLateGraceMinutes: z.number().int().min(0).max(1440).default(15),
  appointmentOnTimeMinutes: z.number().int().min(0).max(240).default(5),
  enforceWindowSchedule: z.boolean().default(true),
});

const service = strictObject({
  id: topicId('service id'),
  prefix: z.string().superRefine((value, ctx) => {
    if (!/^[A-Z]$/.test(value)) ctx.addIssue({ code: 'custom', message: `prefix must be one capital letter A-Z, got "${value}"` });
  }),
  digits: z.number().int().min(2).max(4).default(3),
  name: localizedName,
  dailyCap: z.number().int().min(1).optional(),
  averageHandlingMinutes: z.number().positive().max(480).default(8),
});

const skill = z.preprocess(
  (value) => (typeof value === 'string' ? { service: value } : value),
  strictObject({ service: z.string().min(1), weight: z.number().positive().max(1000).optional() }, 'expected a service id or { service: <id>, weight: <number> }'),
);

const window = strictObject({
  id: topicId('window id'),
  number: z.number().int().min(1).max(999),
  name: localizedName.optional(),
  skills: z.array(skill).min(1),
  skillMode: z.enum(['preference', 'weighted']).optional(),
  priorityWindow: z.boolean().default(false),
  /** Empty = the hall's opening hours. */
  schedule: z.array(timeRange).min(1).optional(),
})
  .superRefine((window, ctx) => {
    if (window.skillMode === 'preference' && window.skills.some((entry) => entry.weight !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['skillMode'], message: '"preference" ignores skill weights: remove the weights or use skillMode "weighted"' });
    }
  })
  .transform((window) => ({
  ...window,
  name: window.name ?? { zh: `${window.number}号窗口`, en: `Window ${window.number}` },
  skillMode: window.skillMode ?? (window.skills.some((entry) => entry.weight !== undefined) ? 'weighted' : 'preference'),
  skills: window.skills.map((entry) => ({ service: entry.service, weight: entry.weight ?? 1 })),
  schedule: window.schedule ?? [],
}));

const staffMember = strictObject({
  // Staff numbers are often written unquoted (1001); they are ids, not quantities.
  id: z.preprocess((value) => (typeof value === 'number' ? String(value) : value), z.string().min(1).max(64)),
  name: z.string().min(1),
});

const user = strictObject({
  username: z.string().min(1).max(64).pipe(pattern(/^[^\s$#+/]+$/, 'username (no spaces, "/", "+", "#" or "$")')),
  role: z.enum(['device', 'operator', 'observer', 'admin', 'display']),
  deviceId: topicId('device id').optional(),
  passwordHash: z.string().superRefine((value, ctx) => {
    const problem = passwordHashProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
});

const mqtt = strictObject({
  tcp: strictObject({ host: host.default('127.0.0.1'), port: port.default(1883) }).prefault({}),
  ws: strictObject({
    host: host.default('127.0.0.1'),
    port: port.default(8083),
    path: z.string().regex(/^\/\S*$/, { error: 'must start with "/"' }).default('/mqtt'),
  }).optional(),
  tls: strictObject({
    host: host.default('0.0.0.0'),
    port: port.default(8883),
    cert: z.string().min(1),
    key: z.string().min(1),
    ca: z.string().min(1).optional(),
    requireClientCert: z.boolean().optional(),
  }).optional(),
  // Broker protection (docs/mqtt-api.md "Broker limits"); an unset field takes the broker's default.
  limits: strictObject({
    maxConnectBytes: z.number().int().min(512).max(65_536).optional(),
    maxPacketBytes: z.number().int().min(4096).max(268_435_455).optional(),
    maxOutgoingBacklogBytes: z.number().int().min(65_536).max(1_073_741_824).optional(),
    passwordChecks: z.number().int().min(1).max(16).optional(),
    loginBackoffMs: z.number().int().min(0).max(60_000).optional(),
    loginBackoffMaxMs: z.number().int().min(0).max(600_000).optional(),
    pendingLoginsPerAddress: z.number().int().min(1).max(1000).optional(),
  }).optional(),
});

/** Per-connection request limits of one role; what is left out keeps its default (request-scheduler.ts). */
const requestLimits = strictObject({
  queue: z.number().int().min(1).max(100_000).optional(),
  perSecond: z.number().positive().optional(),
  burst: z.number().int().min(1).optional(),
  bigQueriesPerSecond: z.number().positive().optional(),
  running: z.number().int().min(1).max(256).optional(),
});
const requests = strictObject({
  device: requestLimits.optional(),
  operator: requestLimits.optional(),
  observer: requestLimits.optional(),
  admin: requestLimits.optional(),
  bigQueriesAtOnce: z.number().int().min(1).max(64).optional(),
  concurrent: z.number().int().min(1).max(256).optional(),
});

const device = strictObject({
  id: slug('device id'),
  kind: z.string().min(1),
  window: z.string().min(1).optional(),
  /** A mapping, validated by the device kind (validateDeviceOptions); typed unknown until then. */
  options: z
    .unknown()
    .superRefine((value, ctx) => {
      if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
        ctx.addIssue({ code: 'custom', message: `expected a mapping of the device kind's options, got ${describeValue(value)}` });
      }
    })
    .optional(),
});

/** The journal's protection against storage that loses data: watermark mirror, loss policy, backups. */
const journal = strictObject({
  /** Continue above the watermark when the journal is found behind it (like --accept-journal-loss, every time). */
  acceptLoss: z.boolean().default(false),
  /** A second copy of the watermark on another medium (USB stick, second partition). */
  watermarkMirror: z.string().min(1).optional(),
  backup: strictObject({
    /** Default: <stateDir>/backups. Better on another medium. */
    dir: z.string().min(1).optional(),
    keep: z.number().int().min(1).max(365).default(3),
    atClosing: z.boolean().default(true),
  }).prefault({}),
});

const hallConfigShape = strictObject({
  hall,
  queue: queue.prefault({}),
  services: z.array(service).min(1).max(26),
  windows: z.array(window).min(1).max(64),
  staff: z.array(staffMember).default([]),
  mqtt: mqtt.prefault({}),
  requests: requests.optional(),
  users: z.array(user).min(1, { error: 'needs at least one user: anonymous MQTT clients are refused' }),
  stateDir: z.string().min(1).default('/var/lib/hall-edge'),
  journal: journal.prefault({}),
  dashboard: strictObject({
    host: host.default('127.0.0.1'),
    port: port.default(8080),
    // The visitor pages (README "The hall TV and the ticket on the phone"): how phones reach this
    // page (the ticket QR's default link, /t/<day>/<number>?k=<token>), the links' HMAC secret
    // (default: made once into <stateDir>/ticket-page.secret) and the bounds on live phone pages.
    publicUrl: publicUrl.optional(),
    ticketSecret: z.string().min(32, { error: 'at least 32 characters (or leave it out: one is made and kept in the state directory)' }).optional(),
    ticketStreams: strictObject({ max: z.number().int().min(1).max(100_000).optional(), perAddress: z.number().int().min(1).max(10_000).optional() }).optional(),
  }).optional(),
  devices: z.array(device).default([]),
  /** The outbound link to the city's central broker (src/uplink); absent = no uplink. */
  uplink: uplinkSection.optional(),
  /** "Your turn is near" notices through a notification gateway (src/notify); absent = none. */
  notify: notifySection.optional(),
  // No default level: the logger then honours HALL_EDGE_LOG_LEVEL.
  log: strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional() }).optional(),
});

export type HallConfig = z.output<typeof hallConfigShape>;

export const hallConfigSchema = hallConfigShape.superRefine((config, ctx) => {
  crossCheck(config, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
});
