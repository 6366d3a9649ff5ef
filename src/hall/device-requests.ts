import { z } from 'zod';
import { RequestError } from '../bus/bridge.js';
import type { DeviceManager } from './device-manager.js';
import type { MqttApi } from './mqtt-api.js';
import { formatZodIssues } from './request-schemas.js';
import type { BridgeRequestSpec, DeviceDriver, DeviceKindInfo } from '../device-contract/index.js';

/**
 * Bridge requests that act on devices, so operators and the central server (which may only
 * publish `bridge/request/...`) reach them with the same request/response envelope as queue
 * commands. Each device kind declares its own (DeviceKindInfo.bridgeRequests, in its folder);
 * this module only routes: `deviceId` picks the device, the kind's handler does the work.
 */

/** The hall's own device request: acknowledging an alarm is not any one kind's business. */
const alarmAckSchema = z.strictObject({ deviceId: z.string().min(1), code: z.string().min(1) });

interface RoutedRequest {
  kind: string;
  spec: BridgeRequestSpec;
  /** The kind's schema with the optional `deviceId` the router reads. */
  schema: z.ZodType<Record<string, unknown> & { deviceId?: string }>;
}

function routedRequests(kinds: Iterable<DeviceKindInfo<unknown>>): Map<string, RoutedRequest> {
  const routes = new Map<string, RoutedRequest>();
  for (const info of kinds) {
    for (const spec of info.bridgeRequests ?? []) {
      const taken = routes.get(spec.name);
      // Two kinds claiming one name is a programming error: refuse to start rather than pick one.
      if (taken || spec.name === 'alarm-ack') throw new Error(`bridge request "${spec.name}" is declared by ${taken?.kind ?? 'the hall'} and ${info.kind}`);
      routes.set(spec.name, { kind: info.kind, spec, schema: spec.schema.extend({ deviceId: z.string().optional() }).strict() });
    }
  }
  return routes;
}

/** Every device request's payload schema by name (`deviceId` included): the fuzz target reads them. */
export function deviceRequestSchemas(kinds: Iterable<DeviceKindInfo<unknown>>): Record<string, z.ZodType> {
  const schemas: Record<string, z.ZodType> = { 'alarm-ack': alarmAckSchema };
  for (const [name, route] of routedRequests(kinds)) schemas[name] = route.schema;
  return schemas;
}

export function registerDeviceRequests(api: MqttApi, devices: DeviceManager, kinds: Iterable<DeviceKindInfo<unknown>>): void {
  const byKind = (kind: string, deviceId: string | undefined): Array<{ id: string; driver: DeviceDriver | undefined }> => {
    const matches = devices.summary().filter((d) => d.kind === kind && (!deviceId || d.id === deviceId));
    if (matches.length === 0) {
      throw new RequestError('unknown-device', deviceId ? `no ${kind} device "${deviceId}"` : `no ${kind} device is configured`);
    }
    return matches.map((d) => ({ id: d.id, driver: devices.driver(d.id) }));
  };

  for (const [name, { kind, spec, schema }] of routedRequests(kinds)) {
    api.addRequest(name, async (payload, caller) => {
      const { deviceId, ...request } = parse(schema, payload);
      const targets = byKind(kind, deviceId);
      const run = async (target: (typeof targets)[number]): Promise<Record<string, unknown>> => {
        if (!target.driver) throw new RequestError('unknown-device', `device "${target.id}" is not running`);
        return { deviceId: target.id, ...(await spec.handle(target.driver, request, caller)) };
      };
      if (spec.fanOut.to === 'first') return run(targets[0]!);
      const results = [];
      for (const target of targets) results.push(await run(target));
      return { [spec.fanOut.listKey]: results };
    });
  }

  api.addRequest('alarm-ack', (payload, caller) => {
    const { deviceId, code } = parse(alarmAckSchema, payload);
    const alarm = devices.acknowledgeAlarm(deviceId, code, caller.username);
    if (!alarm) throw new RequestError('unknown-alarm', `no active alarm "${code}" on device "${deviceId}"`);
    return alarm;
  });
}

function parse<T>(schema: z.ZodType<T>, payload: Record<string, unknown>): T {
  const result = schema.safeParse(payload);
  if (!result.success) throw new RequestError('bad-request', formatZodIssues(result.error.issues));
  return result.data;
}
