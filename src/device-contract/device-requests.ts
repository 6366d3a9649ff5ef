import type { ZodType } from 'zod';
import { errorResponse, okResponse, parseRequest, RequestError, type ResponseEnvelope } from '../bus/request-envelope.js';
import { formatZodIssues } from '../platform/zod-issues.js';

/** Who sent a device request (the MQTT user), for logs and for decisions that depend on the role. */
export interface RequestCaller {
  username: string;
  role: string;
  /** The request's `transaction`, if it had one: with the username, what makes a resend a resend. */
  transaction?: string | number;
}

/** A driver's handler for one device-topic request: return the `data`, or throw RequestError(code, message). */
export type DeviceRequestHandler<T> = (request: T, caller: RequestCaller) => unknown;

/**
 * The part of the device request envelope that is the same for every device: the fields (the
 * payload without `transaction`) are checked against the driver's schema, and a mismatch is a
 * `bad-request` naming the fields. The bridge does the rest (src/bus/bridge.ts serveDeviceRequests).
 */
export function validatedRequest<T>(schema: ZodType<T>, handler: DeviceRequestHandler<T>): (fields: Record<string, unknown>, caller: RequestCaller) => Promise<unknown> {
  return async (fields, caller) => {
    const parsed = schema.safeParse(fields);
    if (!parsed.success) throw new RequestError('bad-request', formatZodIssues(parsed.error.issues));
    return handler(parsed.data, caller);
  };
}

/**
 * One request answered the way the bridge answers it, without a broker: for the recording
 * contexts of driver tests, so they see the same envelope the daemon publishes.
 */
export async function answerDeviceRequest(
  payload: unknown,
  handle: (fields: Record<string, unknown>, caller: RequestCaller) => Promise<unknown>,
  caller: RequestCaller = { username: 'test', role: 'device' },
): Promise<ResponseEnvelope> {
  const parsed = parseRequest(Buffer.from(JSON.stringify(payload) ?? ''));
  if (!parsed.ok) return errorResponse(parsed.transaction, parsed.error);
  try {
    return okResponse(parsed.transaction, await handle(parsed.fields, caller));
  } catch (err) {
    return errorResponse(parsed.transaction, err);
  }
}
