import type { DeviceKind } from '../../src/device-contract/index.js';
import { VoiceCallerDriver } from './driver.js';
import { voiceCallerKindInfo } from './info.js';
import type { VoiceCallerOptions } from './options.js';

export const voiceCallerKind: DeviceKind<VoiceCallerOptions> = {
  ...voiceCallerKindInfo,
  create: (id, options, ctx) => new VoiceCallerDriver(id, options, ctx),
};
