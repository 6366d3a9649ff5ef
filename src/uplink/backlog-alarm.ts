/** When the uplink's `uplink.backlog` alarm should be up, and what it says. Pure. */
export interface LinkState {
  connected: boolean;
  /** When the link was last up (or the uplink started, if it never was), epoch ms. */
  lastUpAt: number;
  /** Journaled events the central broker has not acknowledged. */
  backlog: number;
}

export interface BacklogLimits {
  unreachableSeconds: number;
  backlogEvents: number;
}

export const BACKLOG_ALARM_CODE = 'uplink.backlog';

/**
 * The alarm's text, or undefined when it should be clear. The text depends only on which
 * condition holds, not on the running figures: a changed text raises the alarm again (and
 * journals it), which a growing backlog must not do every second.
 */
export function backlogAlarmMessage(state: LinkState, limits: BacklogLimits, now: number): string | undefined {
  if (!state.connected && now - state.lastUpAt >= limits.unreachableSeconds * 1000) {
    return `central broker unreachable for more than ${formatDuration(limits.unreachableSeconds)}; the hall's events wait in the journal and are sent when it is back`;
  }
  if (state.backlog > limits.backlogEvents) {
    return `more than ${limits.backlogEvents} events are not yet acknowledged by the central broker`;
  }
  return undefined;
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}
