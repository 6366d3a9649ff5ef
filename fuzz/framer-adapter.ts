import type { TransformCallback } from 'node:stream';
import { LineFramer, type RawLine } from '../src/platform/serial/line-framer.js';

/**
 * The daemon's LineFramer driven synchronously: its _transform is called directly and its
 * push() collects the lines, so a million inputs need no stream machinery or event-loop turns.
 * The splitting logic under test is the framer's own, unchanged.
 */
export class SyncLineFramer {
  private readonly framer: LineFramer;
  private out: RawLine[] = [];

  /** @param framer a fresh framer, or a line limit for the shared one */
  constructor(framer: LineFramer | number) {
    this.framer = typeof framer === 'number' ? new LineFramer(framer) : framer;
    this.framer.push = (line: RawLine | null): boolean => {
      if (line) this.out.push(line);
      return true;
    };
  }

  write(chunk: Buffer): RawLine[] {
    this.feed(chunk);
    return this.take();
  }

  /** Feeds a chunk; its lines wait for take() (one array per input, not per 1-byte chunk). */
  feed(chunk: Buffer): void {
    // Streams pass 'buffer' for Buffer chunks; the framer ignores the encoding.
    this.framer._transform(chunk, 'buffer' as BufferEncoding, rethrow);
  }

  /** The lines framed since the last take(). */
  take(): RawLine[] {
    const lines = this.out;
    this.out = [];
    return lines;
  }

  /** Bytes the framer holds for the line it is collecting. */
  buffered(): number {
    return (this.framer as unknown as { pendingLength: number }).pendingLength;
  }
}

const rethrow: TransformCallback = (err) => {
  if (err) throw err;
};

/** Feeds `bytes` in pieces of `chunk` bytes; returns every line. */
export function frameLines(framer: SyncLineFramer, bytes: Buffer, chunk: number): RawLine[] {
  const step = Math.max(1, chunk);
  for (let at = 0; at < bytes.length; at += step) framer.feed(bytes.subarray(at, at + step));
  return framer.take();
}
