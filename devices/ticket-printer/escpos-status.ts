/**
 * ESC/POS real-time status (DLE EOT n). The printer answers each request with one byte, even
 * while it is offline or its buffer is full, which is why we poll with it rather than GS r.
 * Bit meanings follow the Epson ESC/POS reference; firmware-protocols/escpos.md has the table.
 */

export const DLE = 0x10;
export const EOT = 0x04;

export type StatusKind = 1 | 2 | 3 | 4;
export const STATUS_KINDS: readonly StatusKind[] = [1, 2, 3, 4];

/** The three bytes that ask for one status byte. */
export function statusRequest(n: StatusKind): Buffer {
  return Buffer.from([DLE, EOT, n]);
}

export interface PrinterStatus {
  online: boolean;
  coverOpen: boolean;
  paperNearEnd: boolean;
  paperOut: boolean;
  /** The feed button is held (n=1 bit 6). */
  feedButtonPressed: boolean;
  /** Waiting for online recovery (n=1 bit 5). */
  waitingForRecovery: boolean;
  cutterError: boolean;
  /** A mechanical error the printer recovers from once the cause is removed (n=3 bit 2). */
  recoverableError: boolean;
  unrecoverableError: boolean;
  /** e.g. print head too hot; clears by itself (n=3 bit 6). */
  autoRecoverableError: boolean;
}

export interface StatusBytes {
  printer: number;
  offlineCause: number;
  errorCause: number;
  paperSensor: number;
}

const bit = (byte: number, n: number): boolean => (byte & (1 << n)) !== 0;

/**
 * Every DLE EOT answer has bit 0 = 0, bit 1 = 1, bit 4 = 1 and bit 7 = 0. A byte that does not
 * is not a status answer (noise, or a printer that does not speak DLE EOT).
 */
export function isStatusByte(byte: number): boolean {
  return (byte & 0b1001_0011) === 0b0001_0010;
}

export class StatusDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatusDecodeError';
  }
}

/** Decodes the answers to DLE EOT 1, 2, 3 and 4. Throws StatusDecodeError on a malformed byte. */
export function decodeStatus(bytes: StatusBytes): PrinterStatus {
  for (const [name, value] of Object.entries(bytes) as Array<[string, number]>) {
    if (!Number.isInteger(value) || value < 0 || value > 255 || !isStatusByte(value)) {
      throw new StatusDecodeError(`DLE EOT ${name} answer 0x${Number(value).toString(16).padStart(2, '0')} is not a status byte (fixed bits 0,1,4,7 must read 0,1,1,0)`);
    }
  }
  const { printer, offlineCause, errorCause, paperSensor } = bytes;
  const paperOut = (paperSensor & 0x60) === 0x60 || bit(offlineCause, 5);
  const coverOpen = bit(offlineCause, 2);
  return {
    online: !bit(printer, 3),
    coverOpen,
    paperNearEnd: (paperSensor & 0x0c) === 0x0c,
    paperOut,
    feedButtonPressed: bit(printer, 6),
    waitingForRecovery: bit(printer, 5),
    recoverableError: bit(errorCause, 2),
    cutterError: bit(errorCause, 3),
    unrecoverableError: bit(errorCause, 5),
    autoRecoverableError: bit(errorCause, 6),
  };
}

/** The inverse of decodeStatus, used by the printer simulator (and to build test vectors). */
export function encodeStatus(status: Partial<PrinterStatus>): StatusBytes {
  const base = 0x12;
  const set = (flag: boolean | undefined, n: number): number => (flag ? 1 << n : 0);
  const online = status.online ?? !(status.coverOpen || status.paperOut || status.cutterError || status.unrecoverableError);
  return {
    printer: base | set(!online, 3) | set(status.waitingForRecovery, 5) | set(status.feedButtonPressed, 6),
    offlineCause: base | set(status.coverOpen, 2) | set(status.paperOut, 5) | set(status.cutterError || status.unrecoverableError || status.recoverableError, 6),
    errorCause: base | set(status.recoverableError, 2) | set(status.cutterError, 3) | set(status.unrecoverableError, 5) | set(status.autoRecoverableError, 6),
    paperSensor: base | (status.paperNearEnd || status.paperOut ? 0x0c : 0) | (status.paperOut ? 0x60 : 0),
  };
}

/** GS r 1 (paper sensor, answered in order after a job): bits 2 and 3 both set mean the paper ran out. */
export function gsrPaperOut(byte: number): boolean {
  return (byte & 0x0c) === 0x0c;
}

/** Why a printer with this status cannot print now, or undefined when it can. */
export function faultReason(status: PrinterStatus): string | undefined {
  if (status.paperOut) return 'paper-out';
  if (status.coverOpen) return 'cover-open';
  if (status.cutterError) return 'cutter-error';
  if (status.unrecoverableError) return 'unrecoverable-error';
  if (status.recoverableError) return 'mechanical-error';
  if (!status.online) return 'offline';
  return undefined;
}
