import { afterEach, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import type { Response } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';

describe('group commit with per-command output', () => {
  let hall: TestDaemon | undefined;
  afterEach(async () => {
    await hall?.close();
    hall = undefined;
  });

  it('32 pipelined requests: the first answer arrives before the 32nd request is executed, answers in arrival order', async () => {
    hall = await startTestDaemon({ windows: 2 });
    const { daemon } = hall;
    const requester = hall.operator.requester;
    // The client runs in the daemon's process: its callback sees the hall's counter at the
    // moment the answer came back over TCP, which is only possible if the daemon let it out.
    const before = daemon.hall.counters().commandsRun;
    let runWhenFirstAnswered: number | undefined;
    const answered: number[] = [];
    const requests: Array<Promise<Response>> = [];
    for (let i = 0; i < 32; i++) {
      requests.push(
        requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' }).then((response) => {
          runWhenFirstAnswered ??= daemon.hall.counters().commandsRun - before;
          answered.push(i);
          return response;
        }),
      );
    }
    const responses = await Promise.all(requests);
    expect(responses.every((r) => r.status === 'ok')).toBe(true);
    const numbers = responses.map((r) => (r.data as { ticket: { number: string } }).ticket.number);
    expect(numbers).toEqual(Array.from({ length: 32 }, (_, i) => `A${String(i + 1).padStart(3, '0')}`));
    expect(answered).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(runWhenFirstAnswered).toBeDefined();
    expect(runWhenFirstAnswered!).toBeLessThan(32);
    // They did share commits: fewer transactions than commands.
    const { groupCommits } = daemon.hall.counters();
    expect(groupCommits).toBeLessThan(32);
  });

  it('a query sent right after an issue sees the new ticket (requests keep their order across the group)', async () => {
    hall = await startTestDaemon({ windows: 2 });
    const requester = hall.operator.requester;
    const issued = requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' });
    const looked = requester.request('ticket', { number: 'A001' });
    const listed = requester.request('tickets');
    expect((await issued).status).toBe('ok');
    expect(await looked).toMatchObject({ status: 'ok', data: { ticket: { number: 'A001' } } });
    expect((await listed).data).toMatchObject({ tickets: [{ number: 'A001' }] });
  });

  it('a group whose commit fails answers every command with an error, shows nothing, and the queue stays as the journal has it', async () => {
    hall = await startTestDaemon({ windows: 2 });
    const { daemon } = hall;
    const requester = hall.operator.requester;
    expect((await requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' })).status).toBe('ok');
    const events: string[] = [];
    const off = daemon.hall.bus.on('event', (event) => events.push(event.type));
    // The disk fails at the group's commit: every append inside went in, the COMMIT does not.
    const journal = (daemon.hall as unknown as { journal: { batch: (work: () => unknown) => unknown } }).journal;
    const realBatch = journal.batch.bind(journal);
    journal.batch = (work) =>
      realBatch(() => {
        work();
        throw new Error('disk I/O error');
      });
    const failed = await Promise.all([0, 1, 2].map(() => requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' })));
    journal.batch = realBatch;
    off();
    expect(failed.map((r) => r.status)).toEqual(['error', 'error', 'error']);
    expect(events).toEqual([]);
    expect(daemon.hall.counters().groupCommitFailures).toBeGreaterThan(0);
    expect(daemon.hall.counters().stages.journal.failures).toBeGreaterThan(0);
    // The failed tickets never existed: numbering goes on from the last durable one.
    const next = await requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' });
    expect(next).toMatchObject({ status: 'ok', data: { ticket: { number: 'A002' } } });
  });

  it("a group's frames all go out before any of its MQTT events and answers; each channel keeps the command order", async () => {
    hall = await startTestDaemon({ windows: 2 });
    const { daemon } = hall;
    const order: string[] = [];
    const offFrames = daemon.hall.dispatcher.on('frames', (events) => order.push(`frames ${events[0]!.seq}`));
    const offMqtt = daemon.hall.dispatcher.on('mqtt', (events) => order.push(`mqtt ${events[0]!.seq}`));
    try {
      // Submitted in one turn: one group.
      const results = await Promise.all(
        Array.from({ length: 6 }, () => daemon.hall.submit({ type: 'issue', serviceId: 'social-security', channel: 'kiosk' })).map((p) =>
          p.then((result) => {
            order.push('answer');
            return result;
          }),
        ),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      const seqs = results.map((r) => (r.ok ? r.events[0]!.seq : 0));
      expect(order).toEqual([...seqs.map((seq) => `frames ${seq}`), ...seqs.map((seq) => `mqtt ${seq}`), ...seqs.map(() => 'answer')]);
    } finally {
      offFrames();
      offMqtt();
    }
  });

  it("a command executed between a group's frames and its other outputs waits for them: MQTT events stay in seq order", async () => {
    hall = await startTestDaemon({ windows: 2 });
    const { daemon } = hall;
    const published: number[] = [];
    let cutIn: Promise<number> | undefined;
    const offFrames = daemon.hall.dispatcher.on('frames', () => {
      // Runs before the group's other outputs (they wait for the next turn): cut in there.
      cutIn ??= new Promise((resolve) => setImmediate(() => resolve(daemon.hall.execute({ type: 'issue', serviceId: 'social-security', channel: 'kiosk' }).ok ? 1 : 0)));
    });
    const offMqtt = daemon.hall.dispatcher.on('mqtt', (events) => published.push(...events.map((e) => e.seq)));
    try {
      await Promise.all(Array.from({ length: 4 }, () => daemon.hall.submit({ type: 'issue', serviceId: 'social-security', channel: 'kiosk' })));
      expect(await cutIn).toBe(1);
      expect(published).toHaveLength(5);
      expect(published).toEqual([...published].sort((a, b) => a - b));
    } finally {
      offFrames();
      offMqtt();
    }
  });

  it('a stage that throws is counted in health and the other stages and later commands still run', async () => {
    hall = await startTestDaemon({ windows: 2 });
    const { daemon } = hall;
    const requester = hall.operator.requester;
    const off = daemon.hall.dispatcher.on('frames', () => {
      throw new Error('driver bug');
    });
    const events = await hall.connectAs('observer');
    const seen: string[] = [];
    events.on('message', (topic, payload) => {
      if (topic === `${hall!.base}/event`) seen.push((JSON.parse(payload.toString()) as { type: string }).type);
    });
    await events.subscribeAsync(`${hall.base}/event`, { qos: 1 });
    expect((await requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' })).status).toBe('ok');
    expect((await requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' })).status).toBe('ok');
    off();
    const health = await requester.request('health');
    expect(health.data).toMatchObject({ stages: { frames: { failures: 2 }, mqtt: { failures: 0 } } });
    // The MQTT stage ran regardless of the frames stage's failure.
    await eventually(() => seen.filter((t) => t === 'ticket.issued').length === 2, 'both ticket.issued events on MQTT');
  });
});
