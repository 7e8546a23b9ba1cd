/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so a
 * server restart is not met by every client reconnecting in the same instant.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/** Delay before attempt `attempt` (1-based); `random` is injectable for tests. */
export function backoffDelay(attempt: number, options = DEFAULT_BACKOFF, random = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
