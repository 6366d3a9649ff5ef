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
import { HALL_DISPLAY_ADDRESS, HALL_LED_BAUD, hallBusAddresses, hallBusDevice } from '../devices/led-bx5k/hall-bus.js';
import { openWireLine, type WireLine } from './wire-relay.js';
import { testHallConfig, TEST_USERS } from '../test/support/hall-config.js';
import { Requester, startDaemonProcess } from '../test/support/daemon-process.js';
import { freePort } from '../test/support/ports.js';
import { deployedRuntime } from '../test/support/deployed-runtime.js';

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
  pty: PtyPair | undefined;
  /** The paced line, in wire-true mode. */
  wire?: WireLine;
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
  /** LED buses the windows' displays are spread over (the hall display is on the first). Default 1. */
  ledBuses?: number;
  /**
   * Wire-true: every pad line and LED bus goes through a relay that paces bytes at the line's
   * baud rate with a half-duplex turnaround (wire-relay.ts), instead of a bare PTY pair.
   */
  wire?: { turnaroundMs?: number };
  /** Top-level config sections added to the rig's hall (e.g. `requests` limits). */
  extraConfig?: Record<string, unknown>;
  /** With separateProcess: the daemon's environment additions (test hooks). */
  env?: NodeJS.ProcessEnv;
  /** With separateProcess: keep every log line of the daemon in `daemonLog` (tests; a long run would grow). */
  keepDaemonLog?: boolean;
}

const RIG_ACK_TIMEOUT_MS = 2000;

/** The pads' line speed in the rig (the counter-pad default). */
export const PAD_BAUD = 19200;

export interface LedBus {
  sim: Bx5kSimulator;
  /** The paced line, in wire-true mode. */
  wire?: WireLine;
  windowIds: string[];
}

export interface HallRig {
  /** The in-process daemon; undefined when it runs as a separate process. */
  daemon: RunningDaemon | undefined;
  config: HallConfig;
  lines: PadLine[];
  /** The first LED bus's simulator (the one with the hall display). */
  led: Bx5kSimulator;
  ledBuses: LedBus[];
  /** The LED bus a window's display is on. */
  ledBusOf(windowId: string): LedBus;
  /** The daemon's process id when it runs as its own process. */
  daemonPid: number | undefined;
  /** The separate daemon's log lines (JSON), with keepDaemonLog. */
  daemonLog: string[];
  /** Resolves when the separate daemon process exits. */
  daemonExited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
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
    // A line is a bare PTY pair, or in wire-true mode a relay paced at the line's baud.
    const openLine = async (baud: number, ownDir?: string): Promise<{ host: string; device: string; pty?: PtyPair; wire?: WireLine }> => {
      if (options.wire) {
        const wire = await openWireLine({ baud, turnaroundMs: options.wire.turnaroundMs });
        closers.push(() => wire.close());
        return { host: wire.host, device: wire.device, wire };
      }
      const pty = await openPtyPair(ownDir);
      return { host: pty.a, device: pty.b, pty };
    };
    for (let start = 0; start < windowCount; start += PADS_PER_LINE) {
      const line = await openLine(PAD_BAUD);
      const pty = line.pty;
      if (pty) closers.push(() => pty.close());
      const onLine = windowIds.slice(start, start + PADS_PER_LINE);
      const windows = new Map(onLine.map((id, i) => [i + 1, id] as const));
      entries.push({
        id: `pads-${lines.length + 1}`,
        kind: 'counter-pad',
        // A rating prompt that outlives the run: its timeouts would be traffic nobody measures.
        options: {
          port: line.host,
          baudRate: PAD_BAUD,
          pads: onLine.map((window, i) => ({ address: i + 1, window })),
          rateTimeoutSeconds: 999,
          // 16 pads pressing at once on one line: on a paced line their keys alone take ~120 ms,
          // and on a busy box a PTY line can be as slow; ACKs wait their turn beyond the 150 ms
          // default meant for one exchange, and a resend would be traffic nobody measures.
          ackTimeoutMs: RIG_ACK_TIMEOUT_MS,
        },
      });
      const sim = new CounterPadSimulator({ path: line.device, addresses: [...windows.keys()], heartbeatMs: 10_000, log, ackTimeoutMs: RIG_ACK_TIMEOUT_MS });
      closers.push(() => sim.stop());
      lines.push({ sim, pty, wire: line.wire, windows });
    }

