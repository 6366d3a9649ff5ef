import fc from 'fast-check';
import { announceMessageSchema } from '../../devices/voice-caller/voice-box-protocol.js';
import { parseResponse } from '../../src/bus/request-envelope.js';
import { readVectors } from '../corpus.js';
import { mutateBytes, mutateJsonLeaf, randomBytes } from '../mutate.js';
import { fromArbitrary, jsonish, leafPool } from '../structured.js';
import { bytesJson, equalJson, PropertyViolation, type FuzzTarget, type Verdict } from '../target.js';
import { checkJsonRoundTrip } from './json-payload.js';

/**
 * MQTT payloads a voice box publishes (`device/<id>/announce/response`, read with the request
 * envelope's parseResponse) and the announce messages a box reads: bytes → JSON.parse (as
 * MqttBridge.subscribeDevice does; not JSON is its refusal) → the protocol's parsers.
 */
interface Example {
  message: unknown;
}
interface Vectors {
  announce: { valid: Example[]; invalid: Example[] };
  response: { valid: Example[]; invalid: Example[] };
}

const vectors = readVectors<Vectors>('voice-box');
const documents = [...vectors.announce.valid, ...vectors.announce.invalid, ...vectors.response.valid, ...vectors.response.invalid].map((e) => e.message);
const seeds = documents.map((d) => Buffer.from(JSON.stringify(d), 'utf8'));

const responseArbitrary = fc.record(
  {
    transaction: fc.oneof(fc.string({ maxLength: 70 }), fc.double(), jsonish),
    status: fc.oneof(fc.constantFrom('ok', 'error'), jsonish),
    data: jsonish,
    code: fc.oneof(fc.string(), jsonish),
    error: fc.oneof(fc.string(), jsonish),
  },
  { requiredKeys: [] },
);

export const voiceBoxMessages: FuzzTarget<Buffer> = {
  name: 'voice-box-messages',
  parser: 'src/bus/request-envelope.ts parseResponse and the voice-box announce schema (after the bridge JSON.parse)',
  sources: [
    { name: 'mutated vectors', weight: 3, next: (rng) => mutateBytes(rng, seeds, { interesting: [0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x3a, 0x2c, 0x5c], maxLength: 4096 }) },
    { name: 'random bytes', weight: 1, next: (rng) => randomBytes(rng, 200, [0x7b, 0x7d, 0x22, 0x3a]) },
    { name: 'structured', weight: 2, next: (() => { const gen = fromArbitrary(responseArbitrary); return (rng) => Buffer.from(JSON.stringify(gen(rng)), 'utf8'); })() },
    {
      name: 'mutated json',
      weight: 3,
      next: (() => {
        const leaves = leafPool(jsonish);
        return (rng) => Buffer.from(JSON.stringify(mutateJsonLeaf(rng, rng.pick(documents), () => leaves(rng))) ?? '', 'utf8');
      })(),
    },
  ],
  run(payload): Verdict {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return 'refused';
    }
    let accepted = false;
    const announce = announceMessageSchema.safeParse(body);
    if (announce.success) {
      accepted = true;
      checkJsonRoundTrip(announceMessageSchema, announce.data, 'announce');
    }
    const response = parseResponse(body);
    if (response) {
      accepted = true;
      const again = parseResponse(JSON.parse(JSON.stringify(response)));
      if (!again || !equalJson(again, response)) throw new PropertyViolation('response: accepted answer does not survive JSON re-encoding');
    }
    return accepted ? 'accepted' : 'refused';
  },
  ...bytesJson,
};
