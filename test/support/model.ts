import type { QueueModel, QueuePolicy, ServiceDef, WindowDef } from '../../src/queue/model.js';

/** A small hall for engine tests: 3 services, 4 windows, open all day in Asia/Shanghai. */
export function smallModel(overrides: { policy?: Partial<QueuePolicy>; services?: ServiceDef[]; windows?: WindowDef[] } = {}): QueueModel {
  const services: ServiceDef[] = overrides.services ?? [
    { id: 'ss', prefix: 'A', digits: 3, name: { zh: '社保', en: 'Social security' }, averageHandlingMinutes: 8 },
    { id: 'mi', prefix: 'B', digits: 3, name: { zh: '医保', en: 'Medical insurance' }, averageHandlingMinutes: 6 },
    { id: 'rt', prefix: 'C', digits: 2, name: { zh: '退休', en: 'Retirement' }, dailyCap: 5, averageHandlingMinutes: 12 },
  ];
  const window = (id: string, number: number, skills: string[], extra: Partial<WindowDef> = {}): WindowDef => ({
    id,
    number,
    name: { zh: `${number}号窗口`, en: `Window ${number}` },
    skills: skills.map((serviceId, index) => ({ serviceId, weight: skills.length - index })),
    skillMode: 'preference',
    priorityWindow: false,
    schedule: [],
    ...extra,
  });
  const windows = overrides.windows ?? [
    window('w1', 1, ['ss', 'mi']),
    window('w2', 2, ['mi', 'ss']),
    window('w3', 3, ['rt']),
    window('w4', 4, ['ss', 'mi', 'rt'], { priorityWindow: true }),
  ];
  return {
    hallId: 'test-hall',
    services,
    windows,
    policy: {
      recallLimit: 2,
      priorityServedBy: 'all-windows',
      priorityGuard: 2,
      requeuePlace: 'back',
      appointmentEarlyMinutes: 10,
      enforceWindowSchedule: false,
      ...overrides.policy,
    },
    clock: { timeZone: 'Asia/Shanghai', dayStartsAt: 4 * 60, openDays: [0, 1, 2, 3, 4, 5, 6], open: 8 * 60 + 30, close: 17 * 60 + 30 },
  };
}

/** 2026-11-23 09:00 in Shanghai (UTC+8), a Monday. */
export const MONDAY_9AM = Date.UTC(2026, 10, 23, 1, 0, 0);
export const MINUTE = 60_000;
