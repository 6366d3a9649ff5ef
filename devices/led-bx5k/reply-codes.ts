/**
 * Status codes in a controller's answer (first payload byte). Our reading of Onbon's table;
 * see firmware-protocols/led-bx5k.md.
 */
export const ReplyCode = {
  ok: 0x00,
  badGroup: 0x01,
  badCommand: 0x02,
  busy: 0x03,
  outOfMemory: 0x04,
  crcError: 0x05,
  fileMissing: 0x06,
  flashError: 0x07,
  badData: 0x08,
} as const;

export type ReplyCodeName = keyof typeof ReplyCode;

export function replyCodeName(code: number): ReplyCodeName | 'unknown' {
  const entry = Object.entries(ReplyCode).find(([, value]) => value === code);
  return entry ? (entry[0] as ReplyCodeName) : 'unknown';
}

/** What a driver should do about a refused command. */
export type ReplyAdvice = 'retry-later' | 'resend' | 'report';

export function adviceFor(code: number): ReplyAdvice {
  if (code === ReplyCode.busy) return 'retry-later';
  if (code === ReplyCode.crcError) return 'resend';
  return 'report';
}

/**
 * A reply from the controller arrived with a bad CRC: it was damaged on the wire *to us*. It is
 * not a refusal (the controller may well have shown the text), so it is never reported as one;
 * the driver resends, and reports this only when every resend came back damaged too.
 */
export class Bx5kCorruptReplyError extends Error {
  constructor(
    readonly address: number,
    readonly attempts: number,
  ) {
    super(`the replies of LED controller ${address} arrived corrupted (bad CRC) ${attempts} time(s): check the RS-485 wiring, termination and baud rate`);
    this.name = 'Bx5kCorruptReplyError';
  }
}

export class Bx5kReplyError extends Error {
  readonly codeName: ReplyCodeName | 'unknown';
  readonly advice: ReplyAdvice;

  constructor(
    readonly address: number,
    readonly code: number,
  ) {
    const name = replyCodeName(code);
    super(`LED controller ${address} refused the command: ${name} (0x${code.toString(16).padStart(2, '0')})`);
    this.name = 'Bx5kReplyError';
    this.codeName = name;
    this.advice = adviceFor(code);
  }
}
