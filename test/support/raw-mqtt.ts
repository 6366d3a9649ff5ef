import { connect as netConnect, type Socket } from 'node:net';

/**
 * A hand-rolled MQTT 3.1.1 client for what mqtt.js will not do: announce a packet far bigger
 * than it sends (to see where the broker cuts it), or open many bare logins from a chosen local
 * address (a login flood from "another host" on 127.0.0.2).
 */

/** Fixed header: packet type byte and Remaining Length (1..4 bytes, MQTT-2.2.3). */
export function fixedHeader(firstByte: number, remainingLength: number): Buffer {
  const bytes = [firstByte];
  let length = remainingLength;
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

function field(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export interface RawConnect {
  clientId: string;
  username?: string;
  password?: string;
  keepaliveSeconds?: number;
}

export function encodeConnect(options: RawConnect): Buffer {
  const flags = 0x02 | (options.username !== undefined ? 0x80 : 0) | (options.password !== undefined ? 0x40 : 0);
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(options.keepaliveSeconds ?? 30);
  const body = Buffer.concat([
    field('MQTT'),
    Buffer.from([4, flags]),
    keepalive,
    field(options.clientId),
    ...(options.username !== undefined ? [field(options.username)] : []),
    ...(options.password !== undefined ? [field(options.password)] : []),
  ]);
  return Buffer.concat([fixedHeader(0x10, body.length), body]);
}

/** A QoS 0 PUBLISH (no packet id). */
export function encodePublish(topic: string, payload: string | Buffer): Buffer {
  const body = Buffer.concat([field(topic), typeof payload === 'string' ? Buffer.from(payload) : payload]);
  return Buffer.concat([fixedHeader(0x30, body.length), body]);
}

/** A SUBSCRIBE of one filter at QoS 0 (packet id 1). */
export function encodeSubscribe(filter: string, packetId = 1): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(packetId);
  const body = Buffer.concat([id, field(filter), Buffer.from([0])]);
  return Buffer.concat([fixedHeader(0x82, body.length), body]);
}

export function openSocket(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** The CONNACK return code, or 'closed' when the broker hung up without one. */
export function connackOf(socket: Socket): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4) {
        socket.off('data', onData);
        resolve(received[0] === 0x20 ? received[3]! : 'closed');
      }
    };
    socket.on('data', onData);
    socket.once('close', () => resolve('closed'));
    socket.on('error', () => undefined);
  });
}

/** Resolves with the SUBACK's granted QoS (0x80: refused) once it arrives (nothing else may come before it). */
export function subackOf(socket: Socket): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 5) {
        socket.off('data', onData);
        resolve(received[0] === 0x90 ? received[4]! : 'closed');
      }
    };
    socket.on('data', onData);
    socket.once('close', () => resolve('closed'));
  });
}

/**
 * Sends `header` announcing `declaredBytes` of body, then streams zeros (from one reused
 * buffer, with backpressure) until the broker closes the connection or the body is complete.
 * Resolves with the body bytes the socket accepted — a broker that reads the whole packet
 * before judging it accepts them all (then this resolves without waiting for a close).
 */
export async function streamAnnouncedBody(socket: Socket, header: Buffer, declaredBytes: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  let sent = 0;
  let closed = false;
  socket.on('error', () => undefined);
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void gone.then(() => (closed = true));
  socket.write(header);
  while (!closed && sent < declaredBytes) {
    const piece = Math.min(chunk.length, declaredBytes - sent);
    const more = socket.write(piece === chunk.length ? chunk : chunk.subarray(0, piece));
    sent += piece;
    if (!more) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), gone]);
  }
  return sent;
}
