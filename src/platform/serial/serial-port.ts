import type { BindingInterface } from '@serialport/bindings-cpp';
import { SerialPortStream, type ErrorCallback } from '@serialport/stream';
import { serialBinding } from './event-loop-binding.js';

/** A serial port as the rest of the hall sees it: a serialport stream on the hall's binding. */
export type SerialPort = SerialPortStream<BindingInterface>;

export interface SerialPortSettings {
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  stopBits?: 1 | 1.5 | 2;
  parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  /** Open at once (the default, as with `new SerialPort`); false to call open() yourself. */
  autoOpen?: boolean;
}

/**
 * Every serial port the daemon, the simulators and the benchmark open goes through here, so all
 * of them move bytes the same way (see event-loop-binding.ts for why not serialport's default).
 */
export function createSerialPort(settings: SerialPortSettings, openCallback?: ErrorCallback): SerialPort {
  // The binding's open options are a superset of what is passed here; the union of platform
  // bindings has no common generic form, hence the widening to the interface.
  const binding = serialBinding() as BindingInterface;
  return new SerialPortStream<BindingInterface>({ binding, ...settings }, openCallback);
}
