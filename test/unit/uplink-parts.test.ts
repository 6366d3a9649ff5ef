import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendWindow } from '../../src/uplink/send-window.js';
import { ReplayRanges } from '../../src/uplink/replay-ranges.js';
import { backlogAlarmMessage } from '../../src/uplink/backlog-alarm.js';
import { parseReplayRequest } from '../../src/uplink/messages.js';
import { CursorFile } from '../../src/uplink/cursor-file.js';
import { eventsPage } from '../../src/hall/events-query.js';
import { silentLogger } from '../../src/platform/logger.js';
import { parseConfig } from '../../src/config/load.js';
import { stringify } from 'yaml';
import { testHallConfig } from '../support/hall-config.js';
import type { SequencedEvent } from '../../src/queue/events.js';

describe('uplink send window', () => {
  it('moves the cursor only over a prefix of acknowledged messages', () => {
    const window = new SendWindow(10);
    const a = window.add(11, 20, false);
    const b = window.add(21, 30, false);
    const c = window.add(31, 35, false);
    expect(window.ack(b.id)).toBeUndefined();
    expect(window.cursor).toBe(10);
    expect(window.ack(a.id)).toBe(30);
    expect(window.size).toBe(1);
    expect(window.ack(c.id)).toBe(35);
  });

  it('never moves the cursor for a replay, and forgets everything in flight on reset', () => {
    const window = new SendWindow(50);
    const replay = window.add(1, 5, true);
    expect(window.ack(replay.id)).toBeUndefined();
    expect(window.cursor).toBe(50);
    window.add(51, 60, false);
    const lostReplay = window.add(2, 3, true);
    expect(window.reset().map((b) => b.id)).toEqual([lostReplay.id]);
    expect(window.size).toBe(0);
    expect(window.cursor).toBe(50);
  });
});

describe('uplink replay ranges', () => {
  it('merges overlapping requests and serves them in bounded chunks', () => {
    const ranges = new ReplayRanges();
    ranges.add({ since: 10, until: 20 });
    ranges.add({ since: 15, until: 30 });
    ranges.add({ since: 0, until: 3 });
    ranges.add({ since: 5, until: 5 });
    expect(ranges.pending).toBe(23);
    expect(ranges.take(100)).toEqual({ since: 0, until: 3 });
    expect(ranges.take(8)).toEqual({ since: 10, until: 18 });
    expect(ranges.take(100)).toEqual({ since: 18, until: 30 });
    expect(ranges.take(100)).toBeUndefined();
  });

  it('stays bounded under a flood of distinct requests, never dropping a seq asked for', () => {
    const ranges = new ReplayRanges();
    for (let i = 0; i < 100; i++) ranges.add({ since: i * 10, until: i * 10 + 2 });
    const served = new Set<number>();
    for (let chunk = ranges.take(1000); chunk; chunk = ranges.take(1000)) for (let s = chunk.since + 1; s <= chunk.until; s++) served.add(s);
    for (let i = 0; i < 100; i++) expect(served.has(i * 10 + 1) && served.has(i * 10 + 2)).toBe(true);
  });
});

describe('uplink.backlog alarm', () => {
  const limits = { unreachableSeconds: 60, backlogEvents: 100 };
  it('is raised after the unreachable time or past the backlog bound, with a text that does not change as figures grow', () => {
    expect(backlogAlarmMessage({ connected: false, lastUpAt: 0, backlog: 5 }, limits, 59_000)).toBeUndefined();
    const down = backlogAlarmMessage({ connected: false, lastUpAt: 0, backlog: 5 }, limits, 60_000);
    expect(down).toMatch(/unreachable for more than 60 s/);
    expect(backlogAlarmMessage({ connected: false, lastUpAt: 0, backlog: 50 }, limits, 600_000)).toBe(down);
    expect(backlogAlarmMessage({ connected: true, lastUpAt: 0, backlog: 101 }, limits, 600_000)).toMatch(/more than 100 events/);
    expect(backlogAlarmMessage({ connected: true, lastUpAt: 0, backlog: 100 }, limits, 600_000)).toBeUndefined();
  });
});

