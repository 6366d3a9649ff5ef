/** The BX-5K codec: pure bytes <-> messages. Driver and simulator import from here. */
export * from './crc16.js';
export * from './escape.js';
export * from './packet.js';
export * from './commands.js';
export * from './reply-codes.js';
export * from './text.js';
export * from './decoder.js';
