import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../platform/logger.js';
import type { HallConfig } from '../config/schema.js';
import { startDaemon } from '../hall/daemon.js';
import { loadConfigForCli } from './load-config.js';
import { runUntilSignal } from './run.js';
import { startDemoDevices, type DemoDevices } from './demo-devices.js';
import { demoUplinkSection } from './demo-uplink.js';
import { startDemoGateway } from './demo-gateway.js';

const DEMO_CONFIG = new URL('../../../config/demo-hall.yaml', import.meta.url);
const DEMO_CONFIG_FROM_SRC = new URL('../../config/demo-hall.yaml', import.meta.url);

interface DemoCredential {
  username: string;
  password: string;
  role: string;
}

/**
 * The demo hall: the demo config on the embedded broker, with simulated devices on PTY pairs and
 * scripted staff so the hall moves by itself. Opening hours are widened to the whole day (unless
 * --real-hours) so the demo works whenever someone tries it.
 */
export async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      state: { type: 'string' },
      'real-hours': { type: 'boolean', default: false },
      'tcp-port': { type: 'string', default: '1883' },
      'ws-port': { type: 'string', default: '8083' },
      'dashboard-port': { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'no-devices': { type: 'boolean', default: false },
      speed: { type: 'string', default: '1' },
      'accept-journal-loss': { type: 'boolean', default: false },
      uplink: { type: 'string' },
    },
    strict: true,
  });
  const configFile = fileExists(DEMO_CONFIG) ? DEMO_CONFIG : DEMO_CONFIG_FROM_SRC;
  const loaded = loadConfigForCli(configFile.pathname);
  if (!loaded) return 1;
  let config: HallConfig = loaded;
  const stateDir = resolve(values.state ?? 'data/demo');
  mkdirSync(stateDir, { recursive: true });
  config = {
    ...config,
    stateDir,
    mqtt: {
      ...config.mqtt,
      tcp: { host: values.host, port: Number(values['tcp-port']) },
      ws: { host: values.host, port: Number(values['ws-port']), path: '/mqtt' },
    },
    // The ticket QR links to the phone page on this host and port (a LAN address when listening on all).
    dashboard: config.dashboard
      ? { ...config.dashboard, host: values.host, port: Number(values['dashboard-port']), publicUrl: `http://${reachableHost(values.host)}:${Number(values['dashboard-port'])}` }
      : config.dashboard,
  };
  if (!values['real-hours']) config = allDay(config);
  if (values.uplink) {
    try {
      config = { ...config, uplink: demoUplinkSection(values.uplink, stateDir) };
    } catch (err) {
      process.stderr.write(`hall-edge demo: ${(err as Error).message}\n`);
      return 2;
    }
  }

  const log = createLogger({ level: config.log?.level });
  const credentials = readCredentials(configFile);
  let demoDevices: DemoDevices | undefined;
  if (!values['no-devices']) {
    demoDevices = await startDemoDevices({ config, stateDir, log: log.child({ component: 'demo' }), speed: Number(values.speed) || 1 });
    config = { ...config, devices: [...(config.devices ?? []), ...demoDevices.deviceEntries] };
  }

  const invocation = `hall-edge demo --state ${stateDir}`;
  let gateway: Awaited<ReturnType<typeof startDemoGateway>>;
  let gatewayStopped: Promise<void> | undefined;
  return runUntilSignal(log, () => startDaemon({ config, log, acceptJournalLoss: values['accept-journal-loss'], invocation }), {
    onStarted: async (daemon) => {
      gateway = await startDemoGateway(config, `mqtt://${config.mqtt.tcp.host}:${daemon.ports.tcp}`, credentials, log);
      await demoDevices?.afterDaemonStarted(daemon);
      printWelcome(config, daemon.ports, credentials, stateDir, demoDevices);
    },
    beforeStop: () => {
      demoDevices?.quiesce();
      // While the broker is still up, so the gateway can say it is going.
      gatewayStopped = gateway?.stop();
    },
    afterStopped: async () => {
      await gatewayStopped;
      await demoDevices?.stop();
    },
  });
}

