import type { DeviceKindInfo } from '../../src/device-contract/index.js';
import { dispenserBridgeRequests } from './bridge-requests.js';
import { DISPENSER_ALARMS } from './alarms.js';
import { dispenserOptions, type DispenserOptions } from './options.js';

/** The dispenser kind without its driver: config validation and the alarm catalog read this (devices/registry.ts). */
export const dispenserKindInfo: DeviceKindInfo<DispenserOptions> = {
  kind: 'dispenser',
  description: 'ticket dispenser: GPIO buttons and MQTT requests, ESC/POS thermal printer, appointment reader',
  options: dispenserOptions,
  alarms: Object.values(DISPENSER_ALARMS),
  bridgeRequests: dispenserBridgeRequests,
  exampleOptions: {
    hallName: { zh: '综合服务大厅', en: 'Service Hall' },
    printer: { type: 'epson', interface: { serial: '/dev/ttyUSB1', baudRate: 9600 }, statusPollMs: 2000 },
    buttons: [{ service: 'ss', priority: false, gpio: { backend: 'chardev', line: 17, chip: 'gpiochip0', activeLow: true } }],
    appointmentReader: { port: '/dev/ttyACM0' },
    appointments: { earlyMinutes: 30 },
    footer: { zh: '请留意叫号', en: 'Please wait for your number' },
  },
};
