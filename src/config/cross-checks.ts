import type { HallConfig } from './schema.js';
import { describeValue } from './format-issues.js';
import { checkNotifyGateways } from './notify-section.js';
import { formatClockTime, parseClockTime, parseTimeRange, type MinuteRange } from './time.js';

/**
 * Checks that span sections of the config: names that must refer to something, things that must
 * be unique, and hours that must make sense together. Each problem is reported with the path of
 * the entry to fix. Values that failed their own field check (a bad time) are skipped here: the
 * field's problem is already reported.
 */

export type Report = (path: PropertyKey[], message: string) => void;

export function crossCheck(config: HallConfig, report: Report): void {
  checkHours(config, report);
  checkServices(config, report);
  checkWindows(config, report);
  checkUsers(config, report);
  checkDevices(config, report);
  checkListeners(config, report);
  checkNotifyGateways(config, report);
}

function checkHours(config: HallConfig, report: Report): void {
  const { openingHours, dayStartsAt, openDays } = config.hall;
  const open = parseClockTime(openingHours.open);
  const close = parseClockTime(openingHours.close, { allowEndOfDay: true });
  const dayStart = parseClockTime(dayStartsAt);
  if (open !== undefined && close !== undefined && open >= close) {
    report(['hall', 'openingHours'], `opens at ${openingHours.open} but closes at ${openingHours.close}: open must be before close`);
  }
  // 00:00-24:00 is a hall open around the clock: the business day may start at any hour.
  const allDay = open === 0 && close === 24 * 60;
  if (open !== undefined && dayStart !== undefined && open < dayStart && !allDay) {
    report(['hall', 'openingHours', 'open'], `opens at ${openingHours.open}, before the business day starts (hall.dayStartsAt ${dayStartsAt})`);
  }
  firstDuplicates(openDays, (day) => day).forEach(({ index, value }) => report(['hall', 'openDays', index], `"${value}" is listed twice`));
}

function checkServices(config: HallConfig, report: Report): void {
  for (const { index, value, firstIndex } of firstDuplicates(config.services, (service) => service.id)) {
    report(['services', index, 'id'], `duplicate service id "${value}" (also services[${firstIndex}])`);
  }
  for (const { index, value, firstIndex } of firstDuplicates(config.services, (service) => service.prefix)) {
    report(['services', index, 'prefix'], `prefix "${value}" is already used by services[${firstIndex}] (${config.services[firstIndex]?.id})`);
  }
  config.services.forEach((service, index) => {
    const largest = 10 ** service.digits - 1;
    if (service.dailyCap !== undefined && service.dailyCap > largest) {
      report(['services', index, 'dailyCap'], `${service.dailyCap} tickets do not fit in ${service.digits} digits (at most ${largest})`);
    }
    const taken = config.windows.some((window) => window.skills.some((skill) => skill.service === service.id));
    if (!taken) report(['services', index], `no window takes service "${service.id}": its tickets would wait forever (add it to some window's skills)`);
  });
}

function checkWindows(config: HallConfig, report: Report): void {
  const serviceIds = config.services.map((service) => service.id);
  for (const { index, value, firstIndex } of firstDuplicates(config.windows, (window) => window.id)) {
    report(['windows', index, 'id'], `duplicate window id "${value}" (also windows[${firstIndex}])`);
  }
  for (const { index, value, firstIndex } of firstDuplicates(config.windows, (window) => window.number)) {
    report(['windows', index, 'number'], `window number ${value} is already used by windows[${firstIndex}] (${config.windows[firstIndex]?.id})`);
  }
  config.windows.forEach((window, windowIndex) => {
    window.skills.forEach((skill, skillIndex) => {
      if (!serviceIds.includes(skill.service)) {
        report(['windows', windowIndex, 'skills', skillIndex], `unknown service "${skill.service}" (known: ${serviceIds.join(', ')})`);
      }
    });
    for (const { index, value } of firstDuplicates(window.skills, (skill) => skill.service)) {
      report(['windows', windowIndex, 'skills', index], `service "${value}" is listed twice`);
    }
    // A window that failed a check of its own (an empty skill) arrives here without its
    // transform, so without the schedule: [] default (zod runs this refinement regardless).
    // Found by `npm run fuzz` (fuzz/regressions/config-yaml/).
    checkSchedule(window.schedule ?? [], ['windows', windowIndex, 'schedule'], report);
  });
  if (config.queue.priorityServedBy === 'priority-windows' && !config.windows.some((window) => window.priorityWindow)) {
    report(['queue', 'priorityServedBy'], '"priority-windows" but no window has priorityWindow: true, so priority tickets would never be called first');
  }
}

