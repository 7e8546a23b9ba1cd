/**
 * Who is calling: a bearer token (API clients) or the session cookie (the web app).
 * Cookie-authenticated requests that change state must also carry the session's CSRF
 * token in `x-csrf-token`, so another site cannot act with the user's cookie.
 */
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isApiToken, type ApiTokens } from '../core/api-tokens.js';
import { AppError, forbidden, unauthorized } from '../core/errors.js';
import type { AccountService } from '../core/accounts.js';
import { isAdmin, publisherOf, type Actor, type Publisher } from '../core/policy.js';
import { csrfTokenFor, safeEqual, SESSION_COOKIE } from '../auth/tokens.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface Credentials {
  token: string;
  via: 'bearer' | 'cookie';
}

export function credentialsOf(request: FastifyRequest): Credentials | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw unauthorized('the Authorization header must be "Bearer <token>"');
    return { token: match[1], via: 'bearer' };
  }
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie ? { token: cookie, via: 'cookie' } : null;
}

export async function authenticate(request: FastifyRequest, accounts: AccountService): Promise<Actor> {
  const credentials = credentialsOf(request);
  if (!credentials) throw unauthorized();
  if (credentials.via === 'bearer' && isApiToken(credentials.token)) {
    throw forbidden('an API token may only publish: POST /api/signals and POST /api/signals/:id/updates');
  }
  const actor = await accounts.authenticate(credentials.token);
  if (credentials.via === 'cookie' && !SAFE_METHODS.has(request.method)) {
    const sent = request.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !safeEqual(sent, csrfTokenFor(credentials.token))) {
      throw new AppError(403, 'csrf_failed', 'missing or wrong x-csrf-token header for a cookie-authenticated request');
    }
  }
  return actor;
}

/**
 * The publisher behind a request to a publishing route: a bot's API token (scoped to its
 * channels), or a signed-in admin. Anyone else may not publish.
 */
export async function authenticatePublisher(
  request: FastifyRequest,
  accounts: AccountService,
  tokens: ApiTokens,
): Promise<Publisher> {
  const credentials = credentialsOf(request);
  if (credentials?.via === 'bearer' && isApiToken(credentials.token)) return tokens.publisher(credentials.token);
  const actor = await authenticate(request, accounts);
  if (!isAdmin(actor)) throw forbidden('only admins and API tokens publish signals');
  return publisherOf(actor);
}

export interface CookieSettings {
  secure: 'auto' | 'true' | 'false';
  ttlMs: number;
}

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  settings: CookieSettings,
): void {
  const secure = settings.secure === 'auto' ? request.protocol === 'https' : settings.secure === 'true';
  void reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure,
    path: '/',
    maxAge: Math.floor(settings.ttlMs / 1000),
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
