import { describe, expect, it } from 'vitest';
import { deployedRuntime, parseUnitRuntime } from '../support/deployed-runtime.js';

describe('the systemd unit as the benches read it', () => {
  it("takes node's flags (before the script) from ExecStart and every variable of Environment=", () => {
    const unit = ['[Service]', 'ExecStart=/usr/bin/node --a=1 --b /opt/x/main.js run --config /etc/y.yaml', 'Environment=NODE_ENV=production K=v MALLOC_X_=7', ''].join('\n');
    expect(parseUnitRuntime(unit)).toEqual({ nodeArgs: ['--a=1', '--b'], env: { NODE_ENV: 'production', K: 'v', MALLOC_X_: '7' } });
  });

  it('the shipped unit caps the young generation and fixes the malloc mmap threshold (the memory budget relies on both)', () => {
    const runtime = deployedRuntime();
    expect(runtime.nodeArgs).toContain('--max-semi-space-size=2');
    expect(runtime.env.MALLOC_MMAP_THRESHOLD_).toBe('1048576');
    expect(runtime.env.NODE_ENV).toBeUndefined();
  });
});
