import iconv from 'iconv-lite';
import type { LocalizedName } from '../../src/device-contract/index.js';

/** Everything printed on one queue ticket. */
export interface TicketPrintData {
  hallName: LocalizedName;
  number: string;
  serviceName: LocalizedName;
  /** Tickets of the same service waiting ahead of this one. */
  waitingAhead: number;
  estimatedWaitMinutes: number;
  issuedAt: number;
  timeZone: string;
  /** ASCII only: see qrPayload(). */
  qr: string;
  footer?: LocalizedName;
  priority?: boolean;
  appointment?: { slotStart: number; slotEnd: number };
  /** Printed again on request (lost ticket, earlier print failure). */
  reprint?: boolean;
}

/** FS & — Chinese (double-byte) character mode on: bytes >= 0x80 are read as GB2312/GB18030 pairs. */
export const CHINESE_MODE_ON = Buffer.from([0x1c, 0x26]);
/** FS . — back to single-byte characters. */
export const CHINESE_MODE_OFF = Buffer.from([0x1c, 0x2e]);

/**
 * Text for the printer in Chinese mode. node-thermal-printer's CHINA code page goes through
 * EUC-CN (GB2312) one character at a time and garbles anything outside GB2312, so we encode
 * whole lines as GB18030 ourselves and append the raw bytes. ASCII stays ASCII in GB18030.
 */
export function gb18030(text: string): Buffer {
  return iconv.encode(text, 'gb18030');
}

export class QrPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QrPayloadError';
  }
}

/**
 * The QR code's content. node-thermal-printer computes the GS ( k length from the JS string
 * length, which is wrong for any non-ASCII text, so the payload must be printable ASCII: the
 * template's substitutions are percent-encoded, and anything else is refused.
 */
export function qrPayload(template: string | undefined, fields: { hallId: string; day: string; number: string }): string {
  const payload = template
    ? template
        .replaceAll('{day}', encodeURIComponent(fields.day))
        .replaceAll('{number}', encodeURIComponent(fields.number))
        .replaceAll('{hall}', encodeURIComponent(fields.hallId))
    : `HALL:${fields.hallId}:${fields.day}:${fields.number}`;
  if (!/^[\x20-\x7e]+$/.test(payload)) throw new QrPayloadError(`the ticket QR payload must be printable ASCII (got ${JSON.stringify(payload)}): percent-encode the ticketUrl template`);
  if (payload.length > 700) throw new QrPayloadError('the ticket QR payload is too long (over 700 characters)');
  return payload;
}

/** "2026-11-23 09:00" in the hall's time zone. */
export function formatHallTime(at: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((part) => part.type === type)?.value ?? '??';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

function formatClock(at: number, timeZone: string): string {
  return formatHallTime(at, timeZone).slice(11);
}

/**
 * The ticket as a list of drawing steps, independent of the printer dialect: the printer
 * (ticket-printer.ts) turns each step into node-thermal-printer calls.
 */
export type LayoutStep =
  | { kind: 'align'; align: 'left' | 'center' | 'right' }
  | { kind: 'size'; width: number; height: number }
  | { kind: 'bold'; on: boolean }
  | { kind: 'text'; line: string }
  | { kind: 'qr'; payload: string }
  | { kind: 'feed' };

export function ticketLayout(data: TicketPrintData): LayoutStep[] {
  const steps: LayoutStep[] = [
    { kind: 'align', align: 'center' },
    { kind: 'size', width: 1, height: 2 },
    { kind: 'text', line: data.hallName.zh },
    { kind: 'size', width: 1, height: 1 },
    { kind: 'text', line: data.hallName.en },
    { kind: 'feed' },
  ];
  if (data.reprint) steps.push({ kind: 'text', line: '补打 REPRINT' });
  if (data.priority) steps.push({ kind: 'text', line: '优先 PRIORITY' });
  steps.push(
    { kind: 'bold', on: true },
    { kind: 'size', width: 4, height: 4 },
    { kind: 'text', line: data.number },
    { kind: 'size', width: 1, height: 1 },
    { kind: 'bold', on: false },
    { kind: 'size', width: 2, height: 2 },
    { kind: 'text', line: data.serviceName.zh },
    { kind: 'size', width: 1, height: 1 },
    { kind: 'text', line: data.serviceName.en },
    { kind: 'feed' },
  );
  if (data.appointment) {
    const slot = `${formatClock(data.appointment.slotStart, data.timeZone)}-${formatClock(data.appointment.slotEnd, data.timeZone)}`;
    steps.push({ kind: 'text', line: `预约时段 ${slot}` }, { kind: 'text', line: `Appointment ${slot}` });
  } else {
    steps.push(
      { kind: 'text', line: `前面还有 ${data.waitingAhead} 人等候` },
      { kind: 'text', line: `${data.waitingAhead} waiting ahead of you` },
      { kind: 'text', line: `预计等候约 ${data.estimatedWaitMinutes} 分钟` },
      { kind: 'text', line: `Estimated wait about ${data.estimatedWaitMinutes} min` },
    );
  }
  steps.push({ kind: 'text', line: formatHallTime(data.issuedAt, data.timeZone) }, { kind: 'qr', payload: data.qr });
  if (data.footer) steps.push({ kind: 'text', line: data.footer.zh }, { kind: 'text', line: data.footer.en });
  return steps;
}
