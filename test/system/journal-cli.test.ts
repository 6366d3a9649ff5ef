import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { stringify } from 'yaml';
import { join } from 'node:path';
import { CLI, requireBuild } from '../support/daemon-process.js';
import { startTestDaemon } from '../support/in-process-daemon.js';
import { testHallConfig } from '../support/hall-config.js';
import { Requester } from '../support/daemon-process.js';
import { loadConfig } from '../../src/config/load.js';
import { startDaemon } from '../../src/hall/daemon.js';
import { silentLogger } from '../../src/platform/logger.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  requireBuild();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, HALL_EDGE_LOG_JSON: '1' }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

describe('hall-edge journal verify | recover | export, and backups', () => {
  it('backs up on request (admin only), verifies, exports a day, and recovers a damaged journal into a new file that restarts above the watermark', async () => {
    const test = await startTestDaemon({ ws: false });
    const state = join(test.dir, 'state');
    const journal = join(state, 'journal.db');
    const issued: string[] = [];
    let day = '';
    try {
      const { requester } = test.operator;
      for (let i = 0; i < 30; i++) {
        const answer = await requester.request('issue', { serviceId: i % 2 ? 'social-security' : 'medical-insurance', channel: 'kiosk' });
        issued.push((answer.data as { ticket: { number: string; day: string } }).ticket.number);
        day = (answer.data as { ticket: { day: string } }).ticket.day;
      }
      // Only an admin may ask for a backup.
      const refused = await requester.request('backup');
      expect(refused).toMatchObject({ status: 'error', code: 'forbidden' });
      const admin = new Requester(await test.connectAs('admin'), test.base);
      await admin.ready();
      const backup = await admin.request('backup', {}, 30_000);
      expect(backup.status, backup.error).toBe('ok');
      const file = (backup.data as { file: string; lastSeq: number }).file;
      expect(file.startsWith(join(state, 'backups'))).toBe(true);
      expect(statSync(file).size).toBeGreaterThan(0);
      // Tickets after the backup: only the damaged journal and the watermark know them.
      for (let i = 0; i < 10; i++) {
        const answer = await requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' });
        issued.push((answer.data as { ticket: { number: string } }).ticket.number);
      }
    } finally {
      await test.daemon.stop();
    }
    cleanups.push(() => rmSync(test.dir, { recursive: true, force: true }));
    const config = join(test.dir, 'hall.yaml');
    writeFileSync(config, stringify({ ...testHallConfig({ ws: false }), stateDir: state }));

    const verified = await cli(['journal', 'verify', '--config', config]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/integrity check: ok/);
    expect(verified.stdout).toMatch(/seq: continuous/);
    expect(verified.stdout).toMatch(/result: OK/);

    const exported = await cli(['journal', 'export', '--config', config, '--day', day]);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; type: string; ticket?: { number: string } });
    expect(lines.filter((e) => e.type === 'ticket.issued').map((e) => e.ticket!.number)).toEqual(issued);
    expect(lines.map((e) => e.seq)).toEqual(lines.map((_, i) => lines[0]!.seq + i));
    expect((await cli(['journal', 'export', '--config', config, '--day', 'yesterday'])).code).toBe(2);

    // Damage: bytes changed in the middle of the file (the daemon checkpointed it on stop).
    const fd = openSync(journal, 'r+');
    writeSync(fd, Buffer.alloc(3000, 0x5a), 0, 3000, Math.floor(statSync(journal).size / 2));
    closeSync(fd);
    const damaged = await cli(['journal', 'verify', '--config', config]);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toMatch(/✗/);
    expect(damaged.stdout).toMatch(/hall-edge journal recover/);

    const out = join(test.dir, 'recovered.db');
    const recovered = await cli(['journal', 'recover', '--config', config, '--out', out]);
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stdout).toContain(`wrote ${out}`);
    expect(recovered.stdout).toMatch(/from the backup .*journal-.*\.db/);
    expect(recovered.stdout).toContain(`mv ${out} ${journal}`);
    // Never in place, never over an existing file.
    expect((await cli(['journal', 'recover', '--config', config, '--out', out])).stderr).toMatch(/already exists/);
    const again = await cli(['journal', 'verify', '--file', out]);
    expect(again.stdout).toMatch(/integrity check: ok/);

    // Put it in place as the report says; the watermark still keeps numbering above what was issued.
    renameSync(journal, `${journal}.damaged`);
    if (existsSync(`${journal}-wal`)) rmSync(`${journal}-wal`);
    renameSync(out, journal);
    const daemon = await startDaemon({ config: loadConfig(config, { deviceKinds: deviceKindSchemas() }), log: silentLogger(), acceptJournalLoss: true });
    try {
      const next = daemon.hall.execute({ type: 'issue', serviceId: 'social-security', channel: 'kiosk' });
      expect(next.ok).toBe(true);
      const number = next.ok ? next.ticket!.number : '';
      expect(issued).not.toContain(number);
      expect(Number(number.slice(1))).toBeGreaterThan(Math.max(...issued.filter((n) => n[0] === 'A').map((n) => Number(n.slice(1)))));
    } finally {
      await daemon.stop();
    }
    expect(readdirSync(join(state, 'backups')).filter((n) => n.endsWith('.db'))).toHaveLength(1);
  }, 180_000);
});
