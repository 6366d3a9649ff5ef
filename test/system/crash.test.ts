import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { writeTestHall, TEST_USERS } from '../support/hall-config.js';
import { connect, Requester, startDaemonProcess, type DaemonProcess, type Response } from '../support/daemon-process.js';

const BASE = 'hall/test-hall';
const ROUNDS = 5;
/** Starting a daemon process on a 2-core box that runs other work can take many seconds. */
const START_TIMEOUT_MS = 60_000;
const BURST = 60;

describe('power cut: SIGKILL during a burst', () => {
  let daemon: DaemonProcess | undefined;
  let client: MqttClient | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    client?.end(true);
    daemon?.proc.kill('SIGKILL');
    if (daemon) await daemon.exited;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged ticket exactly once and never reuses a number', async () => {
    const hall = writeTestHall({ windows: 8 });
    dir = hall.dir;
    const acknowledgedIssues: string[] = [];
    const acknowledgedCalls: string[] = [];
    const op = TEST_USERS.operator;

    for (let round = 0; round < ROUNDS; round++) {
      daemon = await startDaemonProcess(hall.file, hall.dir, START_TIMEOUT_MS);
      client = await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, op.username, op.password);
      const requester = new Requester(client, BASE);
      await requester.ready();
      if (round === 0) {
        for (let w = 1; w <= 8; w++) {
          const r = await requester.request('login', { windowId: `w0${w}`, staffId: `staff-${w}` });
          expect(r.status).toBe('ok');
        }
      }
      // A burst of pipelined requests; the daemon is killed right after the K-th answer, so some
      // requests are answered, some committed but unanswered, some never run — whatever the
      // speed of the box (counting answers, not milliseconds).
      const killAfter = 5 + Math.floor(Math.random() * 30);
      let answers = 0;
      let killed = false;
      const proc = daemon.proc;
      const kill = () => {
        if (killed) return;
        killed = true;
        proc.kill('SIGKILL');
      };
      const inFlight: Array<Promise<void>> = [];
      const services = ['social-security', 'medical-insurance', 'retirement'];
      for (let i = 0; i < BURST; i++) {
        const isCall = i % 4 === 3;
        const promise = isCall
          ? requester.request('call-next', { windowId: `w0${(i % 8) + 1}` }, 60_000)
          : requester.request('issue', { serviceId: services[i % 3], channel: 'kiosk' }, 60_000);
        inFlight.push(
          promise.then(
            (response: Response) => {
              // The answer was received: it counts even if the kill below lands at once.
              if (++answers >= killAfter) kill();
              if (response.status !== 'ok') return;
              const ticket = (response.data as { ticket?: { number: string } | null }).ticket;
              if (!ticket) return;
              (isCall ? acknowledgedCalls : acknowledgedIssues).push(ticket.number);
            },
            () => undefined, // no answer: the daemon died first; the ticket may or may not exist
          ),
        );
      }
      const exited = daemon.exited.then(() => requester.abandon('daemon killed'));
      await Promise.all(inFlight);
      kill(); // answered everything before the K-th answer could count (cannot happen: K < BURST)
      await exited;
      expect(answers).toBeGreaterThanOrEqual(killAfter);
      client.end(true);
      client = undefined;
    }

    daemon = await startDaemonProcess(hall.file, hall.dir, START_TIMEOUT_MS);
    client = await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, op.username, op.password);
    const requester = new Requester(client, BASE);
    await requester.ready();
    const listing = await requester.request('tickets');
    expect(listing.status).toBe('ok');
    const tickets = (listing.data as { tickets: Array<{ number: string; state: string }> }).tickets;
    const numbers = tickets.map((t) => t.number);

    // The test must have had something to check.
    expect(acknowledgedIssues.length).toBeGreaterThan(20);
    // Exactly once: no number appears twice, and every acknowledged ticket is there.
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const number of acknowledgedIssues) expect(numbers).toContain(number);
    // Acknowledged calls survived: those tickets are no longer waiting.
    const byNumber = new Map(tickets.map((t) => [t.number, t]));
    for (const number of acknowledgedCalls) expect(byNumber.get(number)?.state).not.toBe('waiting');
    // Numbering has no gaps or repeats per service, and continues after the last crash.
    for (const prefix of ['A', 'B', 'C']) {
      const serials = numbers.filter((n) => n.startsWith(prefix)).map((n) => Number(n.slice(1))).sort((a, b) => a - b);
      expect(serials).toEqual(serials.map((_, i) => i + 1));
    }
    const next = await requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' });
    const aCount = numbers.filter((n) => n.startsWith('A')).length;
    expect((next.data as { ticket: { number: string } }).ticket.number).toBe(`A${String(aCount + 1).padStart(3, '0')}`);
  }, 600_000);
});
