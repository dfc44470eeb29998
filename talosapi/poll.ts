/** Polling with bounded exponential backoff and an overall deadline. */

export interface PollOptions {
  /** Give up after this long (overall). */
  timeoutMs: number;
  /** First pause between attempts (default 250 ms). */
  initialDelayMs?: number;
  /** Longest pause between attempts (default 5 s). */
  maxDelayMs?: number;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What one attempt found: done with a value, or not yet with a reason (kept for the timeout error). */
export type Attempt<T> = { done: true; value: T } | { done: false; reason: string };

/**
 * Calls `attempt` until it reports done, pausing with doubling delays capped at `maxDelayMs`;
 * `attempt` gets the time left so it can bound its own calls. On timeout, throws
 * `onTimeout(lastReason)`. An exception from `attempt` ends the polling at once.
 */
export async function pollUntil<T>(
  attempt: (remainingMs: number) => Promise<Attempt<T>>,
  options: PollOptions,
  onTimeout: (lastReason: string) => Error,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const maxDelay = options.maxDelayMs ?? 5_000;
  let delay = Math.min(options.initialDelayMs ?? 250, maxDelay);
  let lastReason = "no attempt finished in time";
  for (;;) {
    const result = await attempt(Math.max(1, deadline - Date.now()));
    if (result.done) return result.value;
    lastReason = result.reason;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw onTimeout(lastReason);
    await sleep(Math.min(delay, remaining));
    // No attempt on a spent budget: its deadline error would hide the informative last reason.
    if (deadline - Date.now() <= 0) throw onTimeout(lastReason);
    delay = Math.min(delay * 2, maxDelay);
  }
}
