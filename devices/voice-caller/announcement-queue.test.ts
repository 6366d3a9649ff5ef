import { describe, expect, it } from 'vitest';
import { AnnouncementQueue, type QueueStats } from './announcement-queue.js';

interface Call {
  number: string;
  recall: boolean;
  window: number;
}

/** A fake sink on a logical clock: records when each announcement started and ended. */
function harness(options: { failOn?: string; maxLength?: number } = {}) {
  let clock = 0;
  let concurrent = 0;
  let maxConcurrent = 0;
  const heard: Array<{ call: Call; start: number; end: number }> = [];
  const changes: QueueStats[] = [];
  const errors: string[] = [];
  const queue = new AnnouncementQueue<Call>({
    now: () => clock,
    maxLength: options.maxLength,
    merge: (waiting, incoming) => ({ ...incoming, recall: waiting.recall && incoming.recall }),
    play: async (entry, soundStarts) => {
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      // Rendering takes a while before the sound starts.
      clock += 5;
      soundStarts();
      const start = clock;
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      clock += 100;
      concurrent -= 1;
      if (entry.payload.number === options.failOn) throw new Error('speaker unplugged');
      heard.push({ call: entry.payload, start, end: clock });
    },
    onChange: (stats) => changes.push(stats),
    onError: (err) => errors.push((err as Error).message),
  });
  const call = (number: string, recall = false, window = 1): string => queue.enqueue(number, { number, recall, window }, clock);
  return { queue, heard, changes, errors, call, maxConcurrent: () => maxConcurrent, advance: (ms: number) => (clock += ms) };
}

describe('AnnouncementQueue', () => {
  it('plays a burst of 30 calls one at a time, in call order', async () => {
    const h = harness();
    const numbers = Array.from({ length: 30 }, (_, i) => `A${String(i + 1).padStart(3, '0')}`);
    for (const number of numbers) expect(h.call(number)).toBe('queued');
    // The first is playing, 29 wait.
    expect(h.queue.stats()).toMatchObject({ queueLength: 29, playing: true });
    expect(Math.max(...h.changes.map((s) => s.queueLength))).toBe(29);
    await h.queue.idle();
    expect(h.heard.map((x) => x.call.number)).toEqual(numbers);
    expect(h.maxConcurrent()).toBe(1);
    for (let i = 1; i < h.heard.length; i++) {
      // Never two at once: each one starts after the previous ended.
      expect(h.heard[i]!.start).toBeGreaterThanOrEqual(h.heard[i - 1]!.end);
    }
    expect(h.queue.stats()).toMatchObject({ queueLength: 0, playing: false, played: 30, errors: 0, merged: 0 });
    // Calls 2..30 were made at clock 5 (while the first rendered); the last one's sound started
    // after 29 announcements of 105 units (render + play) and its own 5-unit render: 3050 − 5.
    expect(h.queue.stats().lastDelayMs).toBe(30 * 105 - 100 - 5);
  });

  it('merges a recall of a ticket still waiting, keeping its place and the first wording', async () => {
    const h = harness();
    h.call('A001');
    h.call('A002');
    h.call('A003');
    expect(h.call('A002', true, 9)).toBe('merged');
    await h.queue.idle();
    expect(h.heard.map((x) => x.call.number)).toEqual(['A001', 'A002', 'A003']);
    // Not heard yet, so it is still a first call, but to the newest window.
    expect(h.heard[1]!.call).toEqual({ number: 'A002', recall: false, window: 9 });
    expect(h.queue.stats()).toMatchObject({ played: 3, merged: 1 });
  });

  it('plays a recall of the ticket being announced after it, not over it', async () => {
    const h = harness();
    h.call('A001');
    expect(h.call('A001', true)).toBe('queued');
    await h.queue.idle();
    expect(h.heard.map((x) => [x.call.number, x.call.recall])).toEqual([
      ['A001', false],
      ['A001', true],
    ]);
  });

  it('counts a failed announcement and goes on with the next', async () => {
    const h = harness({ failOn: 'A002' });
    h.call('A001');
    h.call('A002');
    h.call('A003');
    await h.queue.idle();
    expect(h.heard.map((x) => x.call.number)).toEqual(['A001', 'A003']);
    expect(h.errors).toEqual(['speaker unplugged']);
    expect(h.queue.stats()).toMatchObject({ played: 2, errors: 1 });
  });

  it('refuses calls beyond maxLength and counts them', async () => {
    const h = harness({ maxLength: 2 });
    expect(['A001', 'A002', 'A003', 'A004'].map((n) => h.call(n))).toEqual(['queued', 'queued', 'queued', 'dropped']);
    await h.queue.idle();
    expect(h.queue.stats()).toMatchObject({ played: 3, dropped: 1 });
  });

  it('stop lets the current announcement finish and drops the rest', async () => {
    const h = harness();
    h.call('A001');
    h.call('A002');
    h.call('A003');
    expect(await h.queue.stop()).toBe(2);
    expect(h.heard.map((x) => x.call.number)).toEqual(['A001']);
    expect(h.call('A004')).toBe('stopped');
  });
});
