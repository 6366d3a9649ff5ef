import { Transform, type TransformCallback } from 'node:stream';

/**
 * Splits the byte stream into lines at LF (dropping a CR before it). Unlike
 * @serialport/parser-readline, the buffer is bounded: a stream with no newline (noise, a
 * babbling transceiver) cannot grow memory; the overlong line is reported once, as
 * { overflow: true }, and everything up to the next LF is dropped.
 */
export type RawLine = { bytes: Buffer; overflow: false } | { bytes: Buffer; overflow: true };

export class LineFramer extends Transform {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private discarding = false;

  /** @param maxLineBytes the longest line, CR included, that the protocol allows */
  constructor(private readonly maxLineBytes: number) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let from = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, from);
      const end = newline < 0 ? chunk.length : newline;
      this.append(chunk.subarray(from, end));
      if (newline < 0) break;
      this.finishLine();
      from = newline + 1;
    }
    callback();
  }

  private append(part: Buffer): void {
    if (this.discarding || part.length === 0) return;
    if (this.pendingLength + part.length > this.maxLineBytes) {
      const head = Buffer.concat([...this.pending, part]).subarray(0, 16);
      this.pending = [];
      this.pendingLength = 0;
      this.discarding = true;
      this.push({ bytes: head, overflow: true } satisfies RawLine);
      return;
    }
    this.pending.push(part);
    this.pendingLength += part.length;
  }

  private finishLine(): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    let line = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingLength = 0;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (line.length === 0) return; // idle CR LF between frames is not an error
    this.push({ bytes: line, overflow: false } satisfies RawLine);
  }
}
