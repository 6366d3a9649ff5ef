import type { AlarmSpec } from '../../src/device-contract/index.js';

/** Every alarm the health gate raises, with what ends it (docs/alarms.md lists the same). */
export const GATE_ALARMS = {
  linkDown: {
    code: 'gate.link-down',
    severity: 'critical',
    clearedWhen: 'the first good Modbus poll after the outage',
    operatorAction: 'check the gate is powered and its RS-485 or network cable; people are refused (sensor-offline) until it answers',
  },
  sensorFault: {
    code: 'gate.sensor-fault',
    severity: 'critical',
    clearedWhen: 'the gate clears its sensor-fault status bit',
    operatorAction: "read the gate's own display; clean or restart the thermometer; the gate stays shut meanwhile",
  },
  sensorFrozen: {
    code: 'gate.sensor-frozen',
    severity: 'critical',
    clearedWhen: 'the measurement counter moves again, or nobody stands at the gate (presence falls)',
    operatorAction: 'restart the gate; check people by hand meanwhile (the gate stays shut)',
  },
  scannerOffline: {
    code: 'gate.scanner-offline',
    severity: 'warning',
    clearedWhen: 'the scanner port is open again (the shared serial link reopens it by itself)',
    operatorAction: 'reconnect the health-code scanner (USB); codes are refused (no-reading) meanwhile',
  },
  outputLost: {
    code: 'gate.output-lost',
    severity: 'critical',
    clearedWhen: "the turnstile's GPIO line is held again (taken again at the next gate move or operator hold)",
    operatorAction: 'check that nothing else holds the line (gpioinfo) and that the gpiod tools are installed, then send hold shut or auto to take it again; let people through by hand meanwhile',
  },
  refused: {
    code: 'gate.refused',
    severity: 'warning',
    clearedWhen: 'the next person passes, or 10 minutes after the refusal',
    expiresAfterMs: 10 * 60_000,
    operatorAction: 'go to the entrance: a person was refused (fever or code colour); follow the hall procedure',
  },
} as const satisfies Record<string, AlarmSpec>;
