import type { AlarmSpec } from '../../src/device-contract/index.js';

/** Every alarm the dispenser raises, with what ends it (docs/alarms.md lists the same). */
export const DISPENSER_ALARMS = {
  printerFault: {
    code: 'printer-fault',
    severity: 'critical',
    clearedWhen: 'a status poll (DLE EOT) reads the printer fine again; for a printer that cannot answer, the next poll lets the next press try',
    operatorAction: 'refill paper, close the cover or clear the jam; presses are refused meanwhile; a voided number is listed in the device state',
  },
  paperNearEnd: {
    code: 'paper-near-end',
    severity: 'warning',
    clearedWhen: 'the paper sensor no longer reads near-end',
    operatorAction: 'put in a new paper roll soon',
  },
  readerOffline: {
    code: 'reader-offline',
    severity: 'warning',
    clearedWhen: 'the appointment reader port is open again (the shared serial link reopens it by itself)',
    operatorAction: 'reconnect the appointment reader; check-in by code is at the desk meanwhile',
  },
} as const satisfies Record<string, AlarmSpec>;
