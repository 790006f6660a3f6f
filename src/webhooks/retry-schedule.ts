import type { Config } from '../config';
import type { RetrySchedule } from './backoff';

export type { RetrySchedule } from './backoff';

export type ScheduleConfig = Pick<Config, 'WEBHOOK_RETRY_WINDOW_SECONDS' | 'WEBHOOK_RETRY_DELAYS_SECONDS'>;

/**
 * The schedule every delivery gets unless its publisher says otherwise (README, "Webhooks to plugins"):
 * 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, then every 12 h until 3 days have passed, each
 * pause jittered by ±25 %.
 */
export function deliverySchedule(config: ScheduleConfig): RetrySchedule {
  return {
    retry_delays_ms: config.WEBHOOK_RETRY_DELAYS_SECONDS.map((seconds) => Math.round(seconds * 1000)),
    window_ms: config.WEBHOOK_RETRY_WINDOW_SECONDS * 1000,
    jitter: 0.25,
    on_exhausted: 'dead_letter',
  };
}

/** A test send is tried once: its answer is what the caller wants to see. */
export const oneShotSchedule: RetrySchedule = {
  retry_delays_ms: [],
  window_ms: 0,
  jitter: 0,
  on_exhausted: 'fail',
};
