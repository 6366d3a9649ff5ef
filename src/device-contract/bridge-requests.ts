import type { z } from 'zod';
import type { DeviceDriver } from './device-api.js';
import type { RequestCaller } from './device-requests.js';

/**
 * A `bridge/request/<name>` that a device kind takes (an operator's `gate-hold`, a `reprint`).
 * The kind declares it next to its options (devices/<kind>/info.ts); the hall only routes: it
 * adds the optional `deviceId` to the schema, finds the devices of the kind, and wraps what the
 * handler returns in the bridge envelope. So a new kind with bridge requests touches its own
 * folder and its registry line, nothing in src/hall.
 */
export interface BridgeRequestSpec<Fields extends z.ZodRawShape = z.ZodRawShape> {
  /** The command in `bridge/request/<name>`. */
  name: string;
  /** The payload without `transaction` and `deviceId` (both handled by the hall). */
  schema: z.ZodObject<Fields>;
  /**
   * `each`: every device of the kind (or the one named by `deviceId`) runs it, and the answer is
   * `{ [listKey]: [{ deviceId, ...result }] }`. `first`: the named device or the first of the
   * kind, answered `{ deviceId, ...result }`.
   */
  fanOut: { to: 'each'; listKey: string } | { to: 'first' };
  /**
   * Runs the request on one driver of the kind (typed as the kind's driver by the declaring
   * module, which may only `import type` it: the registry loads drivers lazily). Returns the
   * result's fields, or throws RequestError(code, message).
   */
  handle(driver: DeviceDriver, request: z.infer<z.ZodObject<Fields>>, caller: RequestCaller): Promise<Record<string, unknown>> | Record<string, unknown>;
}

/** Declares one bridge request with its handler typed from its schema. */
export function bridgeRequest<Fields extends z.ZodRawShape>(spec: BridgeRequestSpec<Fields>): BridgeRequestSpec {
  return spec as unknown as BridgeRequestSpec;
}
