import type { Logger } from '../platform/logger.js';
import type { RunningBroker } from '../bus/broker.js';
import type { MqttBridge } from '../bus/bridge.js';
import type { Journal } from '../journal/journal.js';
import type { Hall } from '../hall/hall.js';
import type { HallEvent } from '../queue/events.js';
import type { LocalizedName } from '../queue/model.js';
import { NO_PROGRESS, planNotices, type DueNotice, type NoticeProgress } from '../queue/notice-plan.js';
import { contactKind, contactSchema } from '../device-contract/contact.js';
import type { NotifySection } from '../config/notify-section.js';
import { ContactVault } from './contact-vault.js';
import { gatewayStateSchema, NOTIFY_PROTOCOL_VERSION, noticeResultSchema, noticeTopic, type NoticeMessage } from './gateway-protocol.js';
import { noticeText } from './notice-text.js';
import { NoticeOutbox, type OutboxCounters } from './outbox.js';

export interface NotifierOptions {
  hall: Hall;
  journal: Journal;
  broker: RunningBroker;
  bridge: MqttBridge;
  section: NotifySection;
  /** Where the day's contact key lives (outside the journal). */
  keyFile: string;
  hallName: LocalizedName;
  log: Logger;
}

interface Tracked {
  contact: string;
  progress: NoticeProgress;
}

/** Events that end the day's contacts: closing time, or a new business day. */
const DAY_END = new Set<HallEvent['type']>(['day.closed', 'day.started']);

/**
 * "Your turn is near" in the daemon. A contact given at issue is stored encrypted (contact-vault)
 * and tracked; after every commit, in the dispatcher's `notify` stage, the queue core decides
 * which notices are due (src/queue/notice-plan.ts) and the outbox sends them to a gateway.
 * At closing time and at a day rollover every contact is erased and the day's key destroyed.
 *
 * Nothing here logs a contact: log fields carry the ticket number, the notice id and the
 * gateway only (and the logger redacts any `contact` field besides, src/platform/logger.ts).
 */
export class Notifier {
  private readonly tracked = new Map<string, Tracked>();
  /** The tracked tickets' progress, kept beside `tracked` for the planner (no copy per commit). */
  private readonly progress = new Map<string, NoticeProgress>();
  private readonly vault: ContactVault;
  private readonly outbox: NoticeOutbox;
  private readonly thresholds: number[];
  private readonly off: Array<() => void | Promise<void>> = [];
  private erased = 0;
  private refused = 0;
  private badAnswers = 0;

  constructor(private readonly options: NotifierOptions) {
    const { section, hall, bridge, log } = options;
    this.thresholds = [...section.thresholds].sort((a, b) => b - a);
    this.vault = options.journal.attach((db) => new ContactVault(db, options.keyFile));
    this.outbox = new NoticeOutbox({
      gateways: section.gateways,
      answerTimeoutMs: section.answerTimeoutSeconds * 1000,
      maxAttempts: section.maxAttempts,
      maxAgeMs: section.maxAgeMinutes * 60_000,
      send: (gateway, message) => bridge.publish(noticeTopic(gateway), message, { qos: 1 }),
      stillWanted: (message) => this.stillWanted(message),
      now: () => hall.now(),
      log,
    });
  }

  /** Restores today's contacts (a restart), then listens to commits and to the gateways. */
  async start(): Promise<void> {
    const { hall, broker, log } = this.options;
    const day = hall.engine.currentDay();
    if (day) {
      const loaded = this.vault.load(day);
      for (const stored of loaded.contacts) {
        if (isOver(hall, stored.number)) this.vault.remove(day, stored.number);
        else this.track(stored.number, { contact: stored.contact, progress: stored.progress });
      }
      log.info({ day, contacts: this.tracked.size, unreadable: loaded.unreadable, otherDays: loaded.otherDays }, 'notification contacts restored');
      if (loaded.unreadable > 0) log.warn({ unreadable: loaded.unreadable, keyFile: this.options.keyFile }, 'contacts the key file cannot open were deleted: their tickets get no notices');
    }
    this.off.push(hall.dispatcher.on('notify', (events) => this.onCommitted(events)));
    const base = `hall/${broker.hallId}/notify/`;
    this.off.push(
      await broker.subscribe(`${base}+/+`, (message) => {
        // Only the gateway itself can publish here (ACL); the hall's own notices are one level up.
        if (!message.publisher) return;
        const [gateway, sub] = message.topic.slice(base.length).split('/');
        this.onGatewayMessage(gateway!, sub!, message.payload);
      }),
    );
    // Tickets restored above may have passed a threshold while the daemon was down.
    this.deliver(planNotices(hall.engine, this.progress, [], this.thresholds, this.tracked.keys()));
  }

  async stop(): Promise<void> {
    this.outbox.stop();
    for (const off of this.off.splice(0).reverse()) await off();
  }

  /**
   * A ticket was issued with a contact: store it (encrypted) and send what is already due (a
   * ticket issued 3 from the front gets its "near" notice at once). A resend of the same issue
   * finds it tracked and changes nothing.
   */
  attach(number: string, contact: string): void {
    const { hall, log } = this.options;
    // The request schemas checked it already; a second look costs nothing and protects the vault.
    if (!contactSchema.safeParse(contact).success) {
      this.refused += 1;
      log.warn({ ticket: number }, 'contact refused: not a phone number or account id');
      return;
    }
    const day = hall.engine.currentDay();
    if (!day || this.tracked.has(number) || isOver(hall, number)) return;
    const tracked: Tracked = { contact, progress: NO_PROGRESS };
    try {
      this.vault.put(day, number, contact, tracked.progress);
    } catch (err) {
      // Without storage the visitor is still told while the daemon runs; only a restart loses it.
      log.error({ err, ticket: number }, 'could not store a contact; it is kept in memory only');
    }
    this.track(number, tracked);
    log.info({ ticket: number, kind: contactKind(contact) }, 'contact attached: notices on');
    this.deliver(planNotices(hall.engine, this.progress, [], this.thresholds, [number]));
  }

