import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../platform/logger.js';

export const SECRET_FILE = 'ticket-page.secret';

/**
 * The hall secret behind the ticket links: the config's `dashboard.ticketSecret`, else a random
 * one kept in `<stateDir>/ticket-page.secret` (mode 0600) — beside the journal, never in it, so
 * an exported or uplinked journal does not let anyone forge links. Lose the file and the QR
 * codes already printed today stop opening their page (a new secret is made).
 */
export function loadTicketSecret(stateDir: string, fromConfig: string | undefined, log: Logger): Buffer {
  if (fromConfig !== undefined) return Buffer.from(fromConfig, 'utf8');
  const file = join(stateDir, SECRET_FILE);
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
    log.warn({ file }, 'ticket page secret file is not 64 hex digits: making a new one (links printed before no longer open)');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the ticket page secret ${file}: ${(err as Error).message}`);
  }
  const secret = randomBytes(32);
  const temp = `${file}.tmp`;
  writeFileSync(temp, `${secret.toString('hex')}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
  log.info({ file }, 'ticket page secret created');
  return secret;
}
