import { afterEach, describe, expect, it } from 'vitest';
import { runInWorker } from '../../src/hall/simulate-request.js';
import { silentLogger } from '../../src/platform/logger.js';
import { RequestError } from '../../src/bus/bridge.js';
import { Requester } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { smallModel } from '../support/model.js';

/** `bridge/request/simulate`: what-if runs for admins, in a worker thread, over real MQTT. */
describe('simulate request', () => {
  let hall: TestDaemon | undefined;
  afterEach(async () => {
    await hall?.close();
    hall = undefined;
  });

  it('answers an admin with the variants, the target answer and the chart, while the live hall keeps working', async () => {
    hall = await startTestDaemon({ windows: 4 });
    const admin = new Requester(await hall.connectAs('admin'), hall.base);
    await admin.ready();
    const order: string[] = [];
    hall.operator.client.on('message', (topic, payload) => {
      if (topic.endsWith('/event') && (JSON.parse(payload.toString()) as { type: string }).type === 'ticket.issued') order.push('ticket.issued');
    });
    await hall.operator.client.subscribeAsync(`${hall.base}/event`, { qos: 1 });
    const simulate = admin.request('simulate', { tickets: 300, profile: 'morning-peak', windows: '3..8', days: 8, targetP90: 15 }, 60_000).then((r) => {
      order.push('simulate');
      return r;
    });
    // The run is in a worker: the hall takes a ticket, journals it and tells the hall meanwhile.
    // (Its answer to the operator follows the bridge's answer order, behind the run's.)
    const issue = hall.operator.requester.request('issue', { serviceId: 'social-security' }, 60_000);
    await eventually(() => order.includes('ticket.issued'), 'the ticket.issued event while the simulation runs', 30_000);
    const answer = await simulate;
    expect(order).toEqual(['ticket.issued', 'simulate']);
    expect((await issue).status).toBe('ok');
    expect(answer.status).toBe('ok');
    const data = answer.data as { variants: Array<{ windows: number; overall: { issued: number; waitP90: number } }>; target: { p90Minutes: number; windows?: number }; svg: string; days: number };
    expect(data.days).toBe(8);
    expect(data.variants.map((v) => v.windows)).toEqual([3, 4, 5, 6, 7, 8]);
    for (const v of data.variants) expect(v.overall.issued).toBe(300);
    // More windows never make the hall's p90 worse on the same visitors (common random numbers).
    const p90s = data.variants.map((v) => v.overall.waitP90);
    expect(p90s[5]!).toBeLessThanOrEqual(p90s[0]!);
    expect(data.target.p90Minutes).toBe(15);
    expect(data.svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });

  it('is refused to operators, checks its payload, and explains a bad variant', async () => {
    hall = await startTestDaemon({ windows: 2 });
    expect(await hall.operator.requester.request('simulate', { tickets: 10 })).toMatchObject({ status: 'error', code: 'forbidden' });
    const admin = new Requester(await hall.connectAs('admin'), hall.base);
    await admin.ready();
    expect(await admin.request('simulate', { tickets: 10, profile: 'rush-hour' })).toMatchObject({ status: 'error', code: 'bad-request' });
    expect(await admin.request('simulate', { tickets: 10, skills: ['w99=nothing'] }, 30_000)).toMatchObject({ status: 'error', code: 'bad-request', error: expect.stringContaining('unknown') });
    expect(await admin.request('simulate', {}, 30_000)).toMatchObject({ status: 'error', code: 'bad-request', error: expect.stringContaining('exactly one source of arrivals') });
  });

  it('stops a run at its time limit and says so', async () => {
    const run = runInWorker({ model: smallModel(), request: { tickets: 2000, days: 20, windows: '1..10' } }, 1, silentLogger());
    await expect(run).rejects.toBeInstanceOf(RequestError);
    await expect(run).rejects.toMatchObject({ code: 'timeout' });
  });
});
