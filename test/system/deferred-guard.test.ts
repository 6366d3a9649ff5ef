import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { issueTicketsOverMqtt, loginAll, startHallRig, type HallRig } from '../../bench/call-next-rig.js';
import { connect } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { TEST_USERS } from '../support/hall-config.js';

/**
 * Work deferred after a commit (the LED driver's window push, the counter pads' ACK and display
 * refresh, the MQTT API's event publish) runs after the code that scheduled it has returned,
 * outside any try/catch of the event bus. Here each of them throws once in the real daemon
 * process (HALL_EDGE_TEST_FAULT_IN_DEFERRED, src/platform/test-fault-hook.ts): without the
 * guards (src/platform/deferred.ts, OutputDispatcher.defer) the first throw is an uncaught
 * exception and the daemon exits; with them it is logged and counted and the hall carries on.
 */
const FAULTS = ['LED window push', 'counter-pad ack', 'counter-pad display refresh', 'mqtt stage'];

describe('deferred work after a commit, guarded', () => {
  let rig: HallRig | undefined;
  let observer: MqttClient | undefined;
  afterEach(async () => {
    await observer?.endAsync(true);
    observer = undefined;
    await rig?.close();
    rig = undefined;
  });

  it('a throw inside deferred device and MQTT work is logged and counted, and the daemon keeps running', async () => {
    rig = await startHallRig({ windows: 2, separateProcess: true, keepDaemonLog: true, env: { HALL_EDGE_TEST_FAULT_IN_DEFERRED: FAULTS.join(',') } });
    const hall = rig;
    let exited = false;
    void hall.daemonExited!.then(() => (exited = true));
    const states = new Map<string, Record<string, unknown>>();
    observer = await connect(hall.mqttUrl, TEST_USERS.observer.username, TEST_USERS.observer.password);
    observer.on('message', (topic, payload) => {
      const deviceId = topic.slice(`${hall.baseTopic}/device/`.length);
      if (!deviceId.includes('/')) states.set(deviceId, JSON.parse(payload.toString()) as Record<string, unknown>);
    });
    await observer.subscribeAsync(`${hall.baseTopic}/device/+`, { qos: 1 });

    // The first ACK is lost to the fault; the pad resends and gets the recorded answer.
    await loginAll(hall);
    await issueTicketsOverMqtt(hall, 5);
    const first = await hall.padOf('w01').sim.press(hall.padOf('w01').address, 'NEXT');
    expect(first.ok).toBe(true);
    const second = await hall.padOf('w02').sim.press(hall.padOf('w02').address, 'NEXT');
    expect(second.ok).toBe(true);
    // Everything after the faults still works: the last call reached its LED display.
    await eventually(() => hall.led.textOf(hall.ledAddressOf('w02'))?.startsWith(second.text!), 'the LED display of w02 shows its call');
    // And both pads' own displays follow, the one whose ACK was lost to the fault included.
    const padShows = (windowId: string, text: string) => hall.padOf(windowId).sim.displayOf(hall.padOf(windowId).address)?.line1.startsWith(text) === true;
    await eventually(() => padShows('w01', first.text!) && padShows('w02', second.text!), 'both pads show their calls');
    // NEXT again at both windows finishes their tickets: both pads get the rating prompt.
    for (const windowId of ['w01', 'w02']) expect((await hall.padOf(windowId).sim.press(hall.padOf(windowId).address, 'NEXT')).ok).toBe(true);
    const prompted = (windowId: string, ticket: string) => hall.padOf(windowId).sim.view(hall.padOf(windowId).address).rateRequest?.ticket === ticket;
    await eventually(() => prompted('w01', first.text!) && prompted('w02', second.text!), 'both pads prompt for a rating');

    // Still running, still answering, and each fault counted where operators read health.
    expect(exited).toBe(false);
    const health = await hall.operator.request('health');
    expect(health.status).toBe('ok');
    const stages = (health.data as { stages: Record<string, { runs: number; failures: number }> }).stages;
    expect(stages.mqtt!.failures).toBe(1);
    expect(stages.mqtt!.runs).toBeGreaterThan(1);
    await eventually(() => states.get('led-bus-1')?.deferredFailures === 1 && states.get('pads-1')?.deferredFailures === 2, 'deferred failures in the devices\' state');

    // And logged, naming the work that failed.
    const logged = hall.daemonLog.flatMap((line) => {
      try {
        return [JSON.parse(line) as { msg?: string; task?: string; stage?: string }];
      } catch {
        return [];
      }
    });
    const deviceFailures = logged.filter((l) => l.msg === 'deferred device work failed; the daemon carries on').map((l) => l.task);
    expect(deviceFailures.sort()).toEqual(['LED window push', 'counter-pad ack', 'counter-pad display refresh']);
    expect(logged.filter((l) => l.msg === 'mqtt stage failed after a commit')).toHaveLength(1);
    expect(logged.some((l) => /uncaught exception/.test(l.msg ?? ''))).toBe(false);
  });
});
