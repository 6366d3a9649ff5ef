import { join } from 'node:path';
import type { Logger } from '../platform/logger.js';
import { SystemdNotifier } from '../platform/sd-notify.js';
import { startBroker, type RunningBroker } from '../bus/broker.js';
import { MqttBridge, RequestError } from '../bus/bridge.js';
import { schedulerLimits } from '../bus/request-scheduler.js';
import { JournalBackups } from '../journal/backup.js';
import type { WatermarkWriter } from '../journal/watermark.js';
import { openCheckedJournal, startWatermark } from './journal-start.js';
import { JournalAlarms } from './journal-alarms.js';
import type { HallConfig } from '../config/schema.js';
import { toQueueModel } from '../config/load.js';
import { deviceKinds } from '../../devices/registry.js';
import { Hall } from './hall.js';
import { MqttApi } from './mqtt-api.js';
import { DeviceManager } from './device-manager.js';
import { daemonRequestSchemas, formatZodIssues } from './request-schemas.js';
import { VERSION } from '../platform/version.js';
import { startDashboardServer } from '../dashboard/server.js';
import { dayReportCsv } from './report-csv.js';
import { registerDeviceRequests } from './device-requests.js';
import { registerSimulateRequest } from './simulate-request.js';
import type { Uplink } from '../uplink/start.js';
import { DisplayPublisher } from './display-publisher.js';
import type { VisitorPages } from '../visitors/visitor-pages.js';

export interface DaemonOptions {
  config: HallConfig;
  log: Logger;
  /** Overrides the wall clock (tests, what-if simulation). */
  now?: () => number;
  /** Housekeeping tick interval (day rollover, closing time). */
  tickMs?: number;
  /** `--accept-journal-loss`: continue above the watermark when the journal has lost events. */
  acceptJournalLoss?: boolean;
  /** The command line that started this daemon, for the commands a start-up refusal suggests. */
  invocation?: string;
}

export interface RunningDaemon {
  hall: Hall;
  api: MqttApi;
  devices: DeviceManager;
  broker: RunningBroker;
  /** The link to the central broker, when the config has an `uplink:` section. */
  uplink: Uplink | undefined;
  /** "Your turn is near" notices, when the config has a `notify:` section (health as in `health`.notify). */
  notices: { health(): Record<string, unknown> } | undefined;
  /** The visitor pages (/display, the phone ticket page), when the config has a dashboard. */
  visitors: VisitorPages | undefined;
  ports: { tcp: number; ws?: number; tls?: number; dashboard?: number };
  stop(): Promise<void>;
}

