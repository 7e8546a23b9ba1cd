/** Password hashing: argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). */
import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

/** A real hash of nothing, verified against when the account does not exist, so timing tells nothing. */
let decoy: Promise<string> | undefined;

export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  decoy ??= hashPassword('decoy-password-for-unknown-accounts');
  try {
    const ok = await argon2.verify(hash ?? (await decoy), password);
    return ok && hash !== undefined;
  } catch {
    return false;
  }
}
