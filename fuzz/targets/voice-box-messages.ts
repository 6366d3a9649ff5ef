import fc from 'fast-check';
import { announceMessageSchema, playedMessageSchema } from '../../devices/voice-caller/voice-box-protocol.js';
import { readVectors } from '../corpus.js';
import { mutateBytes, mutateJsonLeaf, randomBytes } from '../mutate.js';
import { fromArbitrary, jsonish, leafPool } from '../structured.js';
import { bytesJson, type FuzzTarget, type Verdict } from '../target.js';
import { checkJsonRoundTrip } from './json-payload.js';

/**
 * MQTT payloads a voice box publishes (`device/<id>/played`) and the announce messages a box
 * reads: bytes → JSON.parse (as MqttBridge.subscribeDevice does; not JSON is its refusal) → the
 * protocol schemas.
 */
interface Example {
  message: unknown;
}
interface Vectors {
  announce: { valid: Example[]; invalid: Example[] };
  played: { valid: Example[]; invalid: Example[] };
}

const vectors = readVectors<Vectors>('voice-box');
const documents = [...vectors.announce.valid, ...vectors.announce.invalid, ...vectors.played.valid, ...vectors.played.invalid].map((e) => e.message);
const seeds = documents.map((d) => Buffer.from(JSON.stringify(d), 'utf8'));

const playedArbitrary = fc.record(
  { id: fc.oneof(fc.string({ maxLength: 70 }), jsonish), ok: fc.oneof(fc.boolean(), jsonish), error: fc.oneof(fc.string(), jsonish) },
  { requiredKeys: [] },
);

export const voiceBoxMessages: FuzzTarget<Buffer> = {
  name: 'voice-box-messages',
  parser: 'devices/voice-caller/voice-box-protocol.ts played/announce schemas (after the bridge JSON.parse)',
  sources: [
    { name: 'mutated vectors', weight: 3, next: (rng) => mutateBytes(rng, seeds, { interesting: [0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x3a, 0x2c, 0x5c], maxLength: 4096 }) },
    { name: 'random bytes', weight: 1, next: (rng) => randomBytes(rng, 200, [0x7b, 0x7d, 0x22, 0x3a]) },
    { name: 'structured', weight: 2, next: (() => { const gen = fromArbitrary(playedArbitrary); return (rng) => Buffer.from(JSON.stringify(gen(rng)), 'utf8'); })() },
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
    for (const [name, schema] of [['played', playedMessageSchema], ['announce', announceMessageSchema]] as const) {
      const parsed = schema.safeParse(body);
      if (!parsed.success) continue;
      accepted = true;
      checkJsonRoundTrip(schema, parsed.data, name);
    }
    return accepted ? 'accepted' : 'refused';
  },
  ...bytesJson,
};
