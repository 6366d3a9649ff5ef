import { z } from 'zod';
import { RequestError } from '../bus/bridge.js';
import type { DeviceManager } from './device-manager.js';
import type { MqttApi } from './mqtt-api.js';
import { formatZodIssues } from './request-schemas.js';
import type { HealthGateDriver } from '../../devices/health-gate/driver.js';
import type { DispenserDriver } from '../../devices/dispenser/driver.js';
import { appointmentsRequest } from '../../devices/dispenser/options.js';

/**
 * Bridge requests that act on devices, so operators and the central server (which may only
 * publish `bridge/request/...`) reach them with the same request/response envelope as queue
 * commands.
 */
export const deviceRequestSchemas = {
  'gate-hold': z.strictObject({ deviceId: z.string().optional(), mode: z.enum(['open', 'shut', 'auto']) }),
  'alarm-ack': z.strictObject({ deviceId: z.string().min(1), code: z.string().min(1) }),
  reprint: z.strictObject({ deviceId: z.string().optional(), number: z.string().min(1) }),
  'appointments-import': appointmentsRequest.extend({ deviceId: z.string().optional() }).strict(),
} as const;

export function registerDeviceRequests(api: MqttApi, devices: DeviceManager): void {
  const byKind = <T>(kind: string, deviceId: string | undefined): Array<{ id: string; driver: T }> => {
    const matches = devices.summary().filter((d) => d.kind === kind && (!deviceId || d.id === deviceId));
    if (matches.length === 0) {
      throw new RequestError('unknown-device', deviceId ? `no ${kind} device "${deviceId}"` : `no ${kind} device is configured`);
    }
    return matches.map((d) => ({ id: d.id, driver: devices.driver(d.id) as T }));
  };

  api.addRequest('gate-hold', async (payload, caller) => {
    const { deviceId, mode } = parse(deviceRequestSchemas['gate-hold'], payload);
    const results = [];
    for (const { id, driver } of byKind<HealthGateDriver>('health-gate', deviceId)) {
      results.push({ deviceId: id, ...(await driver.hold(mode, caller.username)) });
    }
    return { gates: results };
  });

  api.addRequest('alarm-ack', (payload, caller) => {
    const { deviceId, code } = parse(deviceRequestSchemas['alarm-ack'], payload);
    const alarm = devices.acknowledgeAlarm(deviceId, code, caller.username);
    if (!alarm) throw new RequestError('unknown-alarm', `no active alarm "${code}" on device "${deviceId}"`);
    return alarm;
  });

  api.addRequest('reprint', async (payload) => {
    const { deviceId, number } = parse(deviceRequestSchemas.reprint, payload);
    const [target] = byKind<DispenserDriver>('dispenser', deviceId);
    const outcome = await target!.driver.reprint(number);
    if (!outcome.ok) throw new RequestError(outcome.code, outcome.message);
    return { deviceId: target!.id, number: outcome.number };
  });

  api.addRequest('appointments-import', (payload) => {
    const { deviceId, ...rest } = parse(deviceRequestSchemas['appointments-import'], payload);
    return {
      dispensers: byKind<DispenserDriver>('dispenser', deviceId).map(({ id, driver }) => ({ deviceId: id, ...driver.loadAppointments(rest.appointments) })),
    };
  });
}

function parse<T>(schema: z.ZodType<T>, payload: Record<string, unknown>): T {
  const result = schema.safeParse(payload);
  if (!result.success) throw new RequestError('bad-request', formatZodIssues(result.error.issues));
  return result.data;
}
