import type { FuzzTarget } from '../target.js';
import { appointmentReader } from './appointment-reader.js';
import { configYaml } from './config-yaml.js';
import { counterPadLines } from './counter-pad-lines.js';
import { escposStatus } from './escpos-status.js';
import { gateRegisters } from './gate-registers.js';
import { healthScanner } from './health-scanner.js';
import { ledBx5kReplies } from './led-bx5k-replies.js';
import { lineFramer } from './line-framer.js';
import { modbusTcpAnswers } from './modbus-tcp-answers.js';
import { mqttRequests } from './mqtt-requests.js';
import { voiceBoxMessages } from './voice-box-messages.js';

/** Every parser that reads bytes or payloads from outside the box, one target each. */
export const TARGETS: ReadonlyArray<FuzzTarget<never>> = [
  ledBx5kReplies,
  counterPadLines,
  lineFramer,
  escposStatus,
  healthScanner,
  appointmentReader,
  gateRegisters,
  modbusTcpAnswers,
  voiceBoxMessages,
  mqttRequests,
  // The config loader costs ~10x a wire parser per input. It runs last, as two processes of half
  // its inputs side by side (its `shards`), so both cores still finish together, and a run cut
  // short on a busy box has printed the nine wire targets first.
  configYaml,
] as unknown as ReadonlyArray<FuzzTarget<never>>;

export function targetByName(name: string): FuzzTarget<unknown> | undefined {
  return TARGETS.find((t) => t.name === name) as FuzzTarget<unknown> | undefined;
}

