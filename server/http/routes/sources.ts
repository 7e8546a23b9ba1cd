/**
 * Webhook sources: the admin routes under `/api/sources`, and the inlet itself at
 * `POST /hooks/tv/<secret>` (outside `/api`: TradingView posts there, with no session).
 *
 * Guarantees: a source's secret leaves the server twice — in the answer that creates it and
 * in the one that rotates it — and only its sha256 is stored; no list, log line or request-log
 * entry holds it (the inlet's path is never logged, see `loggablePath` in errors.ts). The
 * inlet reads its body itself, as text, under the usual 64 KiB limit, in this plugin only.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LIMITS } from '../../../shared/limits.js';
import { SOURCE_LIMITS, sourceInputSchema, sourcePatchSchema, type SourceSecret } from '../../../shared/sources.js';
import { newToken, tokenHash } from '../../auth/tokens.js';
import { badRequest, forbidden, notFound } from '../../core/errors.js';
import { isAdmin } from '../../core/policy.js';
import { hookPath, SourceInlet } from '../../inlets/source-inlet.js';
import type { Runtime } from '../../runtime.js';
import type { SourceRecord, SourceRequest } from '../../store/integrations.js';
import { authenticate } from '../auth.js';

export { TRADINGVIEW_ADDRESSES } from '../../../shared/sources.js';

const idParams = z.strictObject({ id: z.string().min(1).max(64) });
const requestsQuery = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(SOURCE_LIMITS.requestsPageMax, `must be at most ${SOURCE_LIMITS.requestsPageMax}`)
    .default(50),
});

/** A request-log entry as the admin page shows it: with the signal it made or closed, to link to. */
export type SourceRequestView = SourceRequest & { signalId: string | null };

function presentRequest(entry: SourceRequest): SourceRequestView {
  return { ...entry, signalId: entry.reasons?.signal ?? entry.eventId };
}

/** The secret's address, relative, and absolute on the host and protocol the request came in on. */
function secretOf(request: FastifyRequest, secret: string): SourceSecret {
  const url = hookPath(secret);
  return request.host ? { url, absoluteUrl: `${request.protocol}://${request.host}${url}`, secret } : { url, secret };
}

export function sourceRoutes(runtime: Runtime): FastifyPluginAsyncZod {
  const { accounts, store } = runtime;
  const sources = store.sources;

  const admin = async (request: FastifyRequest) => {
    const actor = await authenticate(request, accounts);
    if (!isAdmin(actor)) throw forbidden('only admins manage sources');
    return actor;
  };
  const existing = async (id: string): Promise<SourceRecord> => {
    const source = await sources.get(id);
    if (!source) throw notFound('source');
    return source;
  };

  return async (app) => {
    app.post(
      '/sources',
      {
        schema: {
          tags: ['sources'],
          summary: 'Create a webhook source (admin); its secret is in this answer only',
          body: sourceInputSchema,
        },
      },
      async (request, reply) => {
        const actor = await admin(request);
        const { channel, name, kind, label, market, allowedIps, ratePerMinute } = request.body;
        if (!(await store.getChannel(channel))) {
          throw badRequest('unknown channel', { channel: `channel ${channel} does not exist` });
        }
        const secret = newToken();
        const source = await sources.create({
          kind,
          name,
          channel,
          label: label || null,
          market: market ?? null,
          allowedIps: allowedIps?.length ? allowedIps : null,
          ratePerMinute: ratePerMinute ?? SOURCE_LIMITS.ratePerMinuteDefault,
          enabled: true,
          createdBy: actor.user.id,
          secretHash: tokenHash(secret),
        });
        return reply.status(201).send({ ...source, ...secretOf(request, secret) });
      },
    );

    app.get('/sources', { schema: { tags: ['sources'], summary: 'Every webhook source (admin)' } }, async (request) => {
      await admin(request);
      return { items: await sources.list() };
    });

    app.get(
      '/sources/:id',
      { schema: { tags: ['sources'], summary: 'One webhook source (admin)', params: idParams } },
      async (request) => {
        await admin(request);
        return existing(request.params.id);
      },
    );

    app.patch(
      '/sources/:id',
      {
        schema: {
          tags: ['sources'],
          summary: 'Rename, relabel, re-limit, enable or disable a source (admin)',
          params: idParams,
          body: sourcePatchSchema,
        },
      },
      async (request) => {
        await admin(request);
        const { label, allowedIps, ...rest } = request.body;
        const patch = {
          ...rest,
          ...(label !== undefined ? { label: label || null } : {}),
          ...(allowedIps !== undefined ? { allowedIps: allowedIps?.length ? allowedIps : null } : {}),
        };
        const updated = await sources.update(request.params.id, patch);
        if (!updated) throw notFound('source');
        return updated;
      },
    );

    app.post(
      '/sources/:id/rotate',
      {
        schema: {
          tags: ['sources'],
          summary: 'A new secret for a source (admin): the old one stops working at once',
          params: idParams,
        },
      },
      async (request) => {
        await admin(request);
        const secret = newToken();
        const source = await sources.rotate(request.params.id, tokenHash(secret));
        if (!source) throw notFound('source');
        return { ...source, ...secretOf(request, secret) };
      },
    );

    app.get(
      '/sources/:id/requests',
      {
        schema: {
          tags: ['sources'],
          summary: "A source's request log, newest first (admin)",
          params: idParams,
          querystring: requestsQuery,
        },
      },
      async (request) => {
        await admin(request);
        await existing(request.params.id);
        const items = await sources.requests(request.params.id, request.query.limit);
        return { items: items.map(presentRequest) };
      },
    );
  };
}

/** `POST /hooks/tv/<secret>`: TradingView alerts and text signals, answered at once. */
export function sourceHookRoutes(runtime: Runtime): FastifyPluginAsync {
  return async (app) => {
    const inlet = new SourceInlet(
      { ...runtime, counted: (outcome) => runtime.metrics.sourceRequests.inc({ outcome }) },
      (err, what) => app.log.error({ err }, what),
    );
    // Every body arrives as text: JSON is parsed by the inlet, which needs the raw bytes for
    // the duplicate key and logs what it could not read. Scoped to this plugin by encapsulation.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: LIMITS.bodyMaxBytes }, (_request, body, done) =>
      done(null, body),
    );
    app.addHook('onClose', () => inlet.drain());

    app.post<{ Params: { secret: string } }>(
      '/hooks/tv/:secret',
      { schema: { hide: true } },
      async (request, reply) => {
        const { answer, entry } = await inlet.receive({
          secret: request.params.secret,
          address: request.ip,
          contentType: request.headers['content-type'],
          raw: typeof request.body === 'string' ? request.body : '',
        });
        if (answer.retryAfterSeconds !== undefined) void reply.header('retry-after', String(answer.retryAfterSeconds));
        void reply.status(answer.status).send(answer.body);
        // Logged after answering: TradingView waits at most 3 seconds, and the log is no part of the answer.
        if (entry) inlet.record(entry);
        return reply;
      },
    );

    // Someone opening the address in a browser: say what it is for, without looking the secret up.
    app.get('/hooks/tv/:secret', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .status(405)
        .header('allow', 'POST')
        .send({ error: { code: 'method_not_allowed', message: 'TradingView alerts are POSTed to this address' } }),
    );
  };
}
