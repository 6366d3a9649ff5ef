import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { eventually } from '../support/eventually.js';
import { connackOf, encodeConnect, encodePublish, encodeSubscribe, openSocket, subackOf } from '../support/raw-mqtt.js';
import { TEST_USERS } from '../support/hall-config.js';
import { BIG_ANSWER_BACKLOG_BYTES } from '../../src/bus/bridge.js';

/**
 * "A big query is answered `busy` while the connection has more than 512 KiB of answers unread."
 * Loopback sockets take several MB before a single byte stays in the daemon (the daemon's send
 * buffer grows to net.ipv4.tcp_wmem's maximum, 4 MiB here), so the client here never reads and
 * asks for large ticket pages one after another until the kernel's buffers are full and the
 * daemon itself holds answers: the rule must then refuse the next big query instead of adding
 * to them. Without it the answers pile up to the slow-consumer bound (2 MiB) and the connection
 * is cut.
 */
describe('big queries while earlier answers are unread', () => {
  let hall: TestDaemon | undefined;
  let raw: Socket | undefined;
  afterEach(async () => {
    raw?.destroy();
    await hall?.close();
    hall = undefined;
    raw = undefined;
  });

  it('a client that does not read its answers gets busy for the next big query once 512 KiB are unread, is held, and is served again once it reads', async () => {
    // The per-connection big-query rate out of the way: the only bound a query can meet here is the backlog.
    hall = await startTestDaemon({ windows: 2, extra: { requests: { operator: { bigQueriesPerSecond: 1000 } } } });
    const h = hall;
    // Tickets with 20 matters of 100 characters each (~6 KB of JSON a ticket): a page of 50 is ~300 KB.
    const items = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(100, '办'));
    for (let i = 0; i < 50; i++) expect(await h.operator.requester.request('issue', { serviceId: 'retirement', items })).toMatchObject({ status: 'ok' });

    const page = await h.operator.requester.request('tickets', { limit: 50 });
    expect(Buffer.byteLength(JSON.stringify(page))).toBeGreaterThan(200_000);

    raw = await openSocket(h.daemon.ports.tcp);
    const op = TEST_USERS.operator;
    const connack = connackOf(raw);
    raw.write(encodeConnect({ clientId: 'never-reads', username: op.username, password: op.password }));
    expect(await connack).toBe(0);
    const suback = subackOf(raw);
    raw.write(encodeSubscribe(`${h.base}/bridge/response/tickets`));
    expect(await suback).toBe(0);
    raw.pause(); // from now on it reads nothing

    const counters = () => h.daemon.api.bridgeCounters();
    const backlog = () => h.daemon.broker.outgoingBacklog('never-reads');
    let answered = 0;
    let backlogAtRefusal = 0;
    // One query at a time (the hall-wide bound on big queries at once stays out of it too).
    for (let i = 0; i < 100 && counters().requestsBusy === 0; i++) {
      const handled = counters().requestsHandled;
      raw.write(encodePublish(`${h.base}/bridge/request/tickets`, JSON.stringify({ transaction: `q${i}`, limit: 50 })));
      await eventually(() => counters().requestsHandled > handled || counters().requestsBusy > 0 || undefined, `query ${i} answered or refused`);
      if (counters().requestsBusy > 0) backlogAtRefusal = backlog();
      else answered++;
    }
    expect(counters().requestsBusy).toBe(1);
    // Refused because of what it had not read, not cut: the rule came before the slow-consumer bound.
    expect(backlogAtRefusal).toBeGreaterThan(BIG_ANSWER_BACKLOG_BYTES);
    expect(h.daemon.broker.counters().slowConsumers).toBe(0);
    // The socket buffers took far more than the rule's 512 KiB before anything stayed in the daemon.
    expect(answered * Buffer.byteLength(JSON.stringify(page))).toBeGreaterThan(2 * BIG_ANSWER_BACKLOG_BYTES + backlogAtRefusal);
    expect(h.daemon.broker.heldReads().connections).toBe(1);
    const health = await h.operator.requester.request('health');
    expect(health.data).toMatchObject({ broker: { slowConsumers: 0, heldReads: { connections: 1 } } });
    expect((health.data as { broker: { readsHeld: number } }).broker.readsHeld).toBeGreaterThan(0);

    // It reads: its answers drain, the hold ends, and its next big query is answered.
    raw.resume();
    await eventually(() => (backlog() === 0 && h.daemon.broker.heldReads().connections === 0) || undefined, 'the answers read and the hold released');
    const handled = counters().requestsHandled;
    raw.write(encodePublish(`${h.base}/bridge/request/tickets`, JSON.stringify({ transaction: 'after', limit: 50 })));
    await eventually(() => counters().requestsHandled > handled || undefined, 'the next query answered');
    expect(counters().requestsBusy).toBe(1);
  }, 60_000);
});
