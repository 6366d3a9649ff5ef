import type { DeviceKind } from '../../src/hall/device-api.js';
import { VoiceCallerDriver } from './driver.js';
import { voiceCallerOptionsSchema, type VoiceCallerOptions } from './options.js';

export const voiceCallerKind: DeviceKind<VoiceCallerOptions> = {
  kind: 'voice-caller',
  description: 'Voice caller (语音叫号): chime and "请 A023 号到 7 号窗口办理" in Mandarin and English, on the box speaker or networked voice boxes',
  options: voiceCallerOptionsSchema,
  create: (id, options, ctx) => new VoiceCallerDriver(id, options, ctx),
};
