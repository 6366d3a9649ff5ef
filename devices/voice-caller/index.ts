/** What the rest of hall-edge uses from the voice caller. */
export { voiceCallerKind } from './kind.js';
export { VoiceCallerDriver, type VoiceCallerStats } from './driver.js';
export { buildDefaultClips, type BuildClipsOptions } from './build-clips.js';
export { VoiceBoxSimulator, type VoiceBoxSimulatorOptions } from './voice-box-simulator.js';
