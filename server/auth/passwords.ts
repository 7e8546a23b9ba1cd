/**
 * Password hashing: argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
 * Each hash takes tens of milliseconds and 19 MiB on a thread of libuv's pool, so only a few
 * run at once and a bounded queue waits behind them: a flood of sign-ins costs the flooder
 * a `503 busy`, not everyone else their file reads, DNS lookups and memory.
 */
import argon2 from 'argon2';
import { AppError } from '../core/errors.js';
import { Gate, GateFull } from '../core/gate.js';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Half of libuv's default four threads: the other half stays free for file and DNS work. */
const hashing = new Gate('password hashing', 2, 64);

async function gated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await hashing.run(work);
  } catch (error) {
    if (error instanceof GateFull) {
      throw new AppError(503, 'busy', 'too many sign-ins at once; try again in a moment', undefined, 1);
    }
    throw error;
  }
}

export function hashPassword(password: string): Promise<string> {
  return gated(() => argon2.hash(password, OPTIONS));
}

/** A real hash of nothing, verified against when the account does not exist, so timing tells nothing. */
let decoy: Promise<string> | undefined;

export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  decoy ??= argon2.hash('decoy-password-for-unknown-accounts', OPTIONS);
  const against = hash ?? (await decoy);
  try {
    const ok = await gated(() => argon2.verify(against, password));
    return ok && hash !== undefined;
  } catch (error) {
    if (error instanceof AppError) throw error;
    return false;
  }
}
