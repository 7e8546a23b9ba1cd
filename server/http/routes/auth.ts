/** Sign-in, sign-out, first-run setup and the caller's own account. */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  loginInputSchema,
  passwordChangeSchema,
  positionInputSchema,
  setupInputSchema,
} from '../../../shared/schemas.js';
import { presentUser } from '../../core/accounts.js';
import { AppError } from '../../core/errors.js';
import { abilitiesOf, scopeOf } from '../../core/policy.js';
import type { Runtime } from '../../runtime.js';
import { csrfTokenFor } from '../../auth/tokens.js';
import { authenticate, clearSessionCookie, credentialsOf, setSessionCookie } from '../auth.js';
import { addressKey } from '../client-address.js';
import { originAllowed } from '../origin.js';
import { authRateLimit } from '../rate-limit.js';

/** Counting stops here; the badge shows "999+"-style caps rather than scanning a long backlog. */
const UNREAD_CAP = 1000;

export function authRoutes(runtime: Runtime): FastifyPluginAsyncZod {
  const { accounts, store, hub, positions, config } = runtime;
  const cookie = { secure: config.cookieSecure, ttlMs: config.sessionTtlMs };
  const limited = authRateLimit(config.authRateLimit);
  /** A browser page of another site must not sign someone in, or claim the installation. */
  const sameOrigin = async (request: FastifyRequest) => {
    if (!originAllowed(request.headers, config.allowedOrigins, config.trustProxy)) {
      throw new AppError(403, 'origin_refused', 'requests from this origin are not accepted');
    }
  };

  return async (app) => {
    app.get('/setup', { schema: { tags: ['auth'], summary: 'Whether first-run setup is still needed' } }, async () => ({
      needed: await accounts.setupNeeded(),
    }));

    app.post(
      '/setup',
      {
        schema: {
          tags: ['auth'],
          summary: "Create the first admin, with the one-time setup code from the server's log (once only)",
          body: setupInputSchema,
        },
        config: limited,
        preHandler: sameOrigin,
      },
      async (request, reply) => {
        const admin = await accounts.setup(request.body);
        const session = await accounts.startSession(admin);
        setSessionCookie(request, reply, session.token, cookie);
        return reply
          .status(201)
          .send({ token: session.token, user: session.user, csrfToken: csrfTokenFor(session.token) });
      },
    );

    app.post(
      '/auth/login',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign in; returns a bearer token and sets the session cookie',
          body: loginInputSchema,
        },
        config: limited,
        preHandler: sameOrigin,
      },
      async (request, reply) => {
        const session = await accounts.login(request.body.email, request.body.password, addressKey(request.ip));
        setSessionCookie(request, reply, session.token, cookie);
        return {
          token: session.token,
          user: session.user,
          expiresAt: session.expiresAt,
          csrfToken: csrfTokenFor(session.token),
        };
      },
    );

    app.post(
      '/auth/logout',
      { schema: { tags: ['auth'], summary: 'Revoke this session and close its live connections' } },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        await accounts.logout(actor);
        clearSessionCookie(reply);
        return reply.status(204).send();
      },
    );

    app.post(
      '/auth/logout-everywhere',
      {
        schema: {
          tags: ['auth'],
          summary: "Revoke every session of the caller's account and close all its live connections",
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        await accounts.endSessions(actor.user.id, 'signed out everywhere');
        clearSessionCookie(reply);
        return reply.status(204).send();
      },
    );

    app.post(
      '/me/password',
      {
        schema: {
          tags: ['auth'],
          summary: 'Change your password (the current one is required); your other sessions end',
          body: passwordChangeSchema,
        },
        config: limited,
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        const { currentPassword, newPassword } = request.body;
        await accounts.changePassword(actor, currentPassword, newPassword, addressKey(request.ip));
        return reply.status(204).send();
      },
    );

    app.get(
      '/me',
      { schema: { tags: ['auth'], summary: 'The signed-in user, what they may do, and their positions' } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        const credentials = credentialsOf(request);
        const channels = await accounts.listChannels(actor);
        return {
          user: presentUser(actor.user, actor.channels),
          abilities: abilitiesOf(actor),
          channels,
          positions: { delivered: actor.user.deliveredSeq, read: actor.user.readSeq },
          headSeq: hub.headSeq,
          csrfToken: credentials ? csrfTokenFor(credentials.token) : null,
        };
      },
    );

    app.put(
      '/me/position',
      { schema: { tags: ['auth'], summary: 'Report the highest seq received and shown', body: positionInputSchema } },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        // Nobody has received or read past the head: a higher number would forge receipts.
        const head = hub.headSeq;
        const { delivered, read } = request.body;
        positions.report(actor.user.id, {
          ...(delivered !== undefined ? { delivered: Math.min(delivered, head) } : {}),
          ...(read !== undefined ? { read: Math.min(read, head) } : {}),
        });
        await positions.flush();
        const user = await store.getUser(actor.user.id);
        return reply.send({ delivered: user?.deliveredSeq ?? 0, read: user?.readSeq ?? 0 });
      },
    );

    app.get(
      '/me/unread',
      {
        schema: {
          tags: ['auth'],
          summary: 'Events after the read position in the caller’s channels',
          querystring: z.strictObject({}),
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        const read = actor.user.readSeq;
        const unread = await store.countEvents({ after: read, channels: scopeOf(actor), cap: UNREAD_CAP });
        return { read, unread, capped: unread === UNREAD_CAP };
      },
    );
  };
}
