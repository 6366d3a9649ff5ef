import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectMqtt } from '../src/bus/client.js';
import { stringify } from 'yaml';
import { parseConfig, type HallConfig } from '../src/config/load.js';
import { deviceKindSchemas } from '../src/cli/device-schemas.js';
import { startDaemon, type RunningDaemon } from '../src/hall/daemon.js';
import type { DeviceConfigEntry } from '../src/hall/device-manager.js';
import { silentLogger, type Logger } from '../src/platform/logger.js';
import { openPtyPair, type PtyPair } from '../src/platform/pty-pair.js';
import type { SequencedEvent } from '../src/queue/events.js';
import { CounterPadSimulator } from '../devices/counter-pad/simulator.js';
import { Bx5kSimulator } from '../devices/led-bx5k/simulator.js';
import { HALL_LED_BAUD, hallBusAddresses, hallBusDevice } from '../devices/led-bx5k/hall-bus.js';
import { testHallConfig, TEST_USERS } from '../test/support/hall-config.js';
import { Requester, startDaemonProcess } from '../test/support/daemon-process.js';
import { freePort } from '../test/support/ports.js';

/**
 * A whole hall on one box, wired at the wire: the real daemon in-process, staff keypads on PTY
 * lines (16 pads a line), every window's LED display plus the hall display on one BX-5K bus at
 * 57600 baud, and an MQTT observer on the `event` topic over TCP. Shared by the call-next
 * benchmark and the 32-windows system test, so both measure and check the same hall.
 */

export const PADS_PER_LINE = 16;
export { HALL_DISPLAY_ADDRESS } from '../devices/led-bx5k/hall-bus.js';
export const LED_BAUD = HALL_LED_BAUD;

export interface PadLine {
  sim: CounterPadSimulator;
  pty: PtyPair;
  /** Window id for each pad address on this line. */
  windows: Map<number, string>;
}

export interface HallRigOptions {
  windows?: number;
  log?: Logger;
  /** Called on every `event` message the observer receives, with performance.now() at receipt. */
  onEvent?: (event: SequencedEvent, receivedAt: number) => void;
  /**
   * Run the daemon as its own process (`hall-edge run`, logging JSON at info as in production)
   * instead of in this one: the simulated hardware then does not share the daemon's event loop,
   * as real keypads and displays do not.
   */
  separateProcess?: boolean;
}

export interface HallRig {
  /** The in-process daemon; undefined when it runs as a separate process. */
  daemon: RunningDaemon | undefined;
  config: HallConfig;
  lines: PadLine[];
  led: Bx5kSimulator;
  /** The LED bus's PTY; replaced by replugLed(). */
  ledPty: PtyPair;
  observer: MqttClient;
  /** An operator client for requests. */
  operator: Requester;
  mqttUrl: string;
  baseTopic: string;
  windowIds: string[];
  padOf(windowId: string): { sim: CounterPadSimulator; address: number };
  /** LED address of a window's display (its window number). */
  ledAddressOf(windowId: string): number;
  /** Pulls the LED bus's adapter out: the socat pair dies, both ends see the line go. */
  unplugLed(): Promise<void>;
  /** A new PTY pair at the same paths, as when the USB-RS485 adapter comes back. */
  replugLed(): Promise<void>;
  close(): Promise<void>;
}