    // The first LED bus's PTY lives in a directory of the rig's own, so replugLed() can reopen it at the same paths.
    const ledDir = join(stateDir, 'led-bus');
    mkdirSync(ledDir);
    const busCount = Math.max(1, options.ledBuses ?? 1);
    const perBus = Math.ceil(windowCount / busCount);
    const ledBuses: LedBus[] = [];
    let ledPty!: PtyPair;
    for (let bus = 0; bus < busCount; bus++) {
      const onBus = windowIds.slice(bus * perBus, (bus + 1) * perBus).map((id) => ({ id, number: windowIds.indexOf(id) + 1 }));
      const line = await openLine(LED_BAUD, bus === 0 ? ledDir : undefined);
      if (line.pty) {
        if (bus === 0) {
          ledPty = line.pty;
          closers.push(() => ledPty.close());
        } else {
          const pty = line.pty;
          closers.push(() => pty.close());
        }
      }
      // The hall display hangs on the first bus only.
      const addresses = bus === 0 ? hallBusAddresses(onBus) : hallBusAddresses(onBus).filter((a) => a !== HALL_DISPLAY_ADDRESS);
      const sim = new Bx5kSimulator({ path: line.device, baudRate: LED_BAUD, addresses, log });
      await sim.start();
      closers.push(() => sim.stop());
      const device = hallBusDevice(`led-bus-${bus + 1}`, line.host, onBus);
      if (bus > 0) device.options.displays = (device.options.displays as Array<{ role: string }>).filter((d) => d.role !== 'hall');
      entries.push(device);
      ledBuses.push({ sim, wire: line.wire, windowIds: onBus.map((w) => w.id) });
    }
    const led = ledBuses[0]!.sim;

    const tcpPort = options.separateProcess ? await freePort() : 0;
    const base = testHallConfig({ windows: windowCount, devices: entries, ws: false, extra: { ...options.extraConfig, mqtt: { tcp: { host: '127.0.0.1', port: tcpPort } } } });
    const raw = {
      ...base,
      // Four-digit numbers (A0001), as a big hall runs: the benchmark calls thousands of tickets.
      services: (base.services as Array<Record<string, unknown>>).map((service) => ({ ...service, digits: 4 })),
      stateDir,
    };
    const config = parseConfig(stringify(raw), undefined, { deviceKinds: deviceKindSchemas() });
    let daemon: RunningDaemon | undefined;
    let daemonPid: number | undefined;
    let daemonLog: string[] = [];
    let daemonExited: HallRig['daemonExited'];
    let port: number;
    if (options.separateProcess) {
      const file = join(stateDir, 'hall.yaml');
      writeFileSync(file, stringify(raw));
      // Started as the systemd unit starts it (its node flags and environment): the daemon as deployed.
      const runtime = deployedRuntime();
      const child = await startDaemonProcess(file, stateDir, 60_000, [], { ...runtime.env, ...options.env }, runtime.nodeArgs); // start-up on a busy 2-core box can take many seconds
      if (options.keepDaemonLog) daemonLog = child.lines;
      else {
        // Only the start-up lines are kept: the daemon logs every event, and a long run must not grow this process.
        child.proc.stdout!.removeAllListeners('data');
        child.proc.stdout!.resume();
      }
      daemonExited = child.exited;
      closers.push(async () => {
        child.proc.kill('SIGTERM');
        await child.exited;
      });
      port = child.ports.tcpPort;
      daemonPid = child.proc.pid;
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
      ledBuses,
      daemonPid,
      daemonLog,
      daemonExited,
      ledBusOf: (windowId) => {
        const bus = ledBuses.find((b) => b.windowIds.includes(windowId));
        if (!bus) throw new Error(`no LED bus for window ${windowId}`);
        return bus;
      },
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
