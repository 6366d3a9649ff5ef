import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, type IncomingMessage } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { eventually } from '../support/eventually.js';
import { SECRET_FILE } from '../../src/visitors/ticket-secret.js';

/** One phone page's live stream, opened from `localAddress` (127.0.0.x: many "phones" on one box). */
interface OpenStream {
  status: number;
  headers: IncomingMessage['headers'];
  text(): string;
  ended(): boolean;
  close(): void;
}

function openStream(port: number, path: string, localAddress = '127.0.0.1'): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, headers: { Accept: 'text/event-stream' } }, (res) => {
      let body = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (ended = true));
      res.on('error', () => (ended = true));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text: () => body, ended: () => ended, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('phone ticket pages: live streams over HTTP (Server-Sent Events)', () => {
  let hall: TestDaemon;
  let port: number;
  const eventsPath = (number: string): string => {
    const link = new URL(hall.daemon.hall.view.ticketPageUrl!(hall.daemon.hall.engine.currentDay()!, number)!);
    return `${link.pathname}/events${link.search}`;
  };
  const issue = async (): Promise<string> => {
    const answer = await hall.operator.requester.request('issue', { serviceId: 'social-security' });
    return (answer.data as { ticket: { number: string } }).ticket.number;
  };
  const open = (): number => hall.daemon.visitors!.stats().open;

  beforeAll(async () => {
    hall = await startTestDaemon({
      windows: 2,
      extra: { dashboard: { host: '127.0.0.1', port: 0, publicUrl: 'http://hall.example:8080/', ticketStreams: { max: 3, perAddress: 2 } } },
    });
    port = hall.daemon.ports.dashboard!;
  });
  afterAll(async () => hall?.close());

  it('keeps the link secret outside the journal, in a file only the daemon user reads', () => {
    const file = join(hall.dir, 'state', SECRET_FILE);
    expect(readFileSync(file, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(statSync(file).mode & 0o077).toBe(0);
    const link = hall.daemon.hall.view.ticketPageUrl!('2026-12-01', 'A001')!;
    expect(link).toMatch(/^http:\/\/hall\.example:8080\/t\/2026-12-01\/A001\?k=[A-Za-z0-9_-]{22}$/);
  });

  it('bounds open streams per address and in all (beyond, a page polls), and frees a slot when a phone goes away', async () => {
    const number = await issue();
    const path = eventsPath(number);
    const a1 = await openStream(port, path);
    const a2 = await openStream(port, path);
    expect([a1.status, a2.status]).toEqual([200, 200]);
    expect(a1.headers['content-type']).toMatch(/^text\/event-stream/);
    await eventually(() => a1.text().includes('event: ticket'), 'the first view on the stream');

    // Over the bound: the page gets its view once and polls (the browser retries in 30 s), holding no slot.
    const a3 = await openStream(port, path);
    expect(a3.status).toBe(200);
    await eventually(() => a3.ended(), 'the over-the-bound answer ends at once');
    expect(a3.text()).toMatch(/^retry: 30000\n\nevent: slow\n/);
    expect(a3.text()).toContain(`"number":"${number}"`);

    const b1 = await openStream(port, path, '127.0.0.2');
    expect(b1.status).toBe(200);
    const c1 = await openStream(port, path, '127.0.0.3');
    await eventually(() => c1.ended(), 'the full hall answers a fourth phone once');
    expect(c1.text()).toContain('event: slow');
    expect(open()).toBe(3);
    // The same figures are in the daemon's `health` answer.
    expect(((await hall.operator.requester.request('health', {})).data as { visitors: { open: number; refusedAddress: number } }).visitors).toMatchObject({ open: 3, refusedAddress: 1 });

    a1.close();
    await eventually(() => open() === 2, 'the closed stream is dropped');
    const c2 = await openStream(port, path, '127.0.0.3');
    await eventually(() => c2.text().includes('event: ticket'), 'a live view for the phone that got the slot');
    expect(c2.text()).not.toContain('event: slow');
    expect(c2.ended()).toBe(false);
    for (const s of [a2, b1, c2]) s.close();
    await eventually(() => open() === 0, 'every stream dropped');
  });

  it('sends a page only its own ticket, and ends the stream when the ticket is done', async () => {
    await hall.operator.requester.request('login', { windowId: 'w01', staffId: 's1' });
    await hall.operator.requester.request('call-next', { windowId: 'w01' });
    await hall.operator.requester.request('finish', { windowId: 'w01' });
    const other = await issue();
    const mine = await issue();
    const stream = await openStream(port, eventsPath(mine));
    await eventually(() => stream.text().includes('"ahead":1'), 'one ahead');
    await hall.operator.requester.request('call-next', { windowId: 'w01' });
    await eventually(() => stream.text().includes('"ahead":0'), 'next');
    await hall.operator.requester.request('call-next', { windowId: 'w01' });
    await eventually(() => stream.text().includes('"state":"called"'), 'called');
    await hall.operator.requester.request('finish', { windowId: 'w01' });
    await eventually(() => stream.ended(), 'the stream ended by the box once the ticket is done');
    expect(stream.text()).toContain('"state":"done"');
    expect(stream.text()).not.toContain(other);
    await eventually(() => open() === 0, 'the ended stream dropped');
  });
});
