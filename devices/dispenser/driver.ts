import { randomBytes } from 'node:crypto';
import { SerialLink } from '../../src/platform/serial/serial-link.js';
import { LineFramer, type RawLine } from '../../src/platform/serial/line-framer.js';
import {
  RequestError,
  type CommandResult,
  type DeviceContext,
  type DeviceDriver,
  type GpioInput,
  type Channel,
  type RememberedRequest,
  type RequestCaller,
  type RequestIdentity,
  type SequencedEvent,
  type Ticket,
} from '../../src/device-contract/index.js';
import { faultReason, type PrinterStatus } from '../ticket-printer/escpos-status.js';
import { qrPayload, type TicketPrintData } from '../ticket-printer/ticket-layout.js';
import { PrintError, TicketPrinter } from '../ticket-printer/ticket-printer.js';
import { AppointmentBook, type AppointmentInput } from './appointment-book.js';
import { appointmentsRequest, issueRequest, reprintRequest, type DispenserOptions } from './options.js';
import { MAX_READER_LINE_BYTES, parseReaderLine } from './reader-line.js';
import { TaskQueue } from './task-queue.js';
import { DISPENSER_ALARMS } from './alarms.js';

export type IssueOutcome =
  | { ok: true; number: string; serviceId: string }
  | { ok: false; code: string; message: string; number?: string };

const FAULT_ALARM = DISPENSER_ALARMS.printerFault.code;
const PAPER_LOW_ALARM = DISPENSER_ALARMS.paperNearEnd.code;
const READER_ALARM = DISPENSER_ALARMS.readerOffline.code;
/**
 * MQTT issue/reprint requests waiting for the printer beyond which the next is answered `busy`:
 * a kiosk that floods its topic must not grow memory, and a real one never has more than a few.
 */
const MAX_WAITING_REQUESTS = 16;

/**
 * A ticket dispenser (取号机): buttons and MQTT requests take numbers, the thermal printer
 * prints them, an optional reader checks appointments in.
 *
 * The promise kept: a number is printed only after the queue journaled it (ctx.submit), and a
 * number whose print failed is voided with the reason (journaled too) and listed in the
 * dispenser's state — never silently lost, never printed twice by accident. Everything that
 * talks to the printer runs through one TaskQueue, so presses are printed in order.
 */
export class DispenserDriver implements DeviceDriver {
  readonly kind = 'dispenser';
  private readonly printer: TicketPrinter;
  private readonly queue = new TaskQueue();
  private readonly book: AppointmentBook;
  private readonly inputs: GpioInput[] = [];
  private readonly unsubscribers: Array<() => void> = [];
  private reader: SerialLink<RawLine> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollQueued = false;
  private checkingBeforeIssue = false;
  private stopped = false;
  private fault: string | undefined;
  private lastStatus: PrinterStatus | undefined;
  /** Numbers voided because their print failed, with what would have been printed. */
  readonly failedPrints = new Map<string, { data: TicketPrintData | undefined; reason: string }>();
  readonly counters = { issued: 0, printed: 0, refused: 0, printFailures: 0, readerRejects: 0, busy: 0, readerLines: 0 };

  constructor(
    readonly id: string,
    private readonly options: DispenserOptions,
    private readonly ctx: DeviceContext,
  ) {
    const p = options.printer;
    this.printer = new TicketPrinter(
      { type: p.type, address: p.interface, confirmTimeoutMs: p.confirmTimeoutMs, statusTimeoutMs: p.statusTimeoutMs },
      ctx.log,
    );
    this.book = new AppointmentBook({
      salt: options.appointments.salt ?? randomBytes(16).toString('hex'),
      timeZone: ctx.hall.model.clock.timeZone,
      earlyMinutes: options.appointments.earlyMinutes,
      lateMinutes: options.appointments.lateMinutes,
    });
  }

  /** Whether the appointment reader's port is open now. */
  get readerConnected(): boolean {
    return this.reader?.isOpen === true;
  }

  /** 'ready' or 'fault'. */
  get state(): 'ready' | 'fault' {
    return this.fault ? 'fault' : 'ready';
  }

