import type { AlarmSpec } from '../../src/device-contract/index.js';

/** Every alarm the LED bus raises, with what ends it (docs/alarms.md lists the same). */
export const LED_ALARMS = {
  displayOffline: {
    code: 'display-<address>-offline',
    severity: 'warning',
    clearedWhen: 'the display answers again (a background ping every probeIntervalMs)',
    operatorAction: "check that display's power and its RS-485 wiring; the others keep working",
  },
} as const satisfies Record<string, AlarmSpec>;

export const displayOfflineCode = (address: number | string): string => `display-${address}-offline`;
