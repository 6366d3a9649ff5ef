import type { AlarmSpec } from '../../src/device-contract/index.js';

/** Every alarm the voice caller raises, with what ends it (docs/alarms.md lists the same). */
export const VOICE_ALARMS = {
  output: {
    code: 'voice.output',
    severity: 'warning',
    clearedWhen: 'the next announcement plays (or a voice box confirms one)',
    operatorAction: 'check the speaker/amplifier or the networked voice box; calls still show on the displays',
  },
} as const satisfies Record<string, AlarmSpec>;
