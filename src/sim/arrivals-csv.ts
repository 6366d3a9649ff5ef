import type { QueueModel } from '../queue/model.js';
import type { HandlingModel } from './handling.js';
import { localToEpoch } from './local-time.js';
import { drawBehaviour } from './profiles.js';
import { Random } from './random.js';
import type { Behaviour, SimVisitor } from './visitor.js';

/** A CSV problem, with the line it is on. */
export class ArrivalsCsvError extends Error {
  override name = 'ArrivalsCsvError';
}

const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

function clock(text: string, line: number, field: string): number {
  const m = TIME.exec(text.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) throw new ArrivalsCsvError(`line ${line}: ${field} "${text}" is not HH:MM or HH:MM:SS`);
  return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0)) * 1000;
}

/**
 * Arrivals from a CSV with a header: `time,service,priority,items,appointment`
 * (time HH:MM[:SS] local; priority true/false or 1/0; items a count; appointment
 * HH:MM-HH:MM or empty). Unknown services and bad cells are errors with the line number.
 */
export function parseArrivalsCsv(text: string, options: { model: QueueModel; date: string; seed: number; handling: HandlingModel; behaviour: Behaviour }): SimVisitor[] {
  const { model, date } = options;
  const root = new Random(options.seed);
  const handlingRandom = root.stream('handling');
  const people = root.stream('behaviour');
  const midnight = localToEpoch(date, 0, model.clock.timeZone);
  const services = new Set(model.services.map((s) => s.id));
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col = (name: string): number => header.indexOf(name);
  if (col('time') < 0 || col('service') < 0) throw new ArrivalsCsvError('line 1: the header needs at least "time" and "service" (and optionally priority, items, appointment)');
  const visitors: SimVisitor[] = [];
  lines.slice(1).forEach((raw, index) => {
    const line = index + 2;
    if (!raw.trim()) return;
    const cells = raw.split(',').map((c) => c.trim());
    const cell = (name: string): string => (col(name) >= 0 ? (cells[col(name)] ?? '') : '');
    const serviceId = cell('service');
    if (!services.has(serviceId)) throw new ArrivalsCsvError(`line ${line}: unknown service "${serviceId}" (known: ${[...services].join(', ')})`);
    const priorityText = cell('priority').toLowerCase();
    if (!['', 'true', 'false', '1', '0'].includes(priorityText)) throw new ArrivalsCsvError(`line ${line}: priority "${priorityText}" must be true/false`);
    const itemsText = cell('items');
    const items = itemsText === '' ? 1 : Number(itemsText);
    if (!Number.isInteger(items) || items < 1 || items > 20) throw new ArrivalsCsvError(`line ${line}: items "${itemsText}" must be a whole number 1-20`);
    const visitor: SimVisitor = {
      arriveAt: midnight + clock(cell('time'), line, 'time'),
      serviceId,
      priority: priorityText === 'true' || priorityText === '1',
      channel: 'kiosk',
      items,
      handlingMs: options.handling.sample(serviceId, handlingRandom),
      ...drawBehaviour(people, options.behaviour),
    };
    const slot = cell('appointment');
    if (slot) {
      const [from, to] = slot.split('-');
      if (!from || !to) throw new ArrivalsCsvError(`line ${line}: appointment "${slot}" must be HH:MM-HH:MM`);
      visitor.appointment = { slotStart: midnight + clock(from, line, 'appointment start'), slotEnd: midnight + clock(to, line, 'appointment end') };
      visitor.channel = 'appointment';
    }
    visitors.push(visitor);
  });
  return visitors.sort((a, b) => a.arriveAt - b.arriveAt);
}
