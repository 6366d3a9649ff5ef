import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Stand-ins for Debian's libgpiod v1 tools (`gpioset`, `gpiomon`) as real programs on PATH, for a
 * box with no GPIO chip (no /dev/gpiochip*, no gpio-sim module). They behave as the real v1 tools
 * do where it matters to us, written from their manual, not from our code:
 *   gpioset [--mode=signal] [--active-low] CHIP LINE=VALUE
 *     requests the line (refused "Device or resource busy" while another gpioset holds it), sets
 *     it, and in signal mode holds it until SIGTERM/SIGINT; without a mode it exits at once and
 *     the line is released.
 *   gpiomon [--active-low] [--line-buffered] [--format=FMT] CHIP LINE
 *     prints one line per edge; here the edges are the lines a test appends with press().
 * A held line is the file <dir>/lines/CHIP-LINE holding "VALUE PID ACTIVE_LOW", removed on release.
 */
export class FakeGpiod {
  readonly dir: string;
  readonly binDir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'fake-gpiod-'));
    this.binDir = join(this.dir, 'bin');
    const linesDir = join(this.dir, 'lines');
    mkdirSync(this.binDir);
    mkdirSync(linesDir);
    writeScript(
      join(this.binDir, 'gpioset'),
      `#!/bin/bash
lines='${linesDir}'
if [ "$1" = "--version" ]; then echo "gpioset (libgpiod) v1.6.3"; exit 0; fi
echo "$*" >> '${join(this.dir, 'gpioset.log')}'
mode=exit; low=0; pos=()
for a in "$@"; do
  case "$a" in
    --mode=*) mode="\${a#--mode=}";;
    --active-low|-l) low=1;;
    -*) echo "gpioset: unrecognized option '$a'" >&2; exit 1;;
    *) pos+=("$a");;
  esac
done
chip="\${pos[0]}"; spec="\${pos[1]}"
case "$spec" in *=0|*=1) ;; *) echo "gpioset: invalid offset<->value mapping: $spec" >&2; exit 1;; esac
line="\${spec%%=*}"; value="\${spec#*=}"
file="$lines/$chip-$line"
if [ -f "$file" ]; then
  read -r _ holder _ < "$file"
  if kill -0 "$holder" 2>/dev/null; then echo "gpioset: error setting the GPIO line values: Device or resource busy" >&2; exit 1; fi
fi
echo "$value $$ $low" > "$file.tmp" && mv "$file.tmp" "$file"
if [ "$mode" != "signal" ]; then rm -f "$file"; exit 0; fi
release() { rm -f "$file"; kill "$sleeper" 2>/dev/null; exit 0; }
trap release TERM INT
while :; do sleep 5 & sleeper=$!; wait "$sleeper"; done
`,
    );
    writeScript(
      join(this.binDir, 'gpiomon'),
      `#!/bin/bash
if [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) v1.6.3"; exit 0; fi
pos=()
for a in "$@"; do case "$a" in -*) ;; *) pos+=("$a");; esac; done
events='${this.dir}'/"events-\${pos[0]}-\${pos[1]}"
touch "$events"
exec tail -n +1 -F "$events" 2>/dev/null
`,
    );
  }

  /** PATH with the fake tools first. */
  get path(): string {
    return `${this.binDir}${delimiter}${process.env.PATH ?? ''}`;
  }

  /** Puts the fake tools first on this process's PATH (the daemon in this process spawns them). */
  install(): () => void {
    const before = process.env.PATH;
    process.env.PATH = this.path;
    return () => {
      process.env.PATH = before;
    };
  }

  /** The line as a holder keeps it, or undefined when no process holds it. */
  held(chip: string, line: number): { value: 0 | 1; pid: number; activeLow: boolean } | undefined {
    const file = join(this.dir, 'lines', `${chip}-${line}`);
    if (!existsSync(file)) return undefined;
    const [value, pid, low] = readFileSync(file, 'utf8').trim().split(' ').map(Number);
    if (!alive(pid!)) return undefined;
    return { value: value === 1 ? 1 : 0, pid: pid!, activeLow: low === 1 };
  }

  /** Every gpioset command line run so far. */
  gpiosetCalls(): string[] {
    const file = join(this.dir, 'gpioset.log');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
  }

  /** A button press on CHIP LINE as gpiomon v1 prints it with our format: rising edge, then falling 200 ms later. */
  press(chip: string, line: number, atSeconds = Date.now() / 1000): void {
    const sec = Math.floor(atSeconds);
    appendFileSync(join(this.dir, `events-${chip}-${line}`), `${line} 1 ${sec} 0\n${line} 0 ${sec} 200000000\n`);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function writeScript(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}
