import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planAnnouncement, type AnnouncementRequest, type PlanSettings } from './announcement-plan.js';
import { defaultClipDefinitions, vocabularyOf } from './clip-vocabulary.js';
import { announceMessageSchema, playingOrder, type AnnounceMessage } from './voice-box-protocol.js';
import { parseResponse } from '../../src/device-contract/index.js';

interface Vectors {
  announce: {
    valid: Array<{ name: string; message: AnnounceMessage; request: AnnouncementRequest; settings: PlanSettings; playingOrder: string[] }>;
    invalid: Array<{ name: string; message: unknown }>;
  };
  response: { valid: Array<{ name: string; message: unknown; ok: boolean }>; invalid: Array<{ name: string; message: unknown }> };
}

const vectors = JSON.parse(readFileSync(new URL('../../firmware-protocols/vectors/voice-box.json', import.meta.url), 'utf8')) as Vectors;
const vocabulary = vocabularyOf(defaultClipDefinitions());

describe('voice box protocol vectors', () => {
  it('has vectors to check', () => {
    expect(vectors.announce.valid.length).toBeGreaterThanOrEqual(2);
    expect(vectors.announce.invalid.length).toBeGreaterThanOrEqual(5);
    expect(vectors.response.invalid.length).toBeGreaterThanOrEqual(3);
  });

  describe.each(vectors.announce.valid)('announce: $name', (vector) => {
    it('is accepted', () => {
      expect(announceMessageSchema.parse(vector.message)).toEqual(vector.message);
    });
    it('is what hall-edge builds for its request', () => {
      const plan = planAnnouncement(vector.request, vector.settings, vocabulary);
      expect(plan.text).toBe(vector.message.text);
      expect(plan.pass).toEqual(vector.message.clips);
      expect(plan.phrases.map(({ lang, text, spoken, clips }) => ({ lang, text, spoken, clips }))).toEqual(vector.message.phrases);
      expect(plan.sequence).toEqual(vector.playingOrder);
    });
    it('plays in the documented order', () => {
      expect(playingOrder(vector.message)).toEqual(vector.playingOrder);
    });
  });

  it.each(vectors.announce.invalid)('announce rejected: $name', ({ message }) => {
    expect(announceMessageSchema.safeParse(message).success).toBe(false);
  });

  // The answer is the request envelope of bridge/response; a voice box must echo the transaction.
  it.each(vectors.response.valid)('answer accepted: $name', ({ message, ok }) => {
    const parsed = parseResponse(message);
    expect(parsed?.transaction).toBeDefined();
    expect(parsed!.status === 'ok').toBe(ok);
  });

  it.each(vectors.response.invalid)('answer rejected: $name', ({ message }) => {
    expect(parseResponse(message)?.transaction).toBeUndefined();
  });
});
