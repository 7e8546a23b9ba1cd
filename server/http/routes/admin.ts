/** Channels, users and grants. Listing channels is open to every signed-in user (their own). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  channelInputSchema,
  passwordResetSchema,
  slugSchema,
  userInputSchema,
  userPatchSchema,
} from '../../../shared/schemas.js';
import type { Runtime } from '../../runtime.js';
import { authenticate } from '../auth.js';

const userParams = z.strictObject({ id: z.string().min(1).max(64) });
const grantParams = z.strictObject({ id: z.string().min(1).max(64), channel: slugSchema });

export function adminRoutes(runtime: Runtime): FastifyPluginAsyncZod {
  const { accounts } = runtime;

  return async (app) => {
    app.get(
      '/channels',
      { schema: { tags: ['channels'], summary: 'Channels the caller may see' } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        return { items: await accounts.listChannels(actor) };
      },
    );

    app.post(
      '/channels',
      { schema: { tags: ['channels'], summary: 'Create a channel (admin)', body: channelInputSchema } },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        return reply.status(201).send(await accounts.createChannel(actor, request.body));
      },
    );

    app.get('/users', { schema: { tags: ['users'], summary: 'Every user (admin)' } }, async (request) => {
      const actor = await authenticate(request, accounts);
      return { items: await accounts.listUsers(actor) };
    });

    app.post(
      '/users',
      {
        schema: {
          tags: ['users'],
          summary: 'Create a user, optionally with channel grants (admin)',
          body: userInputSchema,
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        return reply.status(201).send(await accounts.createUser(actor, request.body));
      },
    );

    app.get(
      '/users/:id',
      { schema: { tags: ['users'], summary: 'One user (admin, or oneself)', params: userParams } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        return accounts.getUser(actor, request.params.id);
      },
    );

    app.patch(
      '/users/:id',
      {
        schema: {
          tags: ['users'],
          summary: 'Disable, re-enable or rename a user (admin)',
          params: userParams,
          body: userPatchSchema,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        const { disabled, name } = request.body;
        if (name !== undefined) await accounts.rename(actor, request.params.id, name || null);
        if (disabled !== undefined) return accounts.setDisabled(actor, request.params.id, disabled);
        return accounts.getUser(actor, request.params.id);
      },
    );

    app.post(
      '/users/:id/password',
      {
        schema: {
          tags: ['users'],
          summary: "Set a user's password (admin); every session of that user ends",
          params: userParams,
          body: passwordResetSchema,
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        await accounts.resetPassword(actor, request.params.id, request.body.password);
        return reply.status(204).send();
      },
    );

    app.post(
      '/users/:id/sessions/revoke',
      {
        schema: {
          tags: ['users'],
          summary: 'Sign a user out everywhere: revoke every session and close its live connections (admin)',
          params: userParams,
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        await accounts.signOutUser(actor, request.params.id);
        return reply.status(204).send();
      },
    );

    app.put(
      '/users/:id/channels/:channel',
      { schema: { tags: ['users'], summary: 'Grant a channel to a user (admin)', params: grantParams } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        return accounts.grant(actor, request.params.id, request.params.channel);
      },
    );

    app.delete(
      '/users/:id/channels/:channel',
      {
        schema: {
          tags: ['users'],
          summary: 'Revoke a channel from a user; their live connections leave it at once (admin)',
          params: grantParams,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        return accounts.revoke(actor, request.params.id, request.params.channel);
      },
    );
  };
}
