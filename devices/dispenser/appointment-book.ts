import { createHmac } from 'node:crypto';

/** One booking as it arrives from the central server: a code, an ID card number, or both. */
export interface AppointmentInput {
  serviceId: string;
  slotStart: number;
  slotEnd: number;
  code?: string;
  idNumber?: string;
}

export interface BookedAppointment {
  /** HMAC of the code (or of the ID number when there is no code): what the ticket carries. */
  reference: string;
  serviceId: string;
  slotStart: number;
  slotEnd: number;
  used: boolean;
}

export type CheckInRefusal = 'unknown' | 'used' | 'expired' | 'not-today' | 'too-early';
export type CheckInResult = { ok: true; appointment: BookedAppointment } | { ok: false; reason: CheckInRefusal };

export interface AppointmentBookOptions {
  /** Secret salt of the HMAC; raw ID numbers are never kept. */
  salt: string;
  timeZone: string;
  /** Check-in opens this long before the slot. */
  earlyMinutes?: number;
  /** And closes this long after the slot ends. */
  lateMinutes?: number;
}

/**
 * Today's appointments (预约), in memory. Pure: time comes in as `now`. Codes and ID card
 * numbers are stored only as HMAC-SHA256(salt, normalised value), so a dump of the book (or a
 * log line carrying a reference) reveals no ID number.
 */
export class AppointmentBook {
  private readonly byKey = new Map<string, BookedAppointment>();
  private readonly earlyMs: number;
  private readonly lateMs: number;

  constructor(private readonly options: AppointmentBookOptions) {
    if (options.salt.length < 8) throw new Error('appointment book: the salt must be at least 8 characters');
    this.earlyMs = (options.earlyMinutes ?? 30) * 60_000;
    this.lateMs = (options.lateMinutes ?? 15) * 60_000;
  }

  hash(codeOrId: string): string {
    return createHmac('sha256', this.options.salt).update(normalise(codeOrId)).digest('hex');
  }

  /** Replaces the book. Entries without a code or ID, or with a bad slot, are skipped and counted. */
  load(list: AppointmentInput[]): { loaded: number; rejected: number } {
    this.byKey.clear();
    let loaded = 0;
    let rejected = 0;
    for (const input of list) {
      const keys = [input.code, input.idNumber].filter((v): v is string => typeof v === 'string' && normalise(v) !== '');
      if (keys.length === 0 || !(input.slotEnd > input.slotStart) || !input.serviceId) {
        rejected += 1;
        continue;
      }
      const hashes = keys.map((key) => this.hash(key));
      const appointment: BookedAppointment = { reference: hashes[0]!, serviceId: input.serviceId, slotStart: input.slotStart, slotEnd: input.slotEnd, used: false };
      for (const hash of hashes) this.byKey.set(hash, appointment);
      loaded += 1;
    }
    return { loaded, rejected };
  }

  get size(): number {
    return new Set(this.byKey.values()).size;
  }

  /** Marks the appointment used when the check-in is valid. */
  checkIn(codeOrId: string, now: number): CheckInResult {
    const appointment = this.byKey.get(this.hash(codeOrId));
    if (!appointment) return { ok: false, reason: 'unknown' };
    if (appointment.used) return { ok: false, reason: 'used' };
    if (localDay(appointment.slotStart, this.options.timeZone) !== localDay(now, this.options.timeZone)) {
      return { ok: false, reason: now > appointment.slotEnd ? 'expired' : 'not-today' };
    }
    if (now > appointment.slotEnd + this.lateMs) return { ok: false, reason: 'expired' };
    if (now < appointment.slotStart - this.earlyMs) return { ok: false, reason: 'too-early' };
    appointment.used = true;
    return { ok: true, appointment: { ...appointment } };
  }

  /** Undoes a check-in whose ticket could not be issued or printed, so the person can try again. */
  release(reference: string): void {
    for (const appointment of this.byKey.values()) if (appointment.reference === reference) appointment.used = false;
  }
}

function normalise(value: string): string {
  return value.trim().toUpperCase();
}

function localDay(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
}
