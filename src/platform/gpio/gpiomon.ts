/**
 * Argument building and output parsing for libgpiod's `gpiomon`, pure so it can be tested
 * without a GPIO chip. v1 (Debian bookworm, libgpiod 1.6) and v2 take different flags; we pick
 * the output format ourselves so the parsing does not depend on the version's default.
 */
export type GpiodMajor = 1 | 2;

export interface MonitorSpec {
  chip: string;
  line: number;
  activeLow: boolean;
}

export function gpiomonArgs(version: GpiodMajor, spec: MonitorSpec): string[] {
  if (version === 1) {
    // gpiomon [-l] -b -F FMT CHIP OFFSET ; %e = 1 rising / 0 falling, %s.%n = timestamp
    return [...(spec.activeLow ? ['--active-low'] : []), '--line-buffered', '--format=%o %e %s %n', spec.chip, String(spec.line)];
  }
  // v2: gpiomon -c CHIP [-l] -F FMT OFFSET ; %E = rising|falling, %S = seconds.nanoseconds
  return ['--chip', spec.chip, ...(spec.activeLow ? ['--active-low'] : []), '--format=%o %E %S', String(spec.line)];
}

export interface EdgeEvent {
  line: number;
  /** Logical level after the edge: true = active (pressed). */
  active: boolean;
  atMs: number;
}

/** One line of output as formatted by gpiomonArgs; undefined for anything else. */
export function parseGpiomonLine(version: GpiodMajor, text: string): EdgeEvent | undefined {
  const parts = text.trim().split(/\s+/);
  if (version === 1) {
    if (parts.length !== 4) return undefined;
    const [line, edge, sec, nsec] = parts.map(Number) as [number, number, number, number];
    if (![line, edge, sec, nsec].every(Number.isFinite) || (edge !== 0 && edge !== 1)) return undefined;
    return { line, active: edge === 1, atMs: sec * 1000 + nsec / 1e6 };
  }
  if (parts.length !== 3) return undefined;
  const line = Number(parts[0]);
  const edge = parts[1];
  const at = Number(parts[2]);
  if (!Number.isFinite(line) || !Number.isFinite(at) || (edge !== 'rising' && edge !== 'falling')) return undefined;
  return { line, active: edge === 'rising', atMs: at * 1000 };
}

/** Reads the major version from `gpiomon --version` ("gpiomon (libgpiod) v1.6.3" / "gpiomon (libgpiod) v2.1"). */
export function parseGpiodVersion(text: string): GpiodMajor | undefined {
  const match = /v(\d+)\.\d+/.exec(text);
  if (!match) return undefined;
  return match[1] === '1' ? 1 : match[1] === '2' ? 2 : undefined;
}

/**
 * Arguments for a `gpioset` that drives the line and then keeps holding it until it is sent
 * SIGTERM: a one-shot gpioset releases the line when it exits, and what the line does then is up
 * to the chip (many fall back to input, and the relay drops). v1 needs `--mode=signal` for that;
 * v2 holds by default (no `--toggle`, no `--daemonize`).
 */
export function gpiosetHoldArgs(version: GpiodMajor, spec: MonitorSpec, active: boolean): string[] {
  const value = `${spec.line}=${active ? 1 : 0}`;
  if (version === 1) return ['--mode=signal', ...(spec.activeLow ? ['--active-low'] : []), spec.chip, value];
  return ['--chip', spec.chip, ...(spec.activeLow ? ['--active-low'] : []), '--consumer', 'hall-edge', value];
}
