export { SerialLink, SerialLinkClosedError } from './serial-link.js';
export type { SerialLinkOptions, SerialLinkEvents, SerialLinkStats, SerialCloseReason, SerialParity } from './serial-link.js';
export { Rs485Bus, BusPriority } from './rs485-bus.js';
export type { Rs485BusOptions, Rs485BusEvents, TransactOptions, SendOptions } from './rs485-bus.js';
export { BusTimeoutError, BusLinkDownError, BusClosedError } from './bus-errors.js';
export type { DeviceLinkStats } from './device-counters.js';
export { createSerialPort } from './serial-port.js';
export type { SerialPort, SerialPortSettings } from './serial-port.js';
export { EventLoopBinding, serialBinding } from './event-loop-binding.js';
