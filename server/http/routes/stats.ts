/** `GET /api/stats`: the track record, folded from the caller's entitled part of the log. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { LIMITS } from '../../../shared/limits.js';
import { statsQuerySchema, type StatsReport } from '../../../shared/stats.js';
import { scopeOf } from '../../core/policy.js';
import { StatsFold } from '../../core/stats.js';
import type { Runtime } from '../../runtime.js';
import { authenticate } from '../auth.js';

export function statsRoutes(runtime: Runtime): FastifyPluginAsyncZod {
  const { accounts, store, hub } = runtime;

  return async (app) => {
    app.get(
      '/stats',
      {
        schema: {
          tags: ['stats'],
          summary:
            'Signals, wins, losses, win rate, R multiples and the equity curve of the entitled channels, from the log',
          querystring: statsQuerySchema,
        },
      },
      async (request): Promise<StatsReport> => {
        const actor = await authenticate(request, accounts);
        const scope = scopeOf(actor);
        const { channel } = request.query;
        const channels = channel ? (scope === 'all' || scope.includes(channel) ? [channel] : []) : scope;
        // Fold up to what this node has delivered, so the figures match the events a client
        // holding `upToSeq` has seen. The whole entitled log is read each time: signals are
        // human-paced, so even years of them are a few hundred thousand small rows.
        const upTo = hub.headSeq;
        const fold = new StatsFold();
        let after = 0;
        for (;;) {
          const page = await store.readEvents({ after, upTo, limit: LIMITS.eventsPageMax, channels });
          for (const event of page) fold.add(event);
          const last = page[page.length - 1];
          if (!last || page.length < LIMITS.eventsPageMax) break;
          after = last.seq;
        }
        return { ...fold.report(request.query), upToSeq: upTo };
      },
    );
  };
}