describe('uplink replay request', () => {
  it('takes {since, until?} and refuses the rest with a reason', () => {
    expect(parseReplayRequest(Buffer.from('{"since":4}'))).toEqual({ ok: true, request: { since: 4 } });
    expect(parseReplayRequest(Buffer.from('{"since":4,"until":9}'))).toEqual({ ok: true, request: { since: 4, until: 9 } });
    expect(parseReplayRequest(Buffer.from('nope'))).toEqual({ ok: false, problem: 'not JSON' });
    expect(parseReplayRequest(Buffer.from('{"since":"4"}')).ok).toBe(false);
    expect(parseReplayRequest(Buffer.from('{"since":9,"until":4}')).ok).toBe(false);
  });
});

describe('uplink cursor file', () => {
  it('persists the newest cursor for its target and starts over for another target or a damaged file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uplink-cursor-'));
    try {
      const file = join(dir, 'uplink-cursor.json');
      const cursor = new CursorFile(file, 'mqtt://a hall/x', silentLogger());
      expect(cursor.load()).toBe(0);
      for (let seq = 1; seq <= 50; seq++) cursor.save(seq);
      await cursor.flush();
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ seq: 50, target: 'mqtt://a hall/x' });
      expect(new CursorFile(file, 'mqtt://a hall/x', silentLogger()).load()).toBe(50);
      expect(new CursorFile(file, 'mqtt://b hall/x', silentLogger()).load()).toBe(0);
      writeFileSync(file, '{"seq":');
      expect(new CursorFile(file, 'mqtt://a hall/x', silentLogger()).load()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('events query', () => {
  const events = Array.from({ length: 7 }, (_, i) => ({ seq: i + 1, type: 'x', day: '2026-01-01', at: i }) as unknown as SequencedEvent);
  const history = { readSince: (seq: number, limit: number) => events.filter((e) => e.seq > seq).slice(0, limit), lastSeq: () => 7 };
  it('pages with next until the end of the journal', () => {
    expect(eventsPage(history, { since: 0, limit: 3 })).toMatchObject({ next: 3, lastSeq: 7 });
    expect(eventsPage(history, { since: 6, limit: 3 })).toMatchObject({ next: null, events: [{ seq: 7 }] });
    expect(eventsPage(history, { since: 7 })).toEqual({ events: [], next: null, lastSeq: 7 });
    expect(() => eventsPage(history, { since: 0, limit: 1001 })).toThrow(/limit/);
  });
});

describe('uplink config section', () => {
  const parse = (uplink: unknown) => parseConfig(stringify({ ...testHallConfig(), uplink }), undefined);
  it('takes a broker URL with defaults, and names what is wrong', () => {
    const config = parse({ url: 'mqtt://central.example:1883' });
    expect(config.uplink).toMatchObject({ url: 'mqtt://central.example:1883', batchEvents: 500, inflightBatches: 8, alarm: { unreachableSeconds: 600, backlogEvents: 5000 } });
    expect(() => parse({ url: 'http://x' })).toThrow(/uplink\.url.*mqtt:\/\/ or mqtts:\/\//);
    expect(() => parse({ url: 'mqtt://u:p@x' })).toThrow(/credentials do not belong in the URL/);
    expect(() => parse({ url: 'mqtt://x', passwordFile: '/etc/hostname' })).toThrow(/uplink\.username.*passwordFile/);
    expect(() => parse({ url: 'mqtt://x', topicPrefix: 'a/+/b' })).toThrow(/uplink\.topicPrefix/);
    expect(() => parse({ url: 'mqtt://x', ca: '/etc/hostname' })).toThrow(/use mqtts/);
    expect(() => parse({ url: 'mqtt://x', username: 'u', passwordFile: '/no/such/file' })).toThrow(/uplink\.passwordFile: file not found/);
  });
});
