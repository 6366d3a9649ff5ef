import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyHold, decide, gatePolicySchema, soundsAlarm, type GateInputs } from './policy.js';

const policy = gatePolicySchema.parse({});
const well = { celsius: 36.5, sensorFault: false, outOfRange: false };
const green = { readable: true as const, colour: 'green' as const };

function inputs(partial: Partial<GateInputs>): GateInputs {
  return { sensor: 'ok', expired: false, ...partial };
}

describe('gate policy', () => {
  it('passes a normal temperature with a green code', () => {
    expect(decide(inputs({ temperature: well, scan: green }), policy)).toEqual({ decision: 'pass' });
  });

  it('refuses a fever at the threshold without waiting for the scan', () => {
    expect(decide(inputs({ temperature: { ...well, celsius: 37.3 } }), policy)).toEqual({ decision: 'refuse', reason: 'fever' });
    expect(decide(inputs({ temperature: { ...well, celsius: 37.2 } }), policy)).toEqual({ decision: 'wait' });
  });

  it('refuses non-pass colours and unreadable codes by name', () => {
    expect(decide(inputs({ temperature: well, scan: { readable: true, colour: 'red' } }), policy)).toEqual({ decision: 'refuse', reason: 'code-red' });
    expect(decide(inputs({ scan: { readable: true, colour: 'yellow' } }), policy)).toEqual({ decision: 'refuse', reason: 'code-yellow' });
    expect(decide(inputs({ scan: { readable: false, reason: 'bad-json' } }), policy)).toEqual({ decision: 'refuse', reason: 'code-unreadable' });
    const lenient = gatePolicySchema.parse({ passColours: ['green', 'yellow'] });
    expect(decide(inputs({ temperature: well, scan: { readable: true, colour: 'yellow' } }), lenient)).toEqual({ decision: 'pass' });
  });

  it('refuses on sensor trouble only when temperature is required', () => {
    expect(decide(inputs({ scan: green, sensor: 'offline' }), policy)).toEqual({ decision: 'refuse', reason: 'sensor-offline' });
    expect(decide(inputs({ scan: green, sensor: 'fault' }), policy)).toEqual({ decision: 'refuse', reason: 'sensor-fault' });
    expect(decide(inputs({ temperature: { ...well, sensorFault: true }, scan: green }), policy)).toEqual({ decision: 'refuse', reason: 'sensor-fault' });
    expect(decide(inputs({ temperature: { ...well, outOfRange: true }, scan: green }), policy)).toEqual({ decision: 'refuse', reason: 'out-of-range' });
    const codeOnly = gatePolicySchema.parse({ requireTemperature: false });
    expect(decide(inputs({ scan: green, sensor: 'offline' }), codeOnly)).toEqual({ decision: 'pass' });
  });

  it('names what was missing when the window runs out', () => {
    expect(decide(inputs({ temperature: well, expired: true }), policy)).toEqual({ decision: 'refuse', reason: 'timeout' });
    expect(decide(inputs({ scan: green, expired: true }), policy)).toEqual({ decision: 'refuse', reason: 'no-reading' });
  });

  it('lets an operator hold shut override a pass but never open a refusal', () => {
    expect(applyHold({ decision: 'pass' }, 'shut')).toEqual({ decision: 'refuse', reason: 'held-shut' });
    expect(applyHold({ decision: 'refuse', reason: 'fever' }, 'open')).toEqual({ decision: 'refuse', reason: 'fever' });
    expect(applyHold({ decision: 'pass' }, 'auto')).toEqual({ decision: 'pass' });
  });

  it('sounds the alarm for fever and bad codes, not for a missed scan', () => {
    expect(soundsAlarm('fever', policy)).toBe(true);
    expect(soundsAlarm('code-red', policy)).toBe(true);
    expect(soundsAlarm('timeout', policy)).toBe(false);
    expect(soundsAlarm('code-unreadable', policy)).toBe(false);
  });

  it('never passes a fever or a non-pass colour, whatever else is true', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 30, max: 45, noNaN: true }),
        fc.constantFrom('green', 'yellow', 'red'),
        fc.boolean(),
        fc.constantFrom('ok', 'fault', 'offline'),
        (celsius, colour, expired, sensor) => {
          const result = decide({ temperature: { celsius, sensorFault: false, outOfRange: false }, scan: { readable: true, colour }, expired, sensor }, policy);
          if (celsius >= policy.feverThreshold || colour !== 'green') expect(result.decision).toBe('refuse');
          else expect(result).toEqual({ decision: 'pass' });
        },
      ),
    );
  });
});