export async function startHallRig(options: HallRigOptions = {}): Promise<HallRig> {
  const windowCount = options.windows ?? 32;
  const log = options.log ?? silentLogger();
  const stateDir = mkdtempSync(join(tmpdir(), 'hall-rig-'));
  const closers: Array<() => Promise<void> | void> = [() => rmSync(stateDir, { recursive: true, force: true })];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        log.warn({ err }, 'hall rig part did not close cleanly');
      }
    }
  };

  try {
    const windowIds = Array.from({ length: windowCount }, (_, i) => `w${String(i + 1).padStart(2, '0')}`);
    const entries: DeviceConfigEntry[] = [];
    const lines: PadLine[] = [];
    for (let start = 0; start < windowCount; start += PADS_PER_LINE) {
      const pty = await openPtyPair();
      closers.push(() => pty.close());
      const onLine = windowIds.slice(start, start + PADS_PER_LINE);
      const windows = new Map(onLine.map((id, i) => [i + 1, id] as const));
      entries.push({
        id: `pads-${lines.length + 1}`,
        kind: 'counter-pad',
        // A rating prompt that outlives the run: its timeouts would be traffic nobody measures.
        options: { port: pty.a, pads: onLine.map((window, i) => ({ address: i + 1, window })), rateTimeoutSeconds: 999 },
      });
      const sim = new CounterPadSimulator({ path: pty.b, addresses: [...windows.keys()], heartbeatMs: 10_000, log });
      closers.push(() => sim.stop());
      lines.push({ sim, pty, windows });
    }

    // The LED bus's PTY lives in a directory of the rig's own, so replugLed() can reopen it at the same paths.
    const ledDir = join(stateDir, 'led-bus');
    mkdirSync(ledDir);
    let ledPty = await openPtyPair(ledDir);
    closers.push(() => ledPty.close());
    const windowsOnBus = windowIds.map((id, i) => ({ id, number: i + 1 }));
    const led = new Bx5kSimulator({ path: ledPty.b, baudRate: LED_BAUD, addresses: hallBusAddresses(windowsOnBus), log });
    await led.start();
    closers.push(() => led.stop());
    entries.push(hallBusDevice('led-bus-1', ledPty.a, windowsOnBus));

    const tcpPort = options.separateProcess ? await freePort() : 0;
    const base = testHallConfig({ windows: windowCount, devices: entries, ws: false, extra: { mqtt: { tcp: { host: '127.0.0.1', port: tcpPort } } } });
    const raw = {
      ...base,
      // Four-digit numbers (A0001), as a big hall runs: the benchmark calls thousands of tickets.
      services: (base.services as Array<Record<string, unknown>>).map((service) => ({ ...service, digits: 4 })),
      stateDir,
    };
    const config = parseConfig(stringify(raw), undefined, { deviceKinds: deviceKindSchemas() });
    let daemon: RunningDaemon | undefined;
    let port: number;
    if (options.separateProcess) {
      const file = join(stateDir, 'hall.yaml');
      writeFileSync(file, stringify(raw));
      const child = await startDaemonProcess(file, stateDir);
      // Only the start-up lines are kept: the daemon logs every event, and a long run must not grow this process.
      child.proc.stdout!.removeAllListeners('data');
      child.proc.stdout!.resume();
      closers.push(async () => {
        child.proc.kill('SIGTERM');
        await child.exited;
      });
      port = child.ports.tcpPort;
    } else {
      const inProcess = await startDaemon({ config, log });
      closers.push(() => inProcess.stop());
      daemon = inProcess;
      port = inProcess.ports.tcp;
    }

    for (const line of lines) await line.sim.start();

    const mqttUrl = `mqtt://127.0.0.1:${port}`;
    const baseTopic = `hall/${config.hall.id}`;
    const observer = await connectMqtt(mqttUrl, { username: TEST_USERS.observer.username, password: TEST_USERS.observer.password, reconnectPeriod: 0 });
    closers.push(() => observer.endAsync(true));
    observer.on('message', (topic, payload) => {
      if (topic !== `${baseTopic}/event`) return;
      const receivedAt = performance.now();
      try {
        options.onEvent?.(JSON.parse(payload.toString('utf8')) as SequencedEvent, receivedAt);
      } catch (err) {
        log.warn({ err, topic }, 'hall rig: event message could not be handled');
      }
    });
    await observer.subscribeAsync(`${baseTopic}/event`, { qos: 1 });
    const operatorClient = await connectMqtt(mqttUrl, { username: TEST_USERS.operator.username, password: TEST_USERS.operator.password, reconnectPeriod: 0 });
    closers.push(() => operatorClient.endAsync(true));
    const operator = new Requester(operatorClient, baseTopic);
    await operator.ready();

    const padIndex = new Map<string, { sim: CounterPadSimulator; address: number }>();
    for (const line of lines) for (const [address, windowId] of line.windows) padIndex.set(windowId, { sim: line.sim, address });

    return {
      daemon,
      config,
      lines,
      led,
      get ledPty() {
        return ledPty;
      },
      observer,
      operator,
      mqttUrl,
      baseTopic,
      windowIds,
      padOf: (windowId) => {
        const pad = padIndex.get(windowId);
        if (!pad) throw new Error(`no pad for window ${windowId}`);
        return pad;
      },
      ledAddressOf: (windowId) => {
        const index = windowIds.indexOf(windowId);
        if (index < 0) throw new Error(`no LED display for window ${windowId}`);
        return index + 1;
      },
      unplugLed: () => ledPty.close(),
      replugLed: async () => {
        ledPty = await openPtyPair(ledDir);
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Logs every window in through its own pad, each with a distinct staff id. */
export async function loginAll(rig: HallRig): Promise<void> {
  const results = await Promise.all(
    rig.windowIds.map(async (windowId) => {
      const { sim, address } = rig.padOf(windowId);
      return { windowId, result: await sim.press(address, { verb: 'LOGIN', staffId: `staff-${windowId}` }) };
    }),
  );
  const refused = results.filter((r) => !r.result.ok);
  if (refused.length > 0) throw new Error(`login refused at ${refused.map((r) => `${r.windowId} (${r.result.text ?? 'no ACK'})`).join(', ')}`);
}

/** Issues `count` tickets straight into the in-process hall, spread over its services. */
export function issueTickets(rig: HallRig, count: number): string[] {
  if (!rig.daemon) throw new Error('issueTickets needs the in-process daemon; use issueTicketsOverMqtt');
  const services = rig.config.services.map((s) => s.id);
  const numbers: string[] = [];
  for (let i = 0; i < count; i++) {
    const result = rig.daemon.hall.execute({ type: 'issue', serviceId: services[i % services.length]!, channel: 'kiosk' });
    if (!result.ok || !result.ticket) throw new Error(`could not issue a ticket: ${result.ok ? 'no ticket' : result.message}`);
    numbers.push(result.ticket.number);
  }
  return numbers;
}

/** Issues `count` tickets through the MQTT API, as kiosks and operators do; each request's round trip goes into `roundTripsMs`. */
export async function issueTicketsOverMqtt(rig: HallRig, count: number, roundTripsMs?: number[]): Promise<string[]> {
  const services = rig.config.services.map((s) => s.id);
  const numbers: string[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const response = await rig.operator.request('issue', { serviceId: services[i % services.length]!, channel: 'kiosk' });
    roundTripsMs?.push(performance.now() - t0);
    const ticket = (response.data as { ticket?: { number: string } } | undefined)?.ticket;
    if (response.status !== 'ok' || !ticket) throw new Error(`could not issue a ticket: ${response.error ?? 'no ticket'}`);
    numbers.push(ticket.number);
  }
  return numbers;
}
