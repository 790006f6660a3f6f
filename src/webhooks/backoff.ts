// Pure timing rules of webhook delivery, shared by the workflow (which passes its deterministic
// Math.random) and by tests. No imports: this file is bundled into workflow code.

export interface RetrySchedule {
  /** Pause before retry n (1-based) is retry_delays_ms[n-1]; the last value repeats. Empty: no retries. */
  retry_delays_ms: number[];
  /** Retries stop once this long has passed since the delivery started; the last one lands on the edge. */
  window_ms: number;
  /** Each pause is scaled by a random factor in [1 - jitter, 1 + jitter], so a burst does not retry as one. */
  jitter: number;
  /** What a delivery becomes when retries run out. */
  on_exhausted: 'dead_letter' | 'fail';
}

/** The longest Retry-After we honour: a receiver cannot park a delivery past most of its window. */
export const maxRetryAfterMs = 12 * 3600_000;

/** Pause before the next attempt, after `failedAttempts` failures (1 = the first attempt failed). */
export function retryDelayMs(
  schedule: RetrySchedule,
  failedAttempts: number,
  random: number,
  retryAfterMs?: number,
): number {
  const delays = schedule.retry_delays_ms;
  const base = delays[Math.min(failedAttempts, delays.length) - 1] ?? 0;
  const jittered = base * (1 - schedule.jitter + 2 * schedule.jitter * random);
  const asked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, maxRetryAfterMs);
  return Math.round(Math.max(jittered, asked));
}

/**
 * When to try again after a failure at `nowMs`, or undefined when retries are over: never later than the
 * deadline, and a last attempt exactly at it so the window is used in full.
 */
export function nextAttemptAt(
  schedule: RetrySchedule,
  failedAttempts: number,
  nowMs: number,
  deadlineMs: number,
  random: number,
  retryAfterMs?: number,
): number | undefined {
  if (schedule.retry_delays_ms.length === 0 || nowMs >= deadlineMs) return undefined;
  return Math.min(nowMs + retryDelayMs(schedule, failedAttempts, random, retryAfterMs), deadlineMs);
}

/**
 * Pause when the receiver's host cannot take the request now. `busy` (its concurrency cap is reached,
 * it is answering): a short random pause, 0.1-0.3 s growing to at most 1-3 s, so a queue drains in
 * about the order it formed. `backing_off` (it failed or said Retry-After): at least until the host
 * accepts again, growing with each deferral in a row (0.5 s doubling up to 15 min) so a long backlog
 * to a dead site does not poll.
 */
export function deferralDelayMs(
  reason: 'busy' | 'backing_off',
  deferralsInARow: number,
  hostWaitMs: number,
  random: number,
): number {
  const step = Math.min(deferralsInARow, 20);
  if (reason === 'busy') return Math.round(Math.min(2_000, 200 * 1.5 ** step) * (0.5 + random));
  const growing = Math.min(15 * 60_000, 500 * 2 ** step);
  return Math.round(Math.max(hostWaitMs, growing) * (1 + 0.25 * random));
}
