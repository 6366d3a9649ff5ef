import { DEFAULT_LOGIN_THROTTLE, type LoginThrottleSettings } from './login-throttle.js';
import type { PacketLimits } from './packet-limit.js';

/** The broker's protective limits, as the config (`mqtt.limits`) names them. */
export interface BrokerLimits {
  /** Largest CONNECT (client id, credentials, will), in bytes. */
  maxConnectBytes: number;
  /** Largest packet after the CONNECT, in bytes; a WebSocket frame is bounded the same. */
  maxPacketBytes: number;
  /** Unsent bytes a client may have queued before it is disconnected as a slow consumer. */
  maxOutgoingBacklogBytes: number;
  /** Password checks (scrypt) running at once. */
  passwordChecks: number;
  /** Wait before an address's next login after a failed one; doubles per further failure. */
  loginBackoffMs: number;
  loginBackoffMaxMs: number;
  /** Logins one remote address may have waiting; more are refused at once. */
  pendingLoginsPerAddress: number;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxConnectBytes: 4 * 1024,
  maxPacketBytes: 256 * 1024,
  maxOutgoingBacklogBytes: 2 * 1024 * 1024,
  passwordChecks: DEFAULT_LOGIN_THROTTLE.concurrency,
  loginBackoffMs: DEFAULT_LOGIN_THROTTLE.backoffBaseMs,
  loginBackoffMaxMs: DEFAULT_LOGIN_THROTTLE.backoffMaxMs,
  pendingLoginsPerAddress: DEFAULT_LOGIN_THROTTLE.maxPendingPerAddress,
};

export function resolveBrokerLimits(given: Partial<BrokerLimits> = {}): { packets: PacketLimits; login: LoginThrottleSettings } {
  const limits = { ...DEFAULT_BROKER_LIMITS, ...withoutUndefined(given) };
  return {
    packets: { maxConnectBytes: limits.maxConnectBytes, maxPacketBytes: limits.maxPacketBytes, maxOutgoingBacklogBytes: limits.maxOutgoingBacklogBytes },
    login: {
      ...DEFAULT_LOGIN_THROTTLE,
      concurrency: limits.passwordChecks,
      backoffBaseMs: limits.loginBackoffMs,
      backoffMaxMs: Math.max(limits.loginBackoffMs, limits.loginBackoffMaxMs),
      maxPendingPerAddress: limits.pendingLoginsPerAddress,
    },
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
