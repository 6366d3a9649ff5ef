import type { DeviceKindInfo } from '../../src/device-contract/index.js';
import { VOICE_ALARMS } from './alarms.js';
import { voiceCallerOptionsSchema, type VoiceCallerOptions } from './options.js';

/** The voice-caller kind without its driver: config validation and the alarm catalog read this (devices/registry.ts). */
export const voiceCallerKindInfo: DeviceKindInfo<VoiceCallerOptions> = {
  kind: 'voice-caller',
  description: 'Voice caller (语音叫号): chime and "请 A023 号到 7 号窗口办理" in Mandarin and English, on the box speaker or networked voice boxes',
  options: voiceCallerOptionsSchema,
  alarms: Object.values(VOICE_ALARMS),
  exampleOptions: {
    engine: 'espeak',
    languages: ['zh', 'en'],
    voices: { zh: 'cmn-latn-pinyin', en: 'en' },
    sink: { type: 'mqtt' },
    templates: { zh: { call: '请{ticket}号到{window}号窗口办理' }, perService: { ss: { en: { call: 'Number {ticket}, window {window}' } } } },
  },
};
