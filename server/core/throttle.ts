/**
 * Sign-in throttles. An attempt is counted *before* the password is checked, in one atomic
 * statement (`Store.hitThrottle`), so a burst of concurrent guesses cannot all be evaluated
 * while the counter is still being written: the sixth of three hundred concurrent guesses
 * is refused as surely as the sixth of six in a row.
 *
 * Two keys are counted for every attempt: the account (so a botnet cannot guess one
 * password from many addresses) and the client address (so one address cannot spray many
 * accounts, nor keep one locked for long). An account lock is short and doubles with each
 * lock in a row; an address lock is long. An attacker at one address can therefore lock
 * someone else's account for about a quarter of each hour at most, never for ever.
 */
import type { Store } from '../store/store.js';

export interface ThrottlePolicy {
  /** Attempts allowed per window. */
  max: number;
  windowMs: number;
  /** The first lock; each lock in a row doubles it, up to `maxLockMs`. */
  lockMs: number;
  maxLockMs: number;
}

const MINUTE = 60_000;

/** Five guesses per quarter hour for an account; then 1, 2, 4, 8, 15 minutes locked. */
export const ACCOUNT_POLICY: ThrottlePolicy = { max: 5, windowMs: 15 * MINUTE, lockMs: MINUTE, maxLockMs: 15 * MINUTE };

/**
 * Thirty attempts per quarter hour from one address, successful sign-ins forgiven (an office
 * behind one NAT signs in freely); then 15, 30, 60 minutes locked.
 */
export const ADDRESS_POLICY: ThrottlePolicy = {
  max: 30,
  windowMs: 15 * MINUTE,
  lockMs: 15 * MINUTE,
  maxLockMs: 60 * MINUTE,
};

/** Counters untouched for this long are purged (and their strikes forgotten). */
export const THROTTLE_MEMORY_MS = 2 * 60 * MINUTE;

export interface Admission {
  allowed: boolean;
  /** When refused: how long until the next attempt may be counted. */
  retryAfterMs: number;
}

export function lockDuration(policy: ThrottlePolicy, strikes: number): number {
  return Math.min(policy.maxLockMs, policy.lockMs * 2 ** Math.min(strikes, 20));
}

export class Throttle {
  constructor(
    private readonly store: Store,
    readonly policy: ThrottlePolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Counts an attempt under `key` and says whether it may go ahead. */
  async attempt(key: string): Promise<Admission> {
    const now = this.clock();
    const state = await this.store.hitThrottle(key, now, this.policy.windowMs);
    if (state.lockedUntil > now) return { allowed: false, retryAfterMs: state.lockedUntil - now };
    if (state.attempts <= this.policy.max) return { allowed: true, retryAfterMs: 0 };
    // This attempt went over: lock (the first of several concurrent ones over wins the write).
    const until = now + lockDuration(this.policy, state.strikes);
    await this.store.lockThrottle(key, now, until);
    return { allowed: false, retryAfterMs: until - now };
  }

  /** A success: forget the key's attempts and strikes. */
  clear(key: string): Promise<void> {
    return this.store.clearThrottle(key);
  }

  /** A success from a shared key (an address): take this one attempt back, keep the rest. */
  forgive(key: string): Promise<void> {
    return this.store.forgiveThrottle(key);
  }
}
