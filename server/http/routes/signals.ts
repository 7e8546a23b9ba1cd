/** Publishing, lifecycle updates and history. Each handler: authenticate → validate → core → present. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { signalInputSchema, signalListQuerySchema, signalUpdateInputSchema } from '../../../shared/schemas.js';
import type { Runtime } from '../../runtime.js';
import { authenticate, authenticatePublisher } from '../auth.js';

/** The publishing routes take a bot's API token besides a session. */
const PUBLISH_SECURITY: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }, { apiToken: [] }];

const idParams = z.strictObject({ id: z.string().min(1).max(64) });

/** `presence` counts how many of the given users have a live connection now. */
export function signalRoutes(
  runtime: Runtime,
  presence: (userIds: readonly string[]) => number,
): FastifyPluginAsyncZod {
  const { accounts, signals, tokens } = runtime;

  return async (app) => {
    const publish = async (
      request: { body: z.infer<typeof signalInputSchema> } & Parameters<typeof authenticatePublisher>[0],
    ) => {
      const started = performance.now();
      const publisher = await authenticatePublisher(request, accounts, tokens);
      const { event, signal, replayed } = await signals.publish(publisher, request.body);
      runtime.metrics.acknowledged((performance.now() - started) / 1000);
      return {
        body: { ...signal, seq: event.seq, id: signal.id, hash: event.hash, prevHash: event.prevHash, event },
        replayed,
      };
    };

    app.post(
      '/signals',
      {
        schema: {
          tags: ['signals'],
          summary: 'Publish a signal (an admin, or an API token for its channels); 201 only after the durable commit',
          body: signalInputSchema,
          security: PUBLISH_SECURITY,
        },
      },
      async (request, reply) => {
        const { body, replayed } = await publish(request);
        if (replayed) void reply.header('idempotent-replayed', 'true');
        return reply.status(201).send(body);
      },
    );

    // The prototype's route, kept for old clients.
    app.post(
      '/admin/create-signal',
      { schema: { tags: ['signals'], summary: 'Legacy alias of POST /api/signals', body: signalInputSchema } },
      async (request, reply) => {
        const { body, replayed } = await publish(request);
        if (replayed) void reply.header('idempotent-replayed', 'true');
        return reply.status(201).send(body);
      },
    );

    app.get(
      '/signals',
      {
        schema: {
          tags: ['signals'],
          summary: 'Signals newest first; pass nextCursor as `before` for the next page',
          querystring: signalListQuerySchema,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        const items = await signals.list(actor, request.query);
        const last = items[items.length - 1];
        return { items, nextCursor: items.length === request.query.limit && last ? last.seq : null };
      },
    );

    app.get(
      '/signals/:id',
      { schema: { tags: ['signals'], summary: 'A signal with its event timeline', params: idParams } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        return signals.get(actor, request.params.id);
      },
    );

    app.get(
      '/signals/:id/receipts',
      {
        schema: {
          tags: ['signals'],
          summary: 'How many entitled users received and read a signal (admin)',
          params: idParams,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        const { userIds, ...receipts } = await signals.receipts(actor, request.params.id);
        return { ...receipts, connected: presence(userIds) };
      },
    );

    app.post(
      '/signals/:id/updates',
      {
        schema: {
          tags: ['signals'],
          summary:
            'Append a lifecycle event (an admin, or an API token for the signal’s channel): tp_hit, sl_hit, breakeven, closed, cancelled, note',
          security: PUBLISH_SECURITY,
          params: idParams,
          body: signalUpdateInputSchema,
        },
      },
      async (request, reply) => {
        const publisher = await authenticatePublisher(request, accounts, tokens);
        const { event, signal, replayed } = await signals.update(publisher, request.params.id, request.body);
        if (replayed) void reply.header('idempotent-replayed', 'true');
        return reply.status(201).send({ ...event, signal });
      },
    );
  };
}