/**
 * Starts the whole daemon: journal (replayed), queue, embedded broker, MQTT API and devices, in
 * that order, so the broker only opens once the hall knows where it was before the restart.
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { config, log } = options;
  const model = toQueueModel(config);
  // The journal is checked against its watermark before anything is replayed: a journal that
  // lost acknowledged events must not be taken for the hall's whole record.
  const checked = openCheckedJournal({
    stateDir: config.stateDir,
    mirror: config.journal.watermarkMirror,
    acceptLoss: options.acceptJournalLoss === true || config.journal.acceptLoss,
    invocation: options.invocation,
    log,
  });
  const journal = checked.journal;
  const journalPath = journal.path;
  const notifier = new SystemdNotifier(log);

  const hall = new Hall({ model, journal, log: log.child({ component: 'hall' }), now: options.now });
  const admins = new Set(config.users.filter((u) => u.role === 'admin').map((u) => u.username));
  const journalAlarms = new JournalAlarms(journal, (username) => admins.has(username), log.child({ component: 'journal' }), hall);
  let watermark: WatermarkWriter;
  try {
    const started = Date.now();
    const replayed = hall.replay();
    log.info({ day: replayed.day, events: replayed.events, ms: Date.now() - started, journal: journalPath }, 'journal replayed');
    hall.tick();
    watermark = startWatermark(checked, hall, journalAlarms, { mirror: config.journal.watermarkMirror, log });
  } catch (err) {
    journal.close();
    throw err;
  }
  const backups = new JournalBackups(journal, { dir: config.journal.backup.dir ?? join(config.stateDir, 'backups'), keep: config.journal.backup.keep, log: log.child({ component: 'backup' }) });

  let broker: RunningBroker | undefined;
  try {
    broker = await startBroker(
      {
        hallId: config.hall.id,
        tcp: config.mqtt.tcp,
        ws: config.mqtt.ws,
        tls: config.mqtt.tls,
        users: config.users,
        limits: config.mqtt.limits,
      },
      log.child({ component: 'broker' }),
    );
  } catch (err) {
    await watermark.close();
    journal.close();
    throw err;
  }

  const bridge = new MqttBridge(broker, config.hall.id, log.child({ component: 'bridge' }), schedulerLimits(config.requests));
  const api = new MqttApi(hall, bridge, journal, log.child({ component: 'mqtt-api' }));
  // The broker's refusals and back-pressure (docs/mqtt-api.md, Broker limits), beside the requests'.
  const liveBroker = broker;
  api.addHealth('broker', () => ({ ...liveBroker.counters(), connectedClients: liveBroker.connectedClients(), heldReads: liveBroker.heldReads() }));
  // "Your turn is near" (src/notify), loaded only for a hall that sends notices.
  const visitorNotices = config.notify
    ? new (await import('../notify/notifier.js')).Notifier({
        hall,
        journal,
        broker,
        bridge,
        section: config.notify,
        keyFile: config.notify.keyFile ?? join(config.stateDir, 'contacts.key'),
        hallName: config.hall.name,
        log: log.child({ component: 'notify' }),
      })
    : undefined;
  const attachContact = visitorNotices ? (number: string, contact: string) => visitorNotices.attach(number, contact) : undefined;
  if (attachContact) api.acceptContacts(attachContact);
  // Alarms shown on `alarms` are kept next to the journal and restored after a restart (docs/alarms.md).
  const kinds = deviceKinds();
  const devices = new DeviceManager(hall, bridge, kinds, log.child({ component: 'devices' }), { alarmFile: join(config.stateDir, 'alarms.json'), ...(attachContact ? { attachContact } : {}) });

  api.addRequest('broadcast', (payload) => {
    const parsed = daemonRequestSchemas.broadcast.safeParse(payload);
    if (!parsed.success) throw new RequestError('bad-request', formatZodIssues(parsed.error.issues));
    const event = hall.record({ type: 'device.hall.broadcast', deviceId: 'hall', data: { text: parsed.data.text } });
    hall.bus.emit('broadcast', { text: parsed.data.text, at: event.at });
    return { seq: event.seq };
  });
  api.addRequest('devices', () => ({ devices: devices.summary(), alarms: devices.activeAlarms() }));
  registerSimulateRequest(api, { model, journal, log: log.child({ component: 'simulate' }) });
  devices.addAlarmSource(journalAlarms);

  api.addRequest('backup', async (payload, caller) => {
    const parsed = daemonRequestSchemas.backup.safeParse(payload);
    if (!parsed.success) throw new RequestError('bad-request', formatZodIssues(parsed.error.issues));
    if (caller.role !== 'admin') throw new RequestError('forbidden', 'only an admin may ask for a journal backup');
    try {
      return await backups.run(`asked by ${caller.username}`);
    } catch (err) {
      throw new RequestError('backup-failed', `the journal backup into ${backups.dir} failed: ${(err as Error).message}`);
    }
  });
  if (config.journal.backup.atClosing) {
    // At closing time the hall is quiet: the day's record is complete and copying costs nobody.
    hall.bus.on('event', (event) => {
      if (event.type === 'day.closed') backups.run('closing time').catch(() => undefined);
    });
  }

  api.addRequest('report', (payload) => {
    const parsed = daemonRequestSchemas.report.safeParse(payload);
    if (!parsed.success) throw new RequestError('bad-request', formatZodIssues(parsed.error.issues));
    const stats = api.dayStats(parsed.data.day);
    const services = Object.fromEntries(model.services.map((s) => [s.id, s.name.zh]));
    const windows = Object.fromEntries(model.windows.map((w) => [w.id, w.name.zh]));
    return { day: stats.day, filename: `hall-${config.hall.id}-${stats.day}.csv`, csv: dayReportCsv(stats, { services, windows }) };
  });

  let dashboard: Awaited<ReturnType<typeof startDashboardServer>> | undefined;
  let uplink: Uplink | undefined;
  const display = new DisplayPublisher(hall, bridge, journal, log.child({ component: 'display' }));
  let visitors: VisitorPages | undefined;
  try {
    if (config.dashboard) {
      // Loaded only for a hall that serves pages: restart time (see the uplink below).
      const [{ VisitorPages }, { loadTicketSecret }] = await Promise.all([import('../visitors/visitor-pages.js'), import('../visitors/ticket-secret.js')]);
      visitors = new VisitorPages({
        hall,
        secret: loadTicketSecret(config.stateDir, config.dashboard.ticketSecret, log.child({ component: 'visitors' })),
        publicUrl: config.dashboard.publicUrl,
        streams: config.dashboard.ticketStreams,
        // The TV says the calls with the voice caller's own voice and clip set.
        voice: config.devices.find((d) => d.kind === 'voice-caller')?.options,
        log: log.child({ component: 'visitors' }),
      });
      hall.ticketPageUrl = (day, number) => visitors?.ticketLink(day, number);
      const pages = visitors;
      api.addHealth('visitors', () => pages.stats());
    }
    await devices.create(config.devices ?? []);
    registerDeviceRequests(api, devices, kinds.values());
    // Before the API publishes its first documents: the uplink mirrors them from the start.
    // The uplink (and its MQTT client library) loads only for a hall that has one: restart time.
    uplink = config.uplink ? await (await import('../uplink/start.js')).startUplink({ config, section: config.uplink, hall, journal, broker, devices, api, log }) : undefined;
    await api.start();
    if (visitorNotices) {
      await visitorNotices.start();
      api.addHealth('notify', () => visitorNotices.health());
    }
    display.start();
    visitors?.start();
    await devices.startAll();
    dashboard = config.dashboard
      ? await startDashboardServer({
          host: config.dashboard.host,
          port: config.dashboard.port,
          hallId: config.hall.id,
          hallName: config.hall.name,
          ws: broker.ports.wsPort !== undefined ? { port: broker.ports.wsPort, path: config.mqtt.ws?.path ?? '/mqtt' } : undefined,
          log: log.child({ component: 'dashboard' }),
          routes: visitors ? [visitors.route] : [],
        })
      : undefined;
  } catch (err) {
    // A half-started daemon must not linger with open ports and serial lines: undo, then fail.
    visitors?.stop();
    display.stop();
    await devices.stopAll();
    await visitorNotices?.stop();
    await api.stop();
    await uplink?.stop();
    await bridge.stop();
    await broker.close();
    await watermark.close();
    journal.close();
    throw err;
  }
  devices.publishAlarms();
  const publishInfo = () => bridge.publishInfo({ ...api.info(), name: config.hall.name, version: VERSION, devices: devices.summary() });
  publishInfo();

  const tick = setInterval(() => {
    const day = hall.engine.currentDay();
    hall.tick();
    if (hall.engine.currentDay() !== day) publishInfo();
  }, options.tickMs ?? 10_000);
  tick.unref();

  notifier.ready(`hall ${config.hall.id}: ${model.windows.length} windows, ${model.services.length} services`);
  log.info({ hall: config.hall.id, ports: { ...broker.ports, dashboardPort: dashboard?.port }, version: VERSION }, 'hall-edge running');

  let stopping: Promise<void> | undefined;
  return {
    hall,
    api,
    devices,
    broker,
    uplink,
    notices: visitorNotices,
    visitors,
    ports: { tcp: broker.ports.tcpPort, ws: broker.ports.wsPort, tls: broker.ports.tlsPort, dashboard: dashboard?.port },
    stop: () =>
      (stopping ??= (async () => {
        notifier.stopping();
        clearInterval(tick);
        visitors?.stop();
        await dashboard?.close();
        display.stop();
        await devices.stopAll();
        await visitorNotices?.stop();
        await api.stop();
        await uplink?.stop();
        await bridge.stop();
        await broker.close();
        await backups.settle();
        await watermark.close();
        journal.close();
        notifier.close();
        log.info('hall-edge stopped');
      })()),
  };
}
