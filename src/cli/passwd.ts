import { parseArgs } from 'node:util';
import { hashPassword } from '../bus/password.js';

/** Prints a scrypt hash for the config's `users[].passwordHash`. */
export async function passwdCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { password: { type: 'string', short: 'p' } }, strict: true });
  let password = values.password;
  if (password === undefined) {
    if (process.stdin.isTTY) process.stderr.write('Password (input is not hidden; pipe it in to keep it off the screen): ');
    password = (await readStdin()).replace(/\r?\n$/, '');
  }
  if (password.length < 8) {
    process.stderr.write('hall-edge passwd: use at least 8 characters\n');
    return 1;
  }
  process.stdout.write(`${hashPassword(password)}\n`);
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (process.stdin.isTTY && Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}
