/** Go durations as the config takes them (`10m`, `1h30m`, `90s`), and what the tasks take (milliseconds). Pure. */

/** A Go duration of hours, minutes and seconds in whole numbers, such as `1h30m`. */
export const GO_DURATION = /^(\d+(h|m|s))+$/;

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000 };

/** Milliseconds of a duration matching {@link GO_DURATION}; throws on anything else. */
export function goDurationMs(text: string): number {
  if (!GO_DURATION.test(text)) throw new Error(`not a Go duration such as 10m or 1h30m: ${JSON.stringify(text)}`);
  return [...text.matchAll(/(\d+)(h|m|s)/g)].reduce((sum, [, amount, unit]) => sum + Number(amount) * UNIT_MS[unit], 0);
}

/** The time limits a rollout, removal or reboot takes from the config (engines/operations.ts RolloutTimeouts). */
export interface TaskTimeouts {
  /** How long a rebooted node may take to answer with a new boot id. */
  rebootMs: number;
  /** How long a Kubernetes drain may take. */
  drainMs: number;
}

/** The tasks' time limits of a validated spec's `talos` block. */
export function taskTimeouts(talos: { rebootTimeout: string; drainTimeout: string }): TaskTimeouts {
  return { rebootMs: goDurationMs(talos.rebootTimeout), drainMs: goDurationMs(talos.drainTimeout) };
}
