import fc from 'fast-check';
import type { z } from 'zod';
import { errorResponse, MAX_REQUEST_BYTES, okResponse, parseRequest } from '../../src/bus/request-envelope.js';
import { deviceRequestSchemas } from '../../src/hall/device-requests.js';
import { deviceKinds } from '../../devices/registry.js';
import { eventsRequest } from '../../src/hall/events-query.js';
import { daemonRequestSchemas, formatZodIssues, queryRequestSchemas, queueRequestSchemas } from '../../src/hall/request-schemas.js';
import { mutateBytes, mutateJsonLeaf, randomBytes } from '../mutate.js';
import { fromArbitrary, jsonish, leafPool } from '../structured.js';
import { PropertyViolation, type FuzzTarget, type Verdict } from '../target.js';
import { checkJsonRoundTrip } from './json-payload.js';

/**
 * `bridge/request/<command>` payloads from the LAN: bytes → parseRequest (size limit, JSON,
 * envelope) → the command's payload schema (queue commands, queries, device requests) → a
 * response envelope that must serialise.
 */
interface Input {
  command: string;
  payload: Buffer;
}

const schemas: Record<string, z.ZodType> = { ...queueRequestSchemas, ...queryRequestSchemas, ...daemonRequestSchemas, ...deviceRequestSchemas(deviceKinds().values()), events: eventsRequest };
const commands = [...Object.keys(schemas), 'info', 'health', 'devices', 'no-such-command'];

// Payloads that each schema accepts, as seeds for mutation.
const examples: Array<Record<string, unknown>> = [
  { transaction: 'a1', serviceId: 'social-security', channel: 'kiosk', priority: true, items: ['id card'], appointment: { slotStart: 1795395900000, slotEnd: 1795397700000, reference: 'YY2026A' } },
  { transaction: 7, windowId: 'w01' },
  { windowId: 'w01', number: 'A023' },
  { number: 'A023', toServiceId: 'retirement' },
  { number: 'B101', reason: 'left the hall' },
  { windowId: 'w03', reason: 'lunch' },
  { windowId: 'w02', staffId: 'S1024' },
  { windowId: 'w02', number: 'A023', rating: 5 },
  { serviceId: 'social-security', state: 'waiting' },
  { day: '2026-12-01' },
  { since: 120, limit: 50 },
  { text: '系统维护, 请稍候 / back in 5 minutes' },
  { deviceId: 'gate-1', mode: 'open' },
  { deviceId: 'gate-1', code: 'fever' },
  { deviceId: 'dispenser-1', number: 'A023' },
  { deviceId: 'dispenser-1', appointments: [{ serviceId: 'retirement', slotStart: 1795395900000, slotEnd: 1795397700000, code: 'YY2026A', idNumber: '11010519491231002X' }] },
];
const seeds = examples.map((e) => Buffer.from(JSON.stringify(e), 'utf8'));
// Blanks one under, at and one over MAX_REQUEST_BYTES (parseRequest does not write to its input).
const oversized = [-1, 0, 1].map((delta) => Buffer.alloc(MAX_REQUEST_BYTES + delta, 0x20));

const fieldArbitrary = fc.dictionary(
  fc.constantFrom('transaction', 'serviceId', 'windowId', 'number', 'reason', 'staffId', 'rating', 'timedOut', 'items', 'appointment', 'channel', 'priority', 'day', 'state', 'deviceId', 'mode', 'code', 'appointments', 'toServiceId', 'toWindowId', '__proto__', 'constructor'),
  fc.oneof(fc.stringMatching(/^[A-Z]\d{2,4}$/), fc.constantFrom('w01', 'social-security', 'open', 'kiosk', 5, true, '2026-12-01'), jsonish),
  { maxKeys: 6 },
);

export const mqttRequests: FuzzTarget<Input> = {
  name: 'mqtt-requests',
  parser: 'src/bus/request-envelope.ts parseRequest + every request payload schema (src/hall)',
  sources: [
    { name: 'mutated examples', weight: 3, next: (rng) => ({ command: rng.pick(commands), payload: mutateBytes(rng, seeds, { interesting: [0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x3a, 0x2c, 0x5c, 0x30], maxLength: 4096 }) }) },
    { name: 'random bytes', weight: 1, next: (rng) => ({ command: rng.pick(commands), payload: randomBytes(rng, 200, [0x7b, 0x7d, 0x22, 0x3a]) }) },
    { name: 'structured', weight: 3, next: (() => { const gen = fromArbitrary(fieldArbitrary); return (rng) => ({ command: rng.pick(commands), payload: Buffer.from(JSON.stringify(gen(rng)), 'utf8') }); })() },
    {
      name: 'mutated json',
      weight: 3,
      next: (() => {
        const leaves = leafPool(jsonish);
        return (rng) => ({ command: rng.pick(commands), payload: Buffer.from(JSON.stringify(mutateJsonLeaf(rng, rng.pick(examples), () => leaves(rng))) ?? '', 'utf8') });
      })(),
    },
    // The size limit: just over it is refused before JSON.parse.
    // The three payloads are made once: filling 64 KiB per input cost more than the parser did.
    { name: 'oversized', weight: 1, next: (rng) => ({ command: rng.pick(commands), payload: rng.pick(oversized) }) },
  ],
  run({ command, payload }): Verdict {
    const request = parseRequest(payload);
    if (!request.ok) {
      JSON.stringify(errorResponse(request.transaction, request.error));
      return 'refused';
    }
    const schema = schemas[command];
    if (!schema) return Object.keys(request.fields).length === 0 ? 'accepted' : 'refused';
    const parsed = schema.safeParse(request.fields);
    if (!parsed.success) {
      const problems = formatZodIssues(parsed.error.issues);
      if (problems.length === 0) throw new PropertyViolation('a refused payload has no problem text');
      JSON.stringify(errorResponse(request.transaction, new Error(problems)));
      return 'refused';
    }
    checkJsonRoundTrip(schema, parsed.data, command);
    if (typeof JSON.stringify(okResponse(request.transaction, parsed.data)) !== 'string') throw new PropertyViolation('response does not serialise');
    return 'accepted';
  },
  toJson: (input) => ({ command: input.command, hex: input.payload.toString('hex') }),
  fromJson: (json) => {
    const { command, hex } = json as { command: string; hex: string };
    return { command, payload: Buffer.from(hex, 'hex') };
  },
};
