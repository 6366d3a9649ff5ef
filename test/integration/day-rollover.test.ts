import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type RunningDaemon } from '../../src/hall/daemon.js';
import { silentLogger } from '../../src/platform/logger.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { Journal } from '../../src/journal/journal.js';
import { testHallConfig } from '../support/hall-config.js';


/** A hall with a real journal and a clock the test moves: a working day, the night, the next morning. */
describe('day rollover in the running daemon', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('expires what is left, compacts the day\'s statistics, restarts numbering, and restarts from the new day only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hall-rollover-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const raw = testHallConfig({ windows: 2, ws: false });
    // A real hall: numbers restart at 04:00 Shanghai time, open 08:30-17:30 every day.
    Object.assign(raw.hall as object, { timeZone: 'Asia/Shanghai', dayStartsAt: '04:00', openingHours: { open: '08:30', close: '17:30' } });
    const config = parseConfig(stringify({ ...raw, stateDir: join(dir, 'state') }), join(dir, 'hall.yaml'), { deviceKinds: deviceKindSchemas() });

    let now = Date.UTC(2026, 10, 23, 1, 0); // Monday 09:00 in Shanghai
    const start = async (): Promise<RunningDaemon> => {
      const daemon = await startDaemon({ config, log: silentLogger(), now: () => now, tickMs: 60_000 });
      cleanup.push(() => daemon.stop());
      return daemon;
    };
    let daemon = await start();
    const run = (command: Parameters<RunningDaemon['hall']['execute']>[0]) => daemon.hall.execute(command);

    expect(run({ type: 'login', windowId: 'w01', staffId: 'zhang' }).ok).toBe(true);
    for (let i = 0; i < 4; i++) expect(run({ type: 'issue', serviceId: 'social-security', channel: 'kiosk' }).ok).toBe(true);
    now += 5 * 60_000;
    run({ type: 'call-next', windowId: 'w01' });
    now += 8 * 60_000;
    run({ type: 'finish', windowId: 'w01' });
    run({ type: 'rate', windowId: 'w01', rating: 5 });

    // 17:31: closing time expires the three still waiting.
    now = Date.UTC(2026, 10, 23, 9, 31);
    daemon.hall.tick();
    expect([...daemon.hall.engine.allTickets()].filter((t) => t.state === 'expired').map((t) => t.number)).toEqual(['A002', 'A003', 'A004']);
    expect(run({ type: 'issue', serviceId: 'social-security', channel: 'kiosk' })).toMatchObject({ ok: false, code: 'hall-closed' });
    await daemon.stop();

    // Tuesday 08:00: the daemon comes back, replays Monday, rolls over, compacts Monday's figures.
    now = Date.UTC(2026, 10, 24, 0, 0);
    daemon = await start();
    expect(daemon.hall.engine.currentDay()).toBe('2026-11-24');
    const issued = run({ type: 'issue', serviceId: 'social-security', channel: 'kiosk' });
    expect(issued).toMatchObject({ ok: true, ticket: { number: 'A001', day: '2026-11-24' } });
    const monday = daemon.api.dayStats('2026-11-23');
    expect(monday.total).toMatchObject({ issued: 4, served: 1, expired: 3 });
    expect(monday.total.ratings.split['5']).toBe(1);
    await daemon.stop();

    // The compacted statistics are stored; a restart reads only Tuesday's events.
    const journal = Journal.open(join(dir, 'state', 'journal.db'), silentLogger());
    try {
      expect(journal.dailyStats('2026-11-23')?.total.issued).toBe(4);
      expect(journal.days()).toEqual(['2026-11-23', '2026-11-24']);
    } finally {
      journal.close();
    }
    daemon = await start();
    expect(daemon.hall.engine.issuedCount('social-security')).toBe(1);
    expect(daemon.hall.statsToday().total.issued).toBe(1);
  });
});
