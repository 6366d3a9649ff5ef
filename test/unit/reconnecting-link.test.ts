import { describe, expect, it } from 'vitest';
import { ReconnectingLink, type LinkTransport } from '../../src/platform/link/reconnecting-link.js';
import { silentLogger } from '../../src/platform/logger.js';
import { eventually } from '../support/eventually.js';

/** A transport whose opens the test settles by hand: what the lifecycle does with each outcome. */
class ScriptedTransport implements LinkTransport<number> {
  readonly describe = 'scripted';
  watchEveryMs = 0;
  present = true;
  readonly opens: Array<{ resolve(conn: number): void; reject(err: Error): void; lost: (reason: 'disconnected' | 'error') => void }> = [];
  readonly closed: number[] = [];
  readonly detached: number[] = [];

  open(lost: (reason: 'disconnected' | 'error') => void): Promise<number> {
    return new Promise((resolve, reject) => this.opens.push({ resolve, reject, lost }));
  }
  detach(conn: number): void {
    this.detached.push(conn);
  }
  async close(conn: number): Promise<void> {
    this.closed.push(conn);
  }
  async stillThere(): Promise<boolean> {
    return this.present;
  }
}

function linkOn(transport: ScriptedTransport): { link: ReconnectingLink<number>; seen: string[] } {
  const link = new ReconnectingLink(transport, { log: silentLogger(), minBackoffMs: 5, maxBackoffMs: 40 });
  const seen: string[] = [];
  link.on('open', (conn) => seen.push(`open ${conn}`));
  link.on('close', (reason) => seen.push(`close ${reason}`));
  link.on('open-failed', (_err, retryInMs) => seen.push(`failed, retry in ${retryInMs}`));
  return { link, seen };
}

describe('ReconnectingLink (the one reconnect lifecycle)', () => {
  it('retries failed opens with the doubling back-off, resets it once open, and reopens after a loss', async () => {
    const transport = new ScriptedTransport();
    const { link, seen } = linkOn(transport);
    link.start();
    for (let i = 0; i < 5; i++) {
      await eventually(() => transport.opens.length === i + 1, `attempt ${i + 1}`);
      transport.opens[i]!.reject(new Error('refused'));
    }
    await eventually(() => transport.opens.length === 6, 'attempt 6');
    transport.opens[5]!.resolve(1);
    await link.whenOpen(1000);
    transport.opens[5]!.lost('disconnected');
    await eventually(() => transport.opens.length === 7, 'reopened after the loss');
    transport.opens[6]!.resolve(2);
    await link.whenOpen(1000);
    expect(seen).toEqual(['failed, retry in 5', 'failed, retry in 10', 'failed, retry in 20', 'failed, retry in 40', 'failed, retry in 40', 'open 1', 'close disconnected', 'open 2']);
    expect(transport.detached).toEqual([1]);
    expect(link.stats).toEqual({ opens: 2, openFailures: 5, disconnects: 1 });
    await link.stop();
    expect(seen.at(-1)).toBe('close closed-by-us');
    expect(transport.closed).toEqual([2]);
  });

  it('a connection that lands after stop() is closed, not kept (no leaked descriptor), and nothing reopens', async () => {
    const transport = new ScriptedTransport();
    const { link, seen } = linkOn(transport);
    link.start();
    await eventually(() => transport.opens.length === 1, 'the attempt');
    const stopped = link.stop();
    transport.opens[0]!.resolve(7);
    await stopped;
    await eventually(() => transport.closed.includes(7), 'the late connection closed');
    expect(link.isOpen).toBe(false);
    expect(seen).toEqual([]);
    expect(transport.opens).toHaveLength(1);
  });

  it('renew() gives the connection up and opens a new one; a late loss of the old one is ignored', async () => {
    const transport = new ScriptedTransport();
    const { link, seen } = linkOn(transport);
    link.start();
    await eventually(() => transport.opens.length === 1, 'the attempt');
    transport.opens[0]!.resolve(1);
    await link.whenOpen(1000);
    link.renew('an exchange timed out');
    expect(transport.closed).toEqual([1]);
    transport.opens[0]!.lost('error'); // the old socket's own close, arriving after
    await eventually(() => transport.opens.length === 2, 'a new attempt');
    transport.opens[1]!.resolve(2);
    await link.whenOpen(1000);
    expect(seen).toEqual(['open 1', 'close renewed', 'open 2']);
    await link.stop();
  });

  it('a watched connection whose device vanished is closed as disconnected and reopened', async () => {
    const transport = new ScriptedTransport();
    transport.watchEveryMs = 5;
    const { link, seen } = linkOn(transport);
    link.start();
    await eventually(() => transport.opens.length === 1, 'the attempt');
    transport.opens[0]!.resolve(1);
    await link.whenOpen(1000);
    transport.present = false;
    await eventually(() => seen.includes('close disconnected'), 'the watch noticed');
    expect(transport.closed).toEqual([1]);
    transport.present = true;
    await eventually(() => transport.opens.length === 2, 'reopened');
    await link.stop();
  });

  it('whenOpen(…, failFast) rejects with the next failed attempt instead of waiting out its timeout', async () => {
    const transport = new ScriptedTransport();
    const { link } = linkOn(transport);
    link.start();
    const waiting = link.whenOpen(60_000, true);
    await eventually(() => transport.opens.length === 1, 'the attempt');
    transport.opens[0]!.reject(new Error('connect ECONNREFUSED'));
    await expect(waiting).rejects.toThrow(/ECONNREFUSED/);
    await link.stop();
  });
});
