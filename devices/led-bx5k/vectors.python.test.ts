import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const checker = fileURLToPath(new URL('../../firmware-protocols/tools/check_led_bx5k_vectors.py', import.meta.url));
const vectorsPath = fileURLToPath(new URL('../../firmware-protocols/vectors/led-bx5k.json', import.meta.url));

function run(path?: string): { status: number; out: string } {
  try {
    return { status: 0, out: execFileSync('python3', [checker, ...(path ? [path] : [])], { encoding: 'utf8' }) };
  } catch (err) {
    const e = err as { status: number; stdout: string };
    return { status: e.status, out: e.stdout };
  }
}

/** The vectors against firmware-protocols/led-bx5k.md, checked by a Python program that shares no code with the codec. */
describe('BX-5K vectors, independently checked', () => {
  it('every vector agrees with the document (CRC, escaping, frame, header fields)', () => {
    const { status, out } = run();
    expect(out).toContain('"failures": 0');
    expect(status).toBe(0);
  });

  it('the checker catches a vector with one wrong byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bx5k-'));
    try {
      const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8')) as { requests: Array<{ packet: string }> };
      const packet = vectors.requests[0]!.packet;
      vectors.requests[0]!.packet = `${packet.slice(0, -6)}${packet.slice(-6, -4) === 'ff' ? '00' : 'ff'}${packet.slice(-4)}`;
      const path = join(dir, 'tampered.json');
      writeFileSync(path, JSON.stringify(vectors));
      const { status, out } = run(path);
      expect(status).toBe(1);
      expect(out).toMatch(/CRC-16\/ARC does not match/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
