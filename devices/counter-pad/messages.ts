/**
 * The counter-pad protocol's messages as typed values (firmware-protocols/counter-pad.md).
 * Pad → host frames start with '<', host → pad frames with '>'.
 */

export type RatingLevel = 1 | 2 | 3 | 4 | 5;

/** Staff keys: each maps to one queue command. */
export type PadKey =
  | { verb: 'LOGIN'; staffId: string; pin?: string }
  | { verb: 'LOGOUT' }
  | { verb: 'NEXT' }
  | { verb: 'RECALL' }
  | { verb: 'SKIP' }
  | { verb: 'TRANSFER'; toServiceId: string }
  | { verb: 'TRANSFER'; toWindowNumber: number }
  | { verb: 'START' }
  | { verb: 'FINISH' }
  | { verb: 'PAUSE'; reason?: string }
  | { verb: 'RESUME' };

export type PadKeyVerb = PadKey['verb'];

export type PadMessage =
  | PadKey
  | { verb: 'HEARTBEAT'; firmware: string }
  | { verb: 'RATING'; ticket: string; level: RatingLevel }
  | { verb: 'RATE-TIMEOUT'; ticket: string }
  /** The pad acknowledges a host frame (same seq). */
  | { verb: 'ACK' };

export type LedColour = 'OFF' | 'RED' | 'GREEN' | 'AMBER' | 'BLUE';
export type LedPattern = 'ON' | 'BLINK' | 'FAST';

export type HostMessage =
  /** The host acknowledges a pad frame (same seq): ok, or refused with text for the pad to show. */
  | { verb: 'ACK'; ok: boolean; text?: string }
  | { verb: 'DISP'; line1: string; line2?: string }
  | { verb: 'BEEP'; count: number }
  | { verb: 'LED'; colour: LedColour; pattern: LedPattern }
  | { verb: 'RATE-REQ'; ticket: string; timeoutSeconds: number };

export type PadFrame = { direction: 'to-host'; address: number; seq: number; message: PadMessage };
export type HostFrame = { direction: 'to-pad'; address: number; seq: number; message: HostMessage };
export type Frame = PadFrame | HostFrame;

export const PAD_VERBS = ['LOGIN', 'LOGOUT', 'NEXT', 'RECALL', 'SKIP', 'TRANSFER', 'START', 'FINISH', 'PAUSE', 'RESUME', 'HEARTBEAT', 'RATING', 'RATE-TIMEOUT', 'ACK'] as const;
export const HOST_VERBS = ['ACK', 'DISP', 'BEEP', 'LED', 'RATE-REQ'] as const;
export const LED_COLOURS: readonly LedColour[] = ['OFF', 'RED', 'GREEN', 'AMBER', 'BLUE'];
export const LED_PATTERNS: readonly LedPattern[] = ['ON', 'BLINK', 'FAST'];

/** Limits (bytes, after GB2312 encoding). */
export const MAX_LINE_BYTES = 128;
export const MAX_TEXT_BYTES = 32;
export const MIN_ADDRESS = 0x01;
export const MAX_ADDRESS = 0xfe;
