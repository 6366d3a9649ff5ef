/**
 * The one way tests wait: polls `check` until it returns a value (not undefined/false) or stops
 * throwing (assertions can be the check), or the deadline passes. The deadline is generous on
 * purpose: it only decides how long a FAILING test takes to say so, so it may be long enough for
 * a 2-core box that runs other work beside the suite; a passing test returns as soon as the
 * condition holds. The error names what was awaited and the check's last failure.
 */
export async function eventually<T>(check: () => T | undefined | false, what: string, timeoutMs = 20_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let lastFailure: string | undefined;
    try {
      const value = check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastFailure = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastFailure ? `: ${lastFailure}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
