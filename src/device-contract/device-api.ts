import type { ZodType } from 'zod';
import type { Logger } from '../platform/logger.js';
import type { EventBus } from '../platform/event-bus.js';
import type { QueueCommand } from '../queue/commands.js';
import type { HallEvent, SequencedEvent } from '../queue/events.js';
import type { Ticket, WindowState } from '../queue/ticket.js';
import type { QueueModel } from '../queue/model.js';
import type { DeviceRequestHandler } from './device-requests.js';
import type { GpioBackend, GpioBackendName } from '../platform/gpio/gpio.js';
import type { BridgeRequestSpec } from './bridge-requests.js';

/** Who asked, under which transaction id: a request executed at most once per business day. */
export interface RequestIdentity {
  principal: string;
  transaction: string | number;
}

/** Store a request's answer with the command's events, in the same journal transaction. */
export interface RememberedRequest {
  id: RequestIdentity;
  /** The request's name, stored with the outcome (a resend for another command is refused). */
  request: string;
  /** The answer to keep, built from the command's events while they are being committed. */
  answer(events: readonly SequencedEvent[]): unknown;
  /**
   * The answer to keep when the queue refuses the command (a resend gets the same refusal).
   * Written in the group's journal transaction, so a flood of refused requests costs one fsync
   * per group instead of one each on the event loop; without it the caller stores the refusal.
   */
  refusal?(code: string, message: string): unknown;
}

/**
 * The contract between the hall and one device driver. A device kind is a folder under
 * devices/<kind>/ with a codec (pure), a driver (I/O) and a simulator; the hall knows drivers
 * only through this module and drivers know the hall only through it (test/unit/layering.test.ts
 * checks both), so a new device is a new folder plus one line in devices/registry.ts.
 */

/** Events inside the process. `event` fires after the event is durable in the journal. */
export interface HallBusEvents {
  event: SequencedEvent;
  /** All the events of one command, in seq order, after each has been emitted as `event`. */
  committed: readonly SequencedEvent[];
  /** A call announcement wanted (ticket called or recalled): the voice caller listens. */
  announce: { number: string; windowId: string; windowNumber: number; serviceId: string; recall: boolean; at: number };
  /** Text an operator broadcast to the hall display. */
  broadcast: { text: string; at: number };
}

/** What a driver may read of the hall without changing it. */
export interface HallView {
  readonly model: QueueModel;
  window(windowId: string): WindowState | undefined;
  ticket(number: string): Ticket | undefined;
  /** Waiting tickets per service, in call order. */
  waiting(serviceId: string): Ticket[];
  /** How many wait for a service (cheap: no list is built). */
  waitingCount(serviceId: string): number;
  /** How many a window could call: its services' lines and the tickets sent to it by name. */
  waitingCountForWindow(windowId: string): number;
  /** Today's transactions finished (办件量). */
  servedToday(): number;
  /** Latest calls, newest first. */
  recentCalls(limit: number): Array<{ number: string; windowId: string; windowNumber: number; at: number }>;
  /**
   * Estimated wait in minutes for a ticket of this service with `ahead` tickets before it
   * (default: everyone now waiting, i.e. a ticket about to be issued).
   */
  estimatedWaitMinutes(serviceId: string, ahead?: number): number;
  now(): number;
  /**
   * The visitor's phone page of a ticket (`<publicUrl>/t/<day>/<number>?k=<token>`), when the
   * hall serves one (`dashboard.publicUrl`): the ticket QR's default. Undefined otherwise.
   */
  ticketPageUrl?(day: string, number: string): string | undefined;
}

export interface CommandOk {
  ok: true;
  events: SequencedEvent[];
  /** The ticket the command concerned, when there is one (issued, called ...). */
  ticket?: Ticket;
  /** The request's answer was journaled with the events (`submit` with `remember`). */
  outcomeStored?: true;
}
export interface CommandRefused {
  ok: false;
  code: string;
  message: string;
  /** The refusal was journaled as the request's answer (`remember` with `refusal`). */
  outcomeStored?: true;
}
export type CommandResult = CommandOk | CommandRefused;

/**
 * One alarm a device kind can raise, with what ends it: every code a driver raises is listed in
 * its kind's `alarms` (docs/alarms.md is the operators' copy, and a test keeps the two equal).
 */
export interface AlarmSpec {
  /** The code; a part in angle brackets is filled in when raised (`display-<address>-offline`). */
  code: string;
  severity: 'info' | 'warning' | 'critical';
  /** The condition that clears it, as the driver checks it. */
  clearedWhen: string;
  /** For an event alarm with no condition to watch: cleared this long after it was raised. */
  expiresAfterMs?: number;
  /** What the operator should do. */
  operatorAction: string;
}

