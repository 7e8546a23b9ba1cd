/** The ascending log over HTTP: paged (`GET /api/events`) and streamed (`GET /api/stream`, SSE). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { eventsQuerySchema } from '../../../shared/schemas.js';
import { scopeOf } from '../../core/policy.js';
import type { SseGateway } from '../../realtime/sse.js';
import type { Runtime } from '../../runtime.js';
import { authenticate } from '../auth.js';

const streamQuery = z.strictObject({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

export function eventRoutes(runtime: Runtime, sse: SseGateway): FastifyPluginAsyncZod {
  const { accounts, store, hub } = runtime;

  return async (app) => {
    app.get(
      '/events',
      {
        schema: {
          tags: ['events'],
          summary: 'The log in ascending seq, entitled channels only; pass nextAfter as `after` to continue',
          querystring: eventsQuerySchema,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        const { after, limit, channel } = request.query;
        const scope = scopeOf(actor);
        const channels = channel ? (scope === 'all' || scope.includes(channel) ? [channel] : []) : scope;
        // Read only up to what this node has delivered live, so a client that switches to
        // the socket with the last seq it got here misses nothing.
        const upTo = hub.headSeq;
        const events = await store.readEvents({ after, upTo, limit, channels });
        const last = events[events.length - 1];
        return {
          events,
          headSeq: upTo,
          nextAfter: events.length === limit && last ? last.seq : Math.max(after, upTo),
        };
      },
    );

    app.get(
      '/stream',
      {
        schema: {
          tags: ['events'],
          summary: 'Server-Sent Events of the log (new_signal, signal_update); resumable with Last-Event-ID or ?after=',
          querystring: streamQuery,
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        const header = request.headers['last-event-id'];
        const fromHeader = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
        const after = fromHeader ?? request.query.after;
        await sse.open(actor, request, reply, after);
      },
    );
  };
}
