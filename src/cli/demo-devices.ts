import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectMqtt } from '../bus/client.js';
import type { Logger } from '../platform/logger.js';
import { openPtyPair } from '../platform/pty-pair.js';
import type { HallConfig } from '../config/schema.js';
import type { DeviceConfigEntry } from '../hall/device-manager.js';
import type { RunningDaemon } from '../hall/daemon.js';
import { Bx5kSimulator } from '../../devices/led-bx5k/simulator.js';
import { HALL_DISPLAY_ADDRESS, HALL_LED_BAUD, hallBusAddresses, hallBusDevice } from '../../devices/led-bx5k/hall-bus.js';
import { CounterPadSimulator } from '../../devices/counter-pad/simulator.js';
import { startAutopilot, type Autopilot } from '../../devices/counter-pad/autopilot.js';
import { startGateSimulators, type GateSimulators } from '../../devices/health-gate/simulator.js';
import { PrinterSimulator } from '../../devices/ticket-printer/simulator.js';
import { buildDefaultClips } from '../../devices/voice-caller/build-clips.js';
import { VoiceBoxSimulator } from '../../devices/voice-caller/voice-box-simulator.js';
import { MANIFEST_FILE } from '../../devices/voice-caller/clip-manifest.js';

export interface DemoDevices {
  /** Device entries to add to the demo config (drivers attached to the simulators). */
  deviceEntries: DeviceConfigEntry[];
  afterDaemonStarted(daemon: RunningDaemon): Promise<void>;
  describe(): string[];
  /** No more key presses or visitors: called before the daemon stops. */
  quiesce(): void;
  /** Closes the simulators and their lines: called once the daemon has stopped. */
  stop(): Promise<void>;
}

interface DemoOptions {
  config: HallConfig;
  stateDir: string;
  log: Logger;
  /** 1 = real time; larger runs the staff and visitors faster. */
  speed: number;
}

const PADS_PER_LINE = 16;
const DISPENSERS = ['kiosk-1', 'kiosk-2'];
const VOICE_ID = 'voice-1';
const MAX_WAITING_IN_DEMO = 80;

/**
 * The demo hall's hardware, simulated at the wire: keypads and evaluator pads on PTY lines with
 * scripted staff, ticket printers behind two dispensers that visitors use over MQTT, the
 * entrance gate on Modbus TCP with a scanner on a PTY, and a networked voice box. The daemon
 * drives them with the same drivers as real hardware.
 */