  health(): Record<string, unknown> {
    return {
      contacts: this.tracked.size,
      storedContacts: this.vault.size(),
      thresholds: this.thresholds,
      erasedToday: this.erased,
      refusedContacts: this.refused,
      badAnswers: this.badAnswers,
      ...this.outbox.pending(),
      ...(this.outbox.counters satisfies OutboxCounters),
    };
  }

  private onCommitted(events: readonly HallEvent[]): void {
    const dayEnd = events.find((event) => DAY_END.has(event.type));
    if (this.tracked.size === 0 && !dayEnd) return;
    // After the I/O already due (the events' publishes, the frames): storing what was sent is a
    // journal write, and a visitor's notice can wait a moment where a window display cannot.
    this.options.hall.dispatcher.defer(
      'notify',
      () => {
        if (dayEnd) this.eraseAll(dayEnd.type);
        if (this.tracked.size > 0) this.deliver(planNotices(this.options.hall.engine, this.progress, events, this.thresholds));
      },
      'immediate',
    );
  }

  private deliver(plan: ReturnType<typeof planNotices>): void {
    const day = this.options.hall.engine.currentDay();
    if (!day) return;
    for (const [number, progress] of plan.progress) {
      const tracked = this.tracked.get(number);
      if (!tracked) continue;
      tracked.progress = progress;
      this.progress.set(number, progress);
    }
    for (const notice of plan.notices) {
      const tracked = this.tracked.get(notice.number);
      if (tracked) this.outbox.enqueue(this.message(day, notice, tracked.contact));
    }
    for (const number of plan.ended) {
      this.tracked.delete(number);
      this.progress.delete(number);
      this.outbox.dropTicket(number);
    }
    // What was sent is stored before anything else can happen: a restart must not send it again.
    try {
      this.options.journal.attach((db) =>
        db.transaction(() => {
          for (const [number, progress] of plan.progress) if (this.tracked.has(number)) this.vault.setProgress(day, number, progress);
          for (const number of plan.ended) this.vault.remove(day, number);
        })(),
      );
    } catch (err) {
      this.options.log.error({ err }, 'could not store the notices sent; a restart may send some again');
    }
  }

  private message(day: string, notice: DueNotice, contact: string): Omit<NoticeMessage, 'attempt'> {
    const { hall, hallName } = this.options;
    const ticket = hall.engine.ticket(notice.number);
    const service = hall.model.services.find((s) => s.id === ticket?.serviceId)?.name ?? { zh: '', en: '' };
    const common = { v: NOTIFY_PROTOCOL_VERSION, day, ticket: notice.number, service, contact, contactKind: contactKind(contact), at: hall.now() } as const;
    if (notice.kind === 'near') {
      return {
        ...common,
        id: `${day}/${notice.number}/near-${notice.threshold}`,
        kind: 'near',
        ahead: notice.ahead,
        threshold: notice.threshold,
        text: noticeText({ kind: 'near', ticket: notice.number, ahead: notice.ahead, service, hall: hallName }),
      };
    }
    const windowNumber = hall.model.windows.find((w) => w.id === notice.windowId)?.number ?? 0;
    return {
      ...common,
      id: `${day}/${notice.number}/${notice.kind === 'called' ? 'called' : `recalled-${notice.nth}`}`,
      kind: notice.kind,
      window: { id: notice.windowId, number: windowNumber },
      text: noticeText({ kind: notice.kind, ticket: notice.number, windowNumber, service, hall: hallName }),
    };
  }

  private onGatewayMessage(gateway: string, sub: string, payload: Buffer): void {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      body = undefined;
    }
    const parsed = sub === 'result' ? noticeResultSchema.safeParse(body) : sub === 'state' ? gatewayStateSchema.safeParse(body) : undefined;
    if (!parsed?.success) {
      // The payload is not logged: a gateway may have put a phone number in it.
      this.badAnswers += 1;
      this.options.log.warn({ gateway, topic: `notify/${gateway}/${sub}`, bytes: payload.length }, 'malformed message from a notification gateway; ignored');
      return;
    }
    const data = parsed.data;
    if ('state' in data) this.outbox.gatewayState(gateway, data.state === 'online');
    else this.outbox.answer(gateway, data);
  }

  /** Closing time or a new day: every contact erased, the key destroyed, unsent notices dropped. */
  private eraseAll(why: string): void {
    const rows = this.vault.eraseAll();
    const dropped = this.outbox.clear();
    const contacts = this.tracked.size;
    this.tracked.clear();
    this.progress.clear();
    this.erased += contacts;
    if (contacts > 0 || rows > 0 || dropped > 0) this.options.log.info({ contacts, rows, droppedNotices: dropped, why }, 'day end: contacts erased and their key destroyed');
  }

  private stillWanted(message: NoticeMessage): boolean {
    if (!this.tracked.has(message.ticket)) return false;
    const state = this.options.hall.engine.ticket(message.ticket)?.state;
    return message.kind === 'near' ? state === 'waiting' : state === 'called';
  }

  private track(number: string, tracked: Tracked): void {
    this.tracked.set(number, tracked);
    this.progress.set(number, tracked.progress);
  }
}

/** A ticket whose notices are over, or that does not exist today. */
function isOver(hall: Hall, number: string): boolean {
  const state = hall.engine.ticket(number)?.state;
  return state === undefined || state === 'done' || state === 'voided' || state === 'expired' || state === 'no-show';
}