/** Whether `code` is an instance of `spec.code` (angle-bracket parts match any text). */
export function alarmSpecMatches(spec: AlarmSpec, code: string): boolean {
  const pattern = spec.code.split(/<[^>]+>/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+');
  return new RegExp(`^${pattern}$`).test(code);
}

export interface DeviceAlarm {
  code: string;
  message: string;
  severity: 'info' | 'warning' | 'critical';
}

export interface DeviceContext {
  readonly deviceId: string;
  /** Child logger carrying `device` (and `window` where the device belongs to one). */
  readonly log: Logger;
  readonly hall: HallView;
  readonly bus: EventBus<HallBusEvents>;
  /**
   * Run a queue command exactly as an MQTT request would (journal first, then everything else).
   * With `remember`, the request's answer is journaled with the command's events (exactly once).
   */
  submit(command: QueueCommand, remember?: RememberedRequest): Promise<CommandResult>;
  /**
   * The answer already given today to this `(user, transaction)`, if any: a resend gets it
   * instead of a second execution. Optional: contexts without a journal (unit tests) have none.
   */
  storedOutcome?(id: RequestIdentity): { command: string; outcome: unknown } | undefined;
  /** Keeps an answer that was not journaled with events (a refusal, a reprint). */
  rememberOutcome?(id: RequestIdentity, request: string, outcome: unknown): void;
  /**
   * Gives the hall a visitor's contact (contact.ts) for a ticket just issued, for "your turn is
   * near" notices. Absent when the hall sends no notifications (no `notify:` section): a kiosk
   * then refuses a contact before it issues. Never log the contact.
   */
  attachContact?(number: string, contact: string): void;
  /**
   * Journal and publish a hall event that is not a queue command (a gate decision, a printer
   * fault). Resolves once durable.
   */
  record(event: Omit<Extract<HallEvent, { type: `device.${string}` }>, 'at' | 'day' | 'deviceId'>): Promise<SequencedEvent>;
  /** Retained `device/<id>/availability`: "online" | "offline". */
  setAvailability(online: boolean, reason?: string): void;
  /**
   * Retained `device/<id>`: the device's current state as JSON. Publishing is throttled; a
   * function is called only when the state actually goes out, so pass one when the state costs
   * something to build (it then also reports the latest state, not the one at the call).
   */
  publishState(state: Record<string, unknown> | (() => Record<string, unknown>)): void;
  raiseAlarm(alarm: DeviceAlarm): void;
  clearAlarm(code: string): void;
  /**
   * Requests on `device/<id>/<subtopic>` (a kiosk's `issue`, an operator's gate `hold`): answered
   * on `device/<id>/<subtopic>/response` in the envelope of `bridge/response` (docs/mqtt-api.md,
   * "Requests and responses"): the caller's `transaction` echoed, `status`, and `data` or `code` +
   * `error`. The payload (without `transaction`) is checked against `schema` first; the handler
   * returns the `data` or throws RequestError(code, message). Returns an unsubscribe function.
   */
  handleRequest<T>(subtopic: string, schema: ZodType<T>, handler: DeviceRequestHandler<T>): () => void;
  /**
   * The box's GPIO, by the backend the device's config names (`chardev` or `sysfs`): the one way
   * a driver reaches a button or a relay, so every kind that wires GPIO gets the same lines,
   * inputs debounced and outputs held (src/platform/gpio). The daemon makes one backend of each
   * name and shares it between devices.
   */
  gpio(backend: GpioBackendName): GpioBackend;
  /** MQTT topics under `device/<id>/` for networked devices (kiosks, voice boxes). */
  publish(subtopic: string, payload: unknown, options?: { retain?: boolean }): void;
  subscribe(subtopic: string, handler: (payload: unknown, topic: string) => void): () => void;
}

export interface DeviceDriver {
  readonly id: string;
  readonly kind: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What config validation and the alarm catalog need of a device kind: no driver code. */
export interface DeviceKindInfo<Options = unknown> {
  kind: string;
  description: string;
  options: ZodType<Options>;
  /**
   * A valid options object as an installer would write it (input form, defaults left out). The
   * strictness test puts an unknown key into each of its objects and requires a refusal.
   */
  exampleOptions: unknown;
  /** Every alarm its drivers can raise (see AlarmSpec). */
  alarms: readonly AlarmSpec[];
  /** The `bridge/request/<name>` commands its devices take (bridge-requests.ts); the hall only routes them. */
  bridgeRequests?: readonly BridgeRequestSpec[];
}

/** A device kind: how its config options look and how a driver is made. */
export interface DeviceKind<Options = unknown> extends DeviceKindInfo<Options> {
  create(id: string, options: Options, ctx: DeviceContext): DeviceDriver;
}

/**
 * A device kind as the registry lists it: the light info up front, the driver module (and its
 * serial/Modbus/printer libraries) loaded by `load()` only when a device of this kind is
 * configured — importing every driver cost ~1.4 s of the daemon's start on the 2-core box.
 */
export interface LazyDeviceKind<Options = unknown> extends DeviceKindInfo<Options> {
  load(): Promise<DeviceKind<Options>>;
}