/** Where to open the hall TV page and the ticket on a phone (README "The hall TV and the ticket on the phone"). */
function visitorPageLines(config: HallConfig, credentials: DemoCredential[]): string[] {
  if (!config.dashboard?.publicUrl) return [];
  const base = config.dashboard.publicUrl;
  const tv = credentials.find((c) => c.role === 'display');
  return [
    tv ? `  Hall TV:   ${base}/display#user=${tv.username}&password=${tv.password}` : `  Hall TV:   ${base}/display (log in with a user of role display)`,
    `  Phone:     every printed ticket's QR is its page ${base}/t/<day>/<number>?k=<token>; the newest:`,
    `             grep -o '${base}/t/[^]]*' ${join(config.stateDir, 'tickets-kiosk-1.txt')} | tail -1`,
  ];
}

function allDay(config: HallConfig): HallConfig {
  return {
    ...config,
    hall: { ...config.hall, openDays: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], openingHours: { open: '00:00', close: '24:00' }, dayStartsAt: '00:00' },
    queue: { ...config.queue, enforceWindowSchedule: false },
  } as HallConfig;
}

/** A host name phones can use: the given one, or for 0.0.0.0 / :: the box's first LAN address. */
function reachableHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host.includes(':') ? `[${host}]` : host;
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal);
  return lan?.address ?? '127.0.0.1';
}

function readCredentials(configFile: URL): DemoCredential[] {
  try {
    return JSON.parse(readFileSync(new URL('demo-credentials.json', configFile), 'utf8')) as DemoCredential[];
  } catch {
    return [];
  }
}

function fileExists(url: URL): boolean {
  try {
    readFileSync(url);
    return true;
  } catch {
    return false;
  }
}

function printWelcome(
  config: HallConfig,
  ports: { tcp: number; ws?: number },
  credentials: DemoCredential[],
  stateDir: string,
  devices: DemoDevices | undefined,
): void {
  const host = config.mqtt.tcp.host;
  const base = `hall/${config.hall.id}`;
  const operator = credentials.find((c) => c.role === 'operator') ?? credentials[0];
  const observer = credentials.find((c) => c.role === 'observer') ?? operator;
  const lines = [
    '',
    `  hall-edge demo hall "${config.hall.name.zh}" (${config.hall.id}) is running`,
    `  MQTT:      mqtt://${host}:${ports.tcp}   WebSocket: ws://${host}:${ports.ws ?? '-'}/mqtt`,
    config.dashboard ? `  Dashboard: http://${config.dashboard.host}:${config.dashboard.port}/` : '',
    ...visitorPageLines(config, credentials),
    `  State:     ${stateDir}`,
    '',
    '  Demo users (role: username / password):',
    ...credentials.map((c) => `    ${c.role.padEnd(9)} ${c.username} / ${c.password}`),
    '',
    '  Watch the hall:',
    operator ? `    mosquitto_sub -h ${host} -p ${ports.tcp} -u ${observer?.username} -P '${observer?.password}' -t '${base}/#' -v` : '',
    '  Take a ticket:',
    operator
      ? `    mosquitto_pub -h ${host} -p ${ports.tcp} -u ${operator.username} -P '${operator.password}' -t '${base}/bridge/request/issue' -m '{"transaction":"t1","serviceId":"${config.services[0]?.id}"}'`
      : '',
    ...(config.uplink
      ? [
          `  Uplink:    ${config.uplink.url} as hall/${config.hall.id}; watch it arrive there:`,
          `    mosquitto_sub -h ${new URL(config.uplink.url).hostname} -p ${new URL(config.uplink.url).port || 1883} -t 'hall/${config.hall.id}/uplink/#' -v`,
        ]
      : []),
    ...(config.notify
      ? [
          `  Notices:   a simulated SMS gateway (${config.notify.gateways[0]}) logs "your turn is near" messages, numbers masked; take a ticket with one:`,
          operator
            ? `    mosquitto_pub -h ${host} -p ${ports.tcp} -u ${operator.username} -P '${operator.password}' -t '${base}/bridge/request/issue' -m '{"transaction":"t2","serviceId":"${config.services[0]?.id}","channel":"mobile","contact":"+8613800138000"}'`
            : '',
        ]
      : []),
    ...(devices?.describe() ?? []),
    '',
    '  Ctrl-C stops the hall.',
    '',
  ];
  process.stdout.write(`${lines.filter((line) => line !== '').join('\n')}\n`);
}
