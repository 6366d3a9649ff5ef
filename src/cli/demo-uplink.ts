import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uplinkSection, type UplinkSection } from '../config/uplink-section.js';
import { formatIssues } from '../config/format-issues.js';

/**
 * `hall-edge demo --uplink mqtt://[user:pass@]host:port`: the demo hall's uplink in one flag.
 * The password goes into a file in the demo's state dir (mode 0600), as a real config keeps it,
 * so the demo runs the same code path as a hall.
 */
export function demoUplinkSection(value: string, stateDir: string): UplinkSection {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`--uplink: "${value}" is not a URL (expected mqtt://[user:password@]host:port)`);
  }
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const raw: Record<string, unknown> = { url: url.toString().replace(/\/$/, ''), reconnectMaxSeconds: 5 };
  if (username) raw.username = username;
  if (password) {
    const passwordFile = join(stateDir, 'uplink-password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    raw.passwordFile = passwordFile;
  }
  const parsed = uplinkSection.safeParse(raw);
  if (!parsed.success) throw new Error(`--uplink: ${formatIssues(parsed.error.issues).join('; ')}`);
  return parsed.data;
}