  async start(): Promise<void> {
    this.stopped = false;
    // A bad ticketUrl template would only show at the first print: fail at start instead.
    qrPayload(this.options.ticketUrl, { hallId: this.ctx.hall.model.hallId, day: '2000-01-01', number: 'A001' });
    await this.queue.run(() => this.checkPrinter());
    // A printer-fault restored from before a restart ends when the printer reads fine now.
    if (!this.fault) this.ctx.clearAlarm(FAULT_ALARM);
    for (const button of this.options.buttons) {
      // The box's GPIO comes from the context, as for the gate's relay (one backend per name).
      const backend = this.ctx.gpio(button.gpio.backend);
      const input = await backend.input({ line: button.gpio.line, chip: button.gpio.chip, activeLow: button.gpio.activeLow, debounceMs: button.gpio.debounceMs });
      input.onPress(() => {
        this.ctx.log.info({ service: button.service, gpio: button.gpio.line }, 'button pressed');
        this.issue({ serviceId: button.service, channel: 'kiosk', priority: button.priority }).catch((err) => this.ctx.log.error({ err }, 'button press failed'));
      });
      this.inputs.push(input);
    }
    this.unsubscribers.push(
      this.ctx.handleRequest('issue', issueRequest, async ({ channel, contact, ...request }, caller) => {
        this.refuseWhenBusy();
        const attach = this.ctx.attachContact;
        if (contact !== undefined && !attach) throw new RequestError('notifications-off', 'this hall sends no notifications (no notify: section in its config): issue without a contact');
        const outcome = await this.issue({ ...request, channel: channel ?? 'kiosk' }, identity(caller));
        // After the print: a number voided because it could not be printed is told nothing.
        if (outcome.ok && contact !== undefined) attach!(outcome.number, contact);
        return answer(outcome);
      }),
      this.ctx.handleRequest('reprint', reprintRequest, async ({ number }, caller) => {
        this.refuseWhenBusy();
        return answer(await this.reprint(number, identity(caller)));
      }),
      this.ctx.handleRequest('appointments', appointmentsRequest, ({ appointments }) => this.loadAppointments(appointments)),
    );
    if (this.options.appointmentReader) this.openReader(this.options.appointmentReader.port, this.options.appointmentReader.baudRate);
    if (this.options.printer.statusPollMs > 0) {
      this.pollTimer = setInterval(() => this.poll(), this.options.printer.statusPollMs);
      this.pollTimer.unref();
    }
    this.ctx.setAvailability(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    await Promise.all(this.inputs.splice(0).map((input) => input.close().catch(() => {})));
    const reader = this.reader;
    this.reader = undefined;
    await reader?.close();
    await this.queue.idle();
    await this.printer.close();
    this.ctx.setAvailability(false, 'stopped');
  }

  /** Replaces today's appointments (from the central server). */
  loadAppointments(list: AppointmentInput[]): { loaded: number; rejected: number } {
    const result = this.book.load(list);
    this.ctx.log.info(result, 'appointments loaded');
    return result;
  }

  /**
   * Takes a number and prints it: the path of a button press and of an MQTT request. With
   * `once` (an MQTT request with a transaction) it runs at most once per business day: the
   * outcome is journaled with the ticket, and a resend gets it back without a new ticket or print.
   */
  issue(request: { serviceId: string; channel: Channel; priority?: boolean; items?: string[] }, once?: RequestIdentity): Promise<IssueOutcome> {
    return this.queue.run(() => this.runOnce('issue', once, () => this.issueNow({ type: 'issue', ...request }, false, once)));
  }

  /** Reprints a ticket of today that is still in play (lost ticket, torn print). */
  reprint(number: string, once?: RequestIdentity): Promise<IssueOutcome> {
    return this.queue.run(() => this.runOnce('reprint', once, () => this.reprintNow(number)));
  }

  private refuseWhenBusy(): void {
    if (this.queue.depth < MAX_WAITING_REQUESTS) return;
    this.counters.busy += 1;
    throw new RequestError('busy', `the dispenser has ${this.queue.depth} requests waiting for its printer; retry shortly`);
  }

  /**
   * A resend of a request already answered today gets that answer; otherwise the request runs and
   * its answer is kept (issue keeps it with the ticket's events; what is left to keep here is a
   * reprint's answer or a refusal by the queue). A refusal before anything ran (printer fault)
   * is not kept: a resend is a new try. Runs inside the dispenser's task queue, so two copies of
   * one request never run side by side.
   */
  private async runOnce(request: string, once: RequestIdentity | undefined, run: () => Promise<IssueOutcome>): Promise<IssueOutcome> {
    if (!once || !this.ctx.storedOutcome) return run();
    const stored = this.ctx.storedOutcome(once);
    if (stored) {
      this.ctx.log.info({ request, transaction: once.transaction, user: once.principal }, 'resent request answered from its stored outcome, not executed again');
      if (stored.command !== request) return { ok: false, code: 'transaction-reused', message: `transaction ${JSON.stringify(once.transaction)} was already used today for "${stored.command}"` };
      return stored.outcome as IssueOutcome;
    }
    const outcome = await run();
    const notRun = !outcome.ok && outcome.code === 'printer-fault';
    if (!notRun && !this.journaledWith.has(outcome)) {
      try {
        this.ctx.rememberOutcome?.(once, request, outcome);
      } catch (err) {
        this.ctx.log.error({ err, request }, 'could not store the request outcome');
      }
    }
    return outcome;
  }

  /** Outcomes already journaled with their events (runOnce must not write them again). */
  private readonly journaledWith = new WeakSet<IssueOutcome>();

  /** An appointment code or ID number, as read by the reader. */
  checkIn(codeOrId: string): Promise<IssueOutcome> {
    return this.queue.run(async () => {
      const refusal = await this.refusalBeforeIssue();
      if (refusal) return refusal;
      const result = this.book.checkIn(codeOrId, this.ctx.hall.now());
      if (!result.ok) {
        this.counters.refused += 1;
        this.ctx.log.info({ reason: result.reason }, 'appointment check-in refused');
        this.ctx.publish('checkin', { ok: false, reason: result.reason, at: this.ctx.hall.now() });
        await this.printer.beep();
        return { ok: false, code: `appointment-${result.reason}`, message: `appointment check-in refused: ${result.reason}` };
      }
      const { appointment } = result;
      const outcome = await this.issueNow(
        {
          type: 'issue',
          serviceId: appointment.serviceId,
          channel: 'appointment',
          appointment: { slotStart: appointment.slotStart, slotEnd: appointment.slotEnd, reference: appointment.reference },
        },
        true,
      );
      // A failed issue or print gives the appointment back, so the person can check in again.
      if (!outcome.ok) this.book.release(appointment.reference);
      this.ctx.publish('checkin', { ok: outcome.ok, number: outcome.ok ? outcome.number : undefined, reason: outcome.ok ? undefined : outcome.code, at: this.ctx.hall.now() });
      return outcome;
    });
  }

  // ---------------------------------------------------------------- issuing and printing

  private async refusalBeforeIssue(): Promise<IssueOutcome | undefined> {
    // Ask the printer now rather than trusting the last poll: paper may have run out since.
    this.checkingBeforeIssue = true;
    try {
      await this.checkPrinter();
    } finally {
      this.checkingBeforeIssue = false;
    }
    if (!this.fault) return undefined;
    this.counters.refused += 1;
    this.ctx.log.warn({ reason: this.fault }, 'press refused: the printer is in fault');
    await this.printer.beep();
    return { ok: false, code: 'printer-fault', message: `the ticket printer cannot print (${this.fault}); please ask at the information desk` };
  }

  private async issueNow(command: Extract<Parameters<DeviceContext['submit']>[0], { type: 'issue' }>, checked = false, once?: RequestIdentity): Promise<IssueOutcome> {
    if (!checked) {
      const refusal = await this.refusalBeforeIssue();
      if (refusal) return refusal;
    }
    const result: CommandResult = await this.ctx.submit(command, once && { id: once, request: 'issue', answer: issuedOutcome });
    if (!result.ok) {
      this.counters.refused += 1;
      return { ok: false, code: result.code, message: result.message };
    }
    const ticket = result.ticket;
    if (!ticket) {
      this.ctx.log.error({ service: command.serviceId }, 'the queue issued a ticket but did not return it');
      return { ok: false, code: 'internal', message: 'the ticket was issued but cannot be printed; ask at the information desk' };
    }
    this.counters.issued += 1;
    const outcome = await this.printIssued(ticket, once);
    if (result.outcomeStored && outcome.ok) this.journaledWith.add(outcome);
    return outcome;
  }

  /** The number is journaled: from here on every way out either prints it or voids it. */
  private async printIssued(ticket: Ticket, once?: RequestIdentity): Promise<IssueOutcome> {
    let data: TicketPrintData | undefined;
    try {
      data = this.printData(ticket, false);
      await this.printer.print(data);
      this.counters.printed += 1;
      this.ctx.log.info({ ticket: ticket.number, service: ticket.serviceId }, 'ticket printed');
      return { ok: true, number: ticket.number, serviceId: ticket.serviceId };
    } catch (err) {
      const reason = err instanceof PrintError ? err.reason : err instanceof Error ? err.message : String(err);
      this.counters.printFailures += 1;
      this.ctx.log.error({ ticket: ticket.number, err }, 'ticket print failed: voiding the number');
      if (data) this.failedPrints.set(ticket.number, { data, reason });
      else this.failedPrints.set(ticket.number, { data: undefined, reason });
      const failed: IssueOutcome = { ok: false, code: 'print-failed', message: `the ticket could not be printed (${reason}); number ${ticket.number} was voided`, number: ticket.number };
      // The request's answer becomes the failure, journaled with the void that made it so.
      const remember: RememberedRequest | undefined = once && { id: once, request: 'issue', answer: () => failed };
      const voided = await this.ctx.submit({ type: 'void', number: ticket.number, reason: `print failed: ${reason}` }, remember);
      if (voided.ok && voided.outcomeStored) this.journaledWith.add(failed);
      if (!voided.ok) this.ctx.log.error({ ticket: ticket.number, code: voided.code }, `could not void the unprinted ticket: ${voided.message}`);
      await this.printer.clearBuffers();
      await this.checkPrinter();
      if (!this.fault) this.enterFault(`print-failed: ${reason}`);
      else this.publishState();
      return failed;
    }
  }

  private async reprintNow(number: string): Promise<IssueOutcome> {
    const ticket = this.ctx.hall.ticket(number);
    if (!ticket) return { ok: false, code: 'unknown-ticket', message: `no ticket ${number} today` };
    if (ticket.state === 'voided' || ticket.state === 'done' || ticket.state === 'expired') {
      const failed = this.failedPrints.get(number);
      const hint = failed ? ` (its print failed: ${failed.reason}); issue a new ticket for ${ticket.serviceId}` : '';
      return { ok: false, code: 'bad-state', message: `ticket ${number} is ${ticket.state}${hint}` };
    }
    await this.checkPrinter();
    if (this.fault) return { ok: false, code: 'printer-fault', message: `the ticket printer cannot print (${this.fault})` };
    try {
      await this.printer.print(this.printData(ticket, true));
      this.ctx.log.info({ ticket: number }, 'ticket reprinted');
      return { ok: true, number, serviceId: ticket.serviceId };
    } catch (err) {
      await this.printer.clearBuffers();
      await this.checkPrinter();
      if (!this.fault) this.enterFault(`print-failed: ${err instanceof PrintError ? err.reason : String(err)}`);
      return { ok: false, code: 'print-failed', message: `the reprint failed: ${(err as Error).message}` };
    }
  }

  private printData(ticket: Ticket, reprint: boolean): TicketPrintData {
    const model = this.ctx.hall.model;
    const service = model.services.find((s) => s.id === ticket.serviceId);
    const waiting = this.ctx.hall.waiting(ticket.serviceId);
    const found = waiting.findIndex((t) => t.number === ticket.number);
    const position = found >= 0 ? found : waiting.length;
    return {
      hallName: this.options.hallName ?? { zh: model.hallId, en: model.hallId },
      number: ticket.number,
      serviceName: service?.name ?? { zh: ticket.serviceId, en: ticket.serviceId },
      waitingAhead: position,
      estimatedWaitMinutes: Math.max(0, Math.round(this.ctx.hall.estimatedWaitMinutes(ticket.serviceId, position))),
      issuedAt: ticket.issuedAt,
      timeZone: model.clock.timeZone,
      // The kiosk's own ticketUrl (a central platform, say) wins; else the hall's phone page, if it serves one.
      qr: qrPayload(this.options.ticketUrl ?? this.ctx.hall.ticketPageUrl?.(ticket.day, ticket.number), { hallId: model.hallId, day: ticket.day, number: ticket.number }),
      footer: this.options.footer,
      priority: ticket.priority,
      appointment: ticket.appointment ? { slotStart: ticket.appointment.slotStart, slotEnd: ticket.appointment.slotEnd } : undefined,
      reprint,
    };
  }

  // ---------------------------------------------------------------- printer status

  private poll(): void {
    if (this.stopped || this.pollQueued) return;
    this.pollQueued = true;
    this.queue
      .run(async () => {
        this.pollQueued = false;
        if (!this.stopped) await this.checkPrinter();
      })
      .catch((err) => this.ctx.log.error({ err }, 'printer status poll failed'));
  }

  /** Reads the printer's status and moves between ready and fault. Never throws. */
  private async checkPrinter(): Promise<void> {
    let status: PrinterStatus | undefined;
    try {
      status = await this.printer.status();
    } catch (err) {
      this.lastStatus = undefined;
      this.enterFault(`offline: ${(err as Error).message}`);
      return;
    }
    if (status === undefined) {
      // A printer that cannot answer (device file, STAR) only shows faults by failed prints.
      // Nothing tells us when it is fixed, so the next poll lets the next press try again
      // (a failing try voids its number and faults again: nothing is lost).
      if (this.fault && !this.checkingBeforeIssue) this.leaveFault();
      return;
    }
    const changed = JSON.stringify(status) !== JSON.stringify(this.lastStatus);
    this.lastStatus = status;
    if (status.paperNearEnd && !status.paperOut) this.ctx.raiseAlarm({ code: PAPER_LOW_ALARM, message: `printer ${this.printer.description}: paper is running low`, severity: 'warning' });
    else this.ctx.clearAlarm(PAPER_LOW_ALARM);
    const reason = faultReason(status);
    if (reason) this.enterFault(reason);
    else if (this.fault) this.leaveFault();
    else if (changed) this.publishState();
  }

  private enterFault(reason: string): void {
    if (this.fault === reason) return;
    this.fault = reason;
    this.ctx.log.warn({ reason, printer: this.printer.description }, 'dispenser in fault: not issuing tickets');
    this.ctx.raiseAlarm({ code: FAULT_ALARM, message: `ticket printer ${this.printer.description}: ${reason}`, severity: 'critical' });
    this.publishState();
  }

  private leaveFault(): void {
    this.ctx.log.info({ was: this.fault }, 'printer back: dispenser ready');
    this.fault = undefined;
    this.ctx.clearAlarm(FAULT_ALARM);
    this.publishState();
  }

  private publishState(): void {
    this.ctx.publishState({
      state: this.state,
      reason: this.fault ?? null,
      printer: this.lastStatus ? { ...this.lastStatus } : null,
      failedPrints: [...this.failedPrints.entries()].map(([number, failure]) => ({ number, reason: failure.reason })),
      appointments: this.book.size,
      /** Connections opened to the printer: 1 unless it or the network dropped one. */
      printerConnections: this.printer.connections,
      counters: { ...this.counters },
    });
  }

  // ---------------------------------------------------------------- appointment reader

  /**
   * The reader on the shared serial link: it reopens the port by itself after an unplug (with
   * back-off and a presence watch) and the alarm follows the port. The dispenser issues tickets
   * without its reader meanwhile.
   */
  private openReader(path: string, baudRate: number): void {
    const reader = new SerialLink<RawLine>({ path, baudRate, log: this.ctx.log, framer: () => new LineFramer(MAX_READER_LINE_BYTES), minBackoffMs: 250 });
    const offline = (why: string): void => this.ctx.raiseAlarm({ code: READER_ALARM, message: `appointment reader ${path}: ${why}; check-in by reader is off`, severity: 'warning' });
    reader.on('frame', (line) => {
      if (line.overflow) this.rejectReaderLine(`a line longer than ${MAX_READER_LINE_BYTES} bytes`);
      else this.onReaderLine(line.bytes.toString('latin1'));
    });
    reader.on('open', () => this.ctx.clearAlarm(READER_ALARM));
    reader.on('close', (reason) => {
      if (!this.stopped) offline(`port ${reason}`);
    });
    reader.on('open-failed', (err) => offline(err.message));
    this.reader = reader;
    reader.start();
  }

  private onReaderLine(line: string): void {
    const parsed = parseReaderLine(line);
    if (!parsed.ok) return this.rejectReaderLine(parsed.error);
    this.counters.readerLines += 1;
    // Never log the value: it may be an ID card number.
    this.ctx.log.info({ kind: parsed.input.kind }, 'appointment presented');
    this.checkIn(parsed.input.value).catch((err) => this.ctx.log.error({ err }, 'appointment check-in failed'));
  }

  private rejectReaderLine(error: string): void {
    this.counters.readerRejects += 1;
    this.ctx.log.warn({ error }, 'appointment reader line rejected');
    this.queue.run(() => this.printer.beep()).catch(() => {});
  }
}

/** An outcome as a device request's answer: the ticket's number, or a refusal with its code. */
/** The answer an MQTT issue request gets, read from the events being journaled (see runOnce). */
function issuedOutcome(events: readonly SequencedEvent[]): IssueOutcome {
  const issued = events.find((e) => e.type === 'ticket.issued');
  if (!issued || issued.type !== 'ticket.issued') return { ok: false, code: 'internal', message: 'the ticket was issued but cannot be printed; ask at the information desk' };
  return { ok: true, number: issued.ticket.number, serviceId: issued.ticket.serviceId };
}

function identity(caller: RequestCaller): RequestIdentity | undefined {
  return caller.transaction !== undefined ? { principal: caller.username, transaction: caller.transaction } : undefined;
}

function answer(outcome: IssueOutcome): { number: string; serviceId: string } {
  if (!outcome.ok) throw new RequestError(outcome.code, outcome.message);
  return { number: outcome.number, serviceId: outcome.serviceId };
}
