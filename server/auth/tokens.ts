/** Session tokens: random, stored only as a hash, with a CSRF token derived from each. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'sd_session';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of `text`, hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** How a secret (session or API token, source secret) is stored: never the secret itself. */
export const tokenHash = sha256Hex;

/** Known only to whoever holds the session token; a cross-site page cannot compute it. */
export function csrfTokenFor(token: string): string {
  return createHash('sha256').update(`csrf:${token}`).digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
