/**
 * Whether a browser request comes from a page this server may act for: its own origin, or
 * one listed in ALLOWED_ORIGINS. A request without `Origin` is not from a browser page
 * (curl, a bot), so there is nobody's cookie or session to abuse and it passes.
 */
import type { IncomingHttpHeaders } from 'node:http';

export function originAllowed(
  headers: IncomingHttpHeaders,
  allowed: ReadonlySet<string> | readonly string[],
  trustProxy: boolean,
): boolean {
  const origin = headers.origin;
  if (!origin) return true;
  if ((allowed instanceof Set ? allowed : new Set(allowed)).has(origin)) return true;
  try {
    const forwarded = trustProxy
      ? (headers['x-forwarded-host'] as string | undefined)?.split(',')[0]?.trim()
      : undefined;
    return new URL(origin).host === (forwarded ?? headers.host);
  } catch {
    return false;
  }
}
