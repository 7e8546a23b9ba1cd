/**
 * When a destination is tried again after a failure: immediately the first time, then 5 s,
 * 30 s, 2 min, 10 min and every hour, each with ±20 % jitter so destinations that failed
 * together do not retry together; what the far side asked for (`Retry-After`) wins. A
 * destination failing for longer than `pauseAfterMs` (a day) is paused for an admin to look at.
 */
const SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000];

export interface RetryPolicy {
  /** Multiplies every delay (test runs shrink the schedule; 1 in production). */
  scale: number;
  pauseAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { scale: 1, pauseAfterMs: 24 * 3_600_000 };

/** The wait before try number `failures + 1`, after `failures` failures in a row. */
export function retryDelay(
  failures: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, 3_600_000);
  const base = SCHEDULE_MS[Math.min(failures, SCHEDULE_MS.length) - 1] ?? SCHEDULE_MS[0]!;
  const jitter = 0.8 + random() * 0.4;
  return Math.round(base * jitter * policy.scale);
}
