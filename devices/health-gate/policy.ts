import { z } from 'zod';
import { HEALTH_COLOURS, type HealthColour, type ScanResult } from './scan-rules.js';

/**
 * The entrance rule, as pure functions: which checks a person must pass is hall policy (switched
 * on, off or changed in config), so it is data here, not code paths in the driver.
 */

export const gatePolicySchema = z.strictObject({
  requireTemperature: z.boolean().default(true),
  requireHealthCode: z.boolean().default(true),
  /** °C; a body temperature at or above it is a fever. */
  feverThreshold: z.number().min(35).max(42).default(37.3),
  passColours: z.array(z.enum(HEALTH_COLOURS)).min(1).default(['green']),
  /** How long the second check may lag the first (measure then scan, or scan then measure). */
  scanWindowSeconds: z.number().positive().max(300).default(10),
  /** Refusals that also sound the gate's alarm; the others only keep it shut. */
  alarmReasons: z.array(z.string()).default(['fever', 'code-red', 'code-yellow']),
});
export type GatePolicy = z.infer<typeof gatePolicySchema>;

export type RefusalReason =
  | 'fever'
  | 'out-of-range'
  | 'sensor-fault'
  | 'sensor-offline'
  | `code-${HealthColour}`
  | 'code-unreadable'
  | 'no-reading'
  | 'timeout'
  | 'held-shut';

/** A finished measurement as the gate reported it. */
export interface TemperatureReading {
  celsius: number;
  sensorFault: boolean;
  outOfRange: boolean;
}

/** What the gate knows about the person in front of it. */
export interface GateInputs {
  /** The measurement taken for this person, if any yet. */
  temperature?: TemperatureReading;
  scan?: ScanResult;
  /** Whether the sensor can measure at all right now (link up, not frozen, no fault bit). */
  sensor: 'ok' | 'fault' | 'offline';
  /** The scan window has run out. */
  expired: boolean;
}

export type GateDecision = { decision: 'pass' } | { decision: 'refuse'; reason: RefusalReason } | { decision: 'wait' };

function temperatureRefusal(inputs: GateInputs, policy: GatePolicy): RefusalReason | undefined {
  const reading = inputs.temperature;
  if (reading) {
    if (reading.sensorFault) return 'sensor-fault';
    if (reading.outOfRange) return 'out-of-range';
    if (reading.celsius >= policy.feverThreshold) return 'fever';
    return undefined;
  }
  if (inputs.sensor === 'fault') return 'sensor-fault';
  if (inputs.sensor === 'offline') return 'sensor-offline';
  return undefined;
}

function codeRefusal(scan: ScanResult | undefined, policy: GatePolicy): RefusalReason | undefined {
  if (!scan) return undefined;
  if (!scan.readable) return 'code-unreadable';
  return policy.passColours.includes(scan.colour) ? undefined : `code-${scan.colour}`;
}

/**
 * A failing check refuses at once (a fever does not wait for the scan); a pass needs every
 * required check; a missing check refuses only when the window has run out.
 */
export function decide(inputs: GateInputs, policy: GatePolicy): GateDecision {
  if (policy.requireTemperature) {
    const reason = temperatureRefusal(inputs, policy);
    if (reason) return { decision: 'refuse', reason };
  }
  if (policy.requireHealthCode) {
    const reason = codeRefusal(inputs.scan, policy);
    if (reason) return { decision: 'refuse', reason };
  }
  const missingTemperature = policy.requireTemperature && !inputs.temperature;
  const missingCode = policy.requireHealthCode && !inputs.scan;
  if (!missingTemperature && !missingCode) return { decision: 'pass' };
  if (!inputs.expired) return { decision: 'wait' };
  // A scan without a measurement: the person skipped the thermometer; the reverse: no code shown.
  return { decision: 'refuse', reason: missingTemperature ? 'no-reading' : 'timeout' };
}

/** The operator's hold overrides an automatic pass, never an automatic refusal. */
export function applyHold(decision: GateDecision, hold: GateHold): GateDecision {
  if (hold === 'shut' && decision.decision === 'pass') return { decision: 'refuse', reason: 'held-shut' };
  return decision;
}

export type GateHold = 'open' | 'shut' | 'auto';

export function soundsAlarm(reason: RefusalReason, policy: GatePolicy): boolean {
  return policy.alarmReasons.includes(reason);
}
