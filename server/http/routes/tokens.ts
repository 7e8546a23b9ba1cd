/**
 * API tokens for bots (`/api/tokens`, admin) and delayed mirrors of channels
 * (`/api/channels/:slug/mirror`, admin): "free gets VIP signals 24 hours later".
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { apiTokenInputSchema, mirrorInputSchema, slugSchema } from '../../../shared/schemas.js';
import { forbidden } from '../../core/errors.js';
import { isAdmin } from '../../core/policy.js';
import type { Runtime } from '../../runtime.js';
import { authenticate } from '../auth.js';

const idParams = z.strictObject({ id: z.string().min(1).max(64) });
const slugParams = z.strictObject({ slug: slugSchema });

export function tokenRoutes(runtime: Runtime): FastifyPluginAsyncZod {
  const { accounts, tokens, mirrors } = runtime;

  return async (app) => {
    app.post(
      '/tokens',
      {
        schema: {
          tags: ['tokens'],
          summary: "Make a bot's API token (admin): it publishes on these channels only; shown once",
          body: apiTokenInputSchema,
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        return reply.status(201).send(await tokens.create(actor, request.body));
      },
    );

    app.get(
      '/tokens',
      { schema: { tags: ['tokens'], summary: 'Every API token, without the token (admin)' } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        return { items: await tokens.list(actor) };
      },
    );

    app.delete(
      '/tokens/:id',
      { schema: { tags: ['tokens'], summary: 'Revoke an API token, on every node at once (admin)', params: idParams } },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        await tokens.revoke(actor, request.params.id);
        return reply.status(204).send();
      },
    );

    app.get(
      '/mirrors',
      { schema: { tags: ['channels'], summary: 'Every delayed mirror of a channel (admin)' } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        if (!isAdmin(actor)) throw forbidden('only admins manage mirrors');
        return { items: await mirrors.list() };
      },
    );

    app.put(
      '/channels/:slug/mirror',
      {
        schema: {
          tags: ['channels'],
          summary: "Release another channel's events into this one after a delay (admin), from now on",
          params: slugParams,
          body: mirrorInputSchema,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        if (!isAdmin(actor)) throw forbidden('only admins manage mirrors');
        return mirrors.configure(request.params.slug, request.body);
      },
    );

    app.delete(
      '/channels/:slug/mirror',
      { schema: { tags: ['channels'], summary: 'Stop mirroring into this channel (admin)', params: slugParams } },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        if (!isAdmin(actor)) throw forbidden('only admins manage mirrors');
        await mirrors.remove(request.params.slug);
        return reply.status(204).send();
      },
    );
  };
}
