import type { QueueModel, TimeRange } from '../queue/model.js';
import type { HallConfig } from './schema.js';
import { parseClockTime, parseTimeRange, weekdayNumber } from './time.js';

/**
 * The validated config as the queue engine sees it: clock times become minutes since local
 * midnight, weekday names become numbers (0 = Sunday), skills get their weights.
 */
export function toQueueModel(config: HallConfig): QueueModel {
  const { hall } = config;
  const model: QueueModel = {
    hallId: hall.id,
    services: config.services.map((service) => ({
      id: service.id,
      prefix: service.prefix,
      digits: service.digits,
      name: service.name,
      ...(service.dailyCap !== undefined ? { dailyCap: service.dailyCap } : {}),
      averageHandlingMinutes: service.averageHandlingMinutes,
    })),
    windows: config.windows.map((window) => ({
      id: window.id,
      number: window.number,
      name: window.name,
      skills: window.skills.map((skill) => ({ serviceId: skill.service, weight: skill.weight })),
      skillMode: window.skillMode,
      priorityWindow: window.priorityWindow,
      schedule: window.schedule.map((text) => range(text, `windows.${window.id}.schedule`)),
    })),
    policy: { ...config.queue },
    clock: {
      timeZone: hall.timeZone,
      dayStartsAt: minutes(hall.dayStartsAt, 'hall.dayStartsAt'),
      openDays: [...new Set(hall.openDays.map(weekdayNumber))].sort((a, b) => a - b),
      open: minutes(hall.openingHours.open, 'hall.openingHours.open'),
      close: minutes(hall.openingHours.close, 'hall.openingHours.close', true),
    },
  };
  return model;
}

// Only reachable when a caller edits a validated config by hand (the demo widens the hours).
function minutes(text: string, field: string, allowEndOfDay = false): number {
  const value = parseClockTime(text, { allowEndOfDay });
  if (value === undefined) throw new Error(`${field}: bad time "${text}"`);
  return value;
}

function range(text: string, field: string): TimeRange {
  const value = parseTimeRange(text);
  if (!value) throw new Error(`${field}: bad time range "${text}"`);
  return value;
}
