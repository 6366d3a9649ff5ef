import { z } from 'zod';

/**
 * The MQTT messages between hall-edge and a networked voice box (firmware-protocols/voice-box.md).
 * hall-edge publishes `device/<id>/announce` with a `transaction`; the box plays it and answers on
 * `device/<id>/announce/response` in the request envelope of `bridge/response` (the same
 * `transaction`, `status`, and `code` + `error` when it could not play: src/bus/request-envelope.ts).
 * Pure schemas, checked against firmware-protocols/vectors/voice-box.json.
 */
export const ANNOUNCE_SUBTOPIC = 'announce';
export const ANSWER_SUBTOPIC = `${ANNOUNCE_SUBTOPIC}/response`;
/** 2: answers in the request envelope on announce/response (1 had its own `played {id, ok}`). */
export const VOICE_BOX_PROTOCOL_VERSION = 2;

const phraseSchema = z.object({
  lang: z.enum(['zh', 'en']),
  text: z.string(),
  spoken: z.string(),
  clips: z.array(z.string().min(1)),
});

export const announceMessageSchema = z.object({
  v: z.literal(VOICE_BOX_PROTOCOL_VERSION),
  /** Echoed in the answer. */
  transaction: z.string().min(1).max(64),
  ticket: z.string().min(1),
  windowNumber: z.number().int().nonnegative(),
  recall: z.boolean(),
  lang: z.array(z.enum(['zh', 'en'])).min(1),
  text: z.string(),
  phrases: z.array(phraseSchema).min(1),
  chime: z.boolean(),
  repeat: z.number().int().min(1).max(10),
  /** One pass: the phrases' clips in order with `pause` between languages (no chime). */
  clips: z.array(z.string().min(1)).min(1),
  /** How long the hall's own rendering lasts; the box's may differ a little. */
  durationMs: z.number().nonnegative(),
  /** When the call was made (hall clock, ms since epoch). */
  at: z.number().nonnegative(),
});

export type AnnounceMessage = z.infer<typeof announceMessageSchema>;

/** The full playing order a box derives from a message: [chime] pass (pause pass)×(repeat−1). */
export function playingOrder(message: Pick<AnnounceMessage, 'chime' | 'clips' | 'repeat'>): string[] {
  const order = message.chime ? ['chime'] : [];
  for (let i = 0; i < message.repeat; i++) order.push(...(i === 0 ? message.clips : ['pause', ...message.clips]));
  return order;
}
