import type { QueueModel } from '../queue/model.js';

/** What a hall's mirrored `bridge/info` says about it (docs/mqtt-api.md). */
export interface HallInfo {
  hallId: string;
  timeZone?: string;
  name?: { zh: string; en: string };
  services: Array<{ id: string; prefix: string; name: { zh: string; en: string }; dailyCap?: number | null }>;
  windows: Array<{ id: string; number: number; name: { zh: string; en: string }; skills: string[]; priorityWindow: boolean }>;
}

/**
 * The queue model the statistics need, from the hall's `bridge/info`: its services, windows and
 * time zone. The statistics (src/queue/stats.ts) read nothing else of the model, so the figures
 * computed here are the hall's own, by the same code.
 */
export function modelFromInfo(info: HallInfo): QueueModel {
  return {
    hallId: info.hallId,
    services: info.services.map((s) => ({ id: s.id, prefix: s.prefix, digits: 3, name: s.name, averageHandlingMinutes: 8, ...(s.dailyCap ? { dailyCap: s.dailyCap } : {}) })),
    windows: info.windows.map((w) => ({
      id: w.id,
      number: w.number,
      name: w.name,
      skills: w.skills.map((serviceId) => ({ serviceId, weight: 1 })),
      skillMode: 'preference',
      priorityWindow: w.priorityWindow,
      schedule: [],
    })),
    policy: { recallLimit: 2, priorityServedBy: 'all-windows', priorityGuard: 3, requeuePlace: 'back', appointmentEarlyMinutes: 10, enforceWindowSchedule: false },
    clock: { timeZone: info.timeZone ?? 'Asia/Shanghai', dayStartsAt: 4 * 60, openDays: [1, 2, 3, 4, 5], open: 8 * 60, close: 18 * 60 },
  };
}