export async function startDemoDevices(options: DemoOptions): Promise<DemoDevices> {
  const { config, stateDir, log, speed } = options;
  const entries: DeviceConfigEntry[] = [];
  const closers: Array<() => Promise<void> | void> = [];
  const descriptions: string[] = [];
  const credentials = readDemoCredentials();

  try {
    // Staff keypads with evaluator pads: lines of 16 pads on PTY pairs.
    const windows = config.windows;
    const padSims: Array<{ sim: CounterPadSimulator; addresses: number[]; staffIds: Record<number, string> }> = [];
    for (let start = 0; start < windows.length; start += PADS_PER_LINE) {
      const line = windows.slice(start, start + PADS_PER_LINE);
      const pty = await openPtyPair();
      closers.push(() => pty.close());
      const addresses = line.map((_, i) => i + 1);
      // Staff ids must be unique across lines: a staff member logging in twice would close the first window.
      const staffIds = Object.fromEntries(line.map((w, i) => [i + 1, `staff-${String(w.number).padStart(2, '0')}`]));
      entries.push({
        id: `pads-${start / PADS_PER_LINE + 1}`,
        kind: 'counter-pad',
        options: { port: pty.a, pads: line.map((w, i) => ({ address: i + 1, window: w.id })) },
      });
      const sim = new CounterPadSimulator({ path: pty.b, addresses, heartbeatMs: 10_000, rateTimeoutScale: 1 / speed, log: log.child({ sim: 'counter-pad' }) });
      padSims.push({ sim, addresses, staffIds });
    }
    descriptions.push(`  Keypads:   ${windows.length} staff keypads with evaluator pads on ${padSims.length} PTY lines, scripted staff`);

    // LED window displays and the main hall display: one BX-5K bus.
    const ledPty = await openPtyPair();
    closers.push(() => ledPty.close());
    const led = new Bx5kSimulator({ path: ledPty.b, baudRate: HALL_LED_BAUD, addresses: hallBusAddresses(windows), log: log.child({ sim: 'led-bx5k' }) });
    await led.start();
    closers.push(() => led.stop());
    entries.push(hallBusDevice('led-bus-1', ledPty.a, windows));
    let lastHallText = '';
    led.on('updated', (address: number, text: string) => {
      if (address === HALL_DISPLAY_ADDRESS && text !== lastHallText) {
        lastHallText = text;
        log.debug({ display: 'hall' }, text);
      }
    });
    descriptions.push(`  Displays:  ${windows.length} window LED displays + the hall display on one BX-5K bus (PTY ${ledPty.a})`);

    // Ticket printers behind the dispensers; kiosk touch screens publish device/<id>/issue.
    const printers: PrinterSimulator[] = [];
    for (const id of DISPENSERS) {
      const printer = new PrinterSimulator({ ticketFile: join(stateDir, `tickets-${id}.txt`) });
      await printer.listenTcp(0);
      printers.push(printer);
      closers.push(() => printer.close());
      entries.push({
        id,
        kind: 'dispenser',
        options: { hallName: config.hall.name, ticketUrl: config.hall.ticketUrl, printer: { type: 'epson', interface: printer.url }, buttons: [] },
      });
    }
    descriptions.push(`  Printers:  what the dispensers print goes to ${join(stateDir, 'tickets-kiosk-*.txt')}`);

    // The entrance gate.
    const gate: GateSimulators = await startGateSimulators({ visitorEverySeconds: Math.max(1, 8 / speed) });
    closers.push(() => gate.close());
    entries.push({ id: 'gate-1', kind: 'health-gate', options: gate.deviceOptions });
    descriptions.push(...gate.describe());

    // A networked voice box, with the default clip set built once into the state dir.
    const clipsDir = join(stateDir, 'voice-clips');
    if (!existsSync(join(clipsDir, MANIFEST_FILE))) {
      log.info({ clipsDir }, 'building the demo voice clips with espeak-ng (once)');
      await buildDefaultClips(clipsDir, { languages: ['zh', 'en'] });
    }
    entries.push({ id: VOICE_ID, kind: 'voice-caller', options: { engine: 'clips', clipsDir, languages: ['zh', 'en'], repeat: 1, sink: { type: 'mqtt' } } });
    descriptions.push(`  Voice:     announcements go to the networked voice box "${VOICE_ID}" (mosquitto_sub -t 'hall/${config.hall.id}/device/${VOICE_ID}/#')`);

    let visitors: MqttClient | undefined;
    let visitorTimer: NodeJS.Timeout | undefined;
    const autopilots: Autopilot[] = [];
    let voiceBox: VoiceBoxSimulator | undefined;
    const quiesce = (): void => {
      if (visitorTimer) clearInterval(visitorTimer);
      visitorTimer = undefined;
      for (const pilot of autopilots) pilot.stop();
    };
    closers.push(async () => {
      quiesce();
      for (const { sim } of padSims) await sim.stop();
      await voiceBox?.stop();
      await visitors?.endAsync();
    });

    return {
      deviceEntries: entries,
      describe: () => descriptions,
      quiesce,
      stop: async () => {
        for (const close of closers.reverse()) {
          try {
            await close();
          } catch (err) {
            log.warn({ err }, 'demo device did not stop cleanly');
          }
        }
      },
      afterDaemonStarted: async (daemon) => {
        const url = `mqtt://${config.mqtt.tcp.host}:${daemon.ports.tcp}`;
        // The voice box first, so the first calls are heard.
        const voice = credentials.find((c) => c.username === VOICE_ID);
        if (voice) {
          // A sped-up demo hall speaks faster too, or the announcement queue would only grow.
          voiceBox = await VoiceBoxSimulator.start({ url, hallId: config.hall.id, deviceId: VOICE_ID, username: voice.username, password: voice.password, timeScale: 1 / speed, log });
        }
        for (const { sim, staffIds } of padSims) {
          await sim.start();
          autopilots.push(startAutopilot(sim, { speed, staffIds, transferToServiceId: config.services[1]?.id }));
        }
        // Visitors take numbers at the kiosks' touch screens.
        const kiosk = credentials.find((c) => c.username === DISPENSERS[0]);
        if (kiosk) {
          visitors = await connectMqtt(url, { username: kiosk.username, password: kiosk.password, reconnectPeriod: 1000 });
          const services = config.services.map((s) => s.id);
          visitorTimer = setInterval(() => {
            // A busy hall, not an overflowing one: visitors stop coming while 80 are waiting.
            const waiting = services.reduce((sum, id) => sum + daemon.hall.view.waitingCount(id), 0);
            if (waiting >= MAX_WAITING_IN_DEMO) return;
            const serviceId = services[Math.floor(Math.random() ** 1.6 * services.length)]!;
            // One visitor in five leaves a (made-up) phone number for "your turn is near".
            const contact = config.notify && Math.random() < 0.2 ? { contact: `+861380000${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}` } : {};
            void visitors?.publishAsync(`hall/${config.hall.id}/device/${DISPENSERS[0]}/issue`, JSON.stringify({ serviceId, priority: Math.random() < 0.05, ...contact })).catch(() => undefined);
          }, Math.max(200, 4000 / speed));
        }
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    throw err;
  }
}

function readDemoCredentials(): Array<{ username: string; password: string; role: string }> {
  for (const candidate of ['../../../config/demo-credentials.json', '../../config/demo-credentials.json']) {
    try {
      return JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as Array<{ username: string; password: string; role: string }>;
    } catch {
      // try the next location
    }
  }
  return [];
}