function checkSchedule(schedule: string[], path: PropertyKey[], report: Report): void {
  const ranges = schedule
    .map((text, index) => ({ index, range: parseTimeRange(text) }))
    .filter((entry): entry is { index: number; range: MinuteRange } => entry.range !== undefined)
    .sort((a, b) => a.range.from - b.range.from);
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1];
    const current = ranges[i];
    if (previous && current && current.range.from < previous.range.to) {
      report([...path, current.index], `"${schedule[current.index]}" overlaps "${schedule[previous.index]}" (ends ${formatClockTime(previous.range.to)})`);
    }
  }
}

function checkUsers(config: HallConfig, report: Report): void {
  for (const { index, value, firstIndex } of firstDuplicates(config.users, (user) => user.username)) {
    report(['users', index, 'username'], `duplicate username "${value}" (also users[${firstIndex}])`);
  }
  config.users.forEach((user, index) => {
    if (user.role === 'device' && user.deviceId === undefined) {
      report(['users', index, 'deviceId'], `required for role "device": the device's own topic level under device/`);
    }
    if (user.role !== 'device' && user.deviceId !== undefined) {
      report(['users', index, 'deviceId'], `only a user with role "device" has a deviceId (this one is "${user.role}")`);
    }
  });
}

function checkDevices(config: HallConfig, report: Report): void {
  const windowIds = config.windows.map((window) => window.id);
  for (const { index, value, firstIndex } of firstDuplicates(config.devices, (device) => device.id)) {
    report(['devices', index, 'id'], `duplicate device id "${value}" (also devices[${firstIndex}])`);
  }
  config.devices.forEach((device, index) => {
    if (device.window !== undefined && !windowIds.includes(device.window)) {
      report(['devices', index, 'window'], `unknown window ${describeValue(device.window)}`);
    }
  });
}

/** Two listeners on one port would fail at start with EADDRINUSE; say which two now. */
function checkListeners(config: HallConfig, report: Report): void {
  const listeners: Array<{ path: PropertyKey[]; host: string; port: number }> = [{ path: ['mqtt', 'tcp', 'port'], ...config.mqtt.tcp }];
  if (config.mqtt.ws) listeners.push({ path: ['mqtt', 'ws', 'port'], host: config.mqtt.ws.host, port: config.mqtt.ws.port });
  if (config.mqtt.tls) listeners.push({ path: ['mqtt', 'tls', 'port'], host: config.mqtt.tls.host, port: config.mqtt.tls.port });
  if (config.dashboard) listeners.push({ path: ['dashboard', 'port'], ...config.dashboard });
  const wildcard = (host: string) => host === '0.0.0.0' || host === '::';
  listeners.forEach((listener, index) => {
    // Port 0 asks the OS for a free port: never a clash.
    const clash = listeners.slice(0, index).find((other) => other.port !== 0 && other.port === listener.port && (other.host === listener.host || wildcard(other.host) || wildcard(listener.host)));
    if (clash) report(listener.path, `port ${listener.port} is also used by ${clash.path.slice(0, -1).join('.')}`);
  });
  const tls = config.mqtt.tls;
  if (tls?.requireClientCert && tls.ca === undefined) report(['mqtt', 'tls', 'ca'], 'required when requireClientCert is true: the CA that signs client certificates');
}

/** Entries whose key was already seen, with the index of the first one. */
function firstDuplicates<T, K>(items: readonly T[], key: (item: T) => K): Array<{ index: number; value: K; firstIndex: number }> {
  const seen = new Map<K, number>();
  const duplicates: Array<{ index: number; value: K; firstIndex: number }> = [];
  items.forEach((item, index) => {
    const value = key(item);
    const firstIndex = seen.get(value);
    if (firstIndex === undefined) seen.set(value, index);
    else duplicates.push({ index, value, firstIndex });
  });
  return duplicates;
}
