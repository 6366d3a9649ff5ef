/**
 * The device contract: everything a device driver may see of the hall, in one module that both
 * the hall (src/hall) and the device folders (devices/<kind>) import. The queue's event, ticket
 * and command types are re-exported here so a driver needs no import from the hall's insides.
 */
export { alarmSpecMatches } from './device-api.js';
export type {
  AlarmSpec,
  CommandOk,
  CommandRefused,
  CommandResult,
  DeviceAlarm,
  DeviceContext,
  DeviceDriver,
  DeviceKind,
  DeviceKindInfo,
  LazyDeviceKind,
  HallBusEvents,
  HallView,
  RememberedRequest,
  RequestIdentity,
} from './device-api.js';
export { RequestError, errorResponse, okResponse, parseResponse, type ResponseEnvelope } from '../bus/request-envelope.js';
export { AwaitedResponses } from './awaited-responses.js';
export { validatedRequest, answerDeviceRequest } from './device-requests.js';
export { bridgeRequest, type BridgeRequestSpec } from './bridge-requests.js';
export type { DeviceRequestHandler, RequestCaller } from './device-requests.js';
export type { HallEvent, SequencedEvent } from '../queue/events.js';
export type { Channel, Ticket, WindowState } from '../queue/ticket.js';
export type { QueueCommand } from '../queue/commands.js';
export type { GpioBackend, GpioBackendName, GpioInput, GpioOutput } from '../platform/gpio/gpio.js';
export type { LocalizedName, QueueModel } from '../queue/model.js';
export { contactSchema, contactKind, maskContact, scrubContacts, MAX_CONTACT_LENGTH } from './contact.js';
export type { ContactKind } from './contact.js';
