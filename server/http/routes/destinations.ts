/**
 * Outbound destinations an admin manages (`/api/destinations`: signed webhooks, Telegram
 * chats, Discord channels) and the push devices each user enables for themselves
 * (`/api/push/*`). Both are cursors the delivery engine works; these routes create and change
 * them, show where each stands against the log, and never give a secret back but once.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  destinationInputSchema,
  destinationPatchSchema,
  pushSubscriptionInputSchema,
  pushSubscriptionPatchSchema,
  type DestinationInput,
} from '../../../shared/schemas.js';
import { AppError, badRequest, forbidden, notFound } from '../../core/errors.js';
import { isAdmin, scopeOf, type Actor } from '../../core/policy.js';
import { newWebhookSecret } from '../../delivery/adapters/webhook.js';
import type { DestinationRecord } from '../../store/integrations.js';
import type { Runtime } from '../../runtime.js';
import { authenticate } from '../auth.js';

const idParams = z.strictObject({ id: z.string().min(1).max(64) });
const deliveriesQuery = z.strictObject({
  seq: z.coerce.number().int().min(1).optional(),
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const rotateBody = z.strictObject({
  overlapHours: z
    .number()
    .min(0, 'must be 0 or more')
    .max(24 * 7, 'must be at most a week')
    .optional(),
});

/** Pending events are counted up to here; the page shows "10,000+" beyond. */
const PENDING_CAP = 10_000;

export function destinationRoutes(runtime: Runtime): FastifyPluginAsyncZod {
  const { accounts, store, hub, bus, delivery } = runtime;
  const changed = () => bus.publish({ kind: 'destinations' });

  const requireAdmin = (actor: Actor) => {
    if (!isAdmin(actor)) throw forbidden('only admins manage destinations');
  };

  const requireChannels = async (channels: readonly string[]) => {
    for (const slug of channels) {
      if (!(await store.getChannel(slug)))
        throw badRequest('unknown channel', { channels: `channel ${slug} does not exist` });
    }
  };

  /** The target, refused before it is stored when no send could ever reach it. */
  const checkUrl = async (url: string, field: string) => {
    const refused = await delivery.context.http.checkTarget(url);
    if (refused) throw badRequest(refused, { [field]: refused });
  };

  /** Where a destination stands: its cursor against the log, what is pending, its last trouble. */
  const present = async (d: DestinationRecord) => {
    const pending = await store.countEvents({ after: d.deliveredSeq, channels: d.channels, cap: PENDING_CAP });
    return {
      id: d.id,
      kind: d.kind,
      name: d.name,
      target: describeTarget(d),
      channels: d.channels,
      enabled: d.enabled,
      state: d.enabled ? d.state : 'disabled',
      deliveredSeq: d.deliveredSeq,
      headSeq: hub.headSeq,
      pending,
      pendingCapped: pending === PENDING_CAP,
      attempts: d.attempts,
      failingSince: d.failingSince,
      nextAttemptAt: d.nextAttemptAt === null ? null : new Date(d.nextAttemptAt).toISOString(),
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      lastSuccessAt: d.lastSuccessAt,
      secretRotating: d.previousSecretUntil !== null && Date.parse(d.previousSecretUntil) > Date.now(),
      previousSecretUntil: d.previousSecretUntil,
      worker: d.leaseOwner && d.leaseUntil && d.leaseUntil > Date.now() ? d.leaseOwner : null,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
    };
  };

  const adminDestination = async (id: string) => {
    const d = await store.destinations.get(id);
    if (!d || d.ownerId !== null) throw notFound('destination');
    return d;
  };

  const ownDevice = async (actor: Actor, id: string) => {
    const d = await store.destinations.get(id);
    if (!d || d.kind !== 'push' || d.ownerId !== actor.user.id) throw notFound('push subscription');
    return d;
  };

  return async (app) => {
    app.post(
      '/destinations',
      {
        schema: {
          tags: ['destinations'],
          summary: "Add a webhook, Telegram or Discord destination (admin); a webhook's signing secret is shown once",
          body: destinationInputSchema,
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        requireAdmin(actor);
        const input = request.body;
        await requireChannels(input.channels);
        if (input.kind !== 'telegram') await checkUrl(input.url, 'url');
        const secret = input.kind === 'webhook' ? newWebhookSecret() : null;
        const created = await store.destinations.create({
          kind: input.kind,
          name: input.name,
          config: configOf(input),
          secret,
          ownerId: null,
          channels: [...new Set(input.channels)],
          enabled: input.enabled ?? true,
          // A new destination receives what is published from now on.
          deliveredSeq: hub.headSeq,
          createdBy: actor.user.id,
        });
        await changed();
        return reply.status(201).send({ ...(await present(created)), ...(secret ? { secret } : {}) });
      },
    );

    app.get(
      '/destinations',
      { schema: { tags: ['destinations'], summary: 'Every destination and where it stands (admin)' } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        requireAdmin(actor);
        const all = await store.destinations.list({ ownerId: null });
        return { items: await Promise.all(all.map(present)), headSeq: hub.headSeq };
      },
    );

    app.get(
      '/destinations/:id',
      { schema: { tags: ['destinations'], summary: 'One destination (admin)', params: idParams } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        requireAdmin(actor);
        return present(await adminDestination(request.params.id));
      },
    );

    app.patch(
      '/destinations/:id',
      {
        schema: {
          tags: ['destinations'],
          summary: 'Rename, change channels or target, enable or disable (admin)',
          params: idParams,
          body: destinationPatchSchema,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        requireAdmin(actor);
        const d = await adminDestination(request.params.id);
        const { name, channels, enabled, url, chatId, botToken } = request.body;
        if (channels) await requireChannels(channels);
        if (url !== undefined && d.kind === 'telegram')
          throw badRequest('a Telegram destination has no url', { url: 'is not a field of a Telegram destination' });
        if ((chatId !== undefined || botToken !== undefined) && d.kind !== 'telegram') {
          throw badRequest('only Telegram destinations have a chat', { chatId: 'is only for Telegram destinations' });
        }
        if (url !== undefined) await checkUrl(url, 'url');
        const config = {
          ...d.config,
          ...(url !== undefined ? { url } : {}),
          ...(chatId !== undefined ? { chatId } : {}),
          ...(botToken !== undefined ? { botToken } : {}),
        };
        const updated = await store.destinations.update(d.id, {
          ...(name !== undefined ? { name } : {}),
          ...(channels !== undefined ? { channels: [...new Set(channels)] } : {}),
          ...(enabled !== undefined ? { enabled } : {}),
          config,
        });
        await changed();
        return present(updated ?? d);
      },
    );

    app.delete(
      '/destinations/:id',
      {
        schema: {
          tags: ['destinations'],
          summary: 'Disable a destination (admin): nothing more is sent; its history is kept',
          params: idParams,
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        requireAdmin(actor);
        const d = await adminDestination(request.params.id);
        await store.destinations.update(d.id, { enabled: false });
        await changed();
        return reply.status(204).send();
      },
    );

    app.post(
      '/destinations/:id/resume',
      {
        schema: {
          tags: ['destinations'],
          summary: 'Resume a paused destination (admin): it carries on from the event it stopped at',
          params: idParams,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        requireAdmin(actor);
        const d = await adminDestination(request.params.id);
        const updated = await store.destinations.update(d.id, {
          enabled: true,
          state: 'active',
          attempts: 0,
          failingSince: null,
          nextAttemptAt: null,
        });
        await changed();
        return present(updated ?? d);
      },
    );

    app.post(
      '/destinations/:id/rotate-secret',
      {
        schema: {
          tags: ['destinations'],
          summary:
            'Give a webhook a new signing secret, shown once; the old one keeps signing too for a while (default 24 h)',
          params: idParams,
          body: rotateBody,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        requireAdmin(actor);
        const d = await adminDestination(request.params.id);
        if (d.kind !== 'webhook') throw badRequest('only webhooks have a signing secret', { kind: 'is not webhook' });
        const secret = newWebhookSecret();
        const until = new Date(Date.now() + (request.body.overlapHours ?? 24) * 3_600_000).toISOString();
        await store.destinations.update(d.id, { secret, previousSecret: d.secret, previousSecretUntil: until });
        await changed();
        return { secret, previousSecretValidUntil: until };
      },
    );

    app.post(
      '/destinations/:id/test',
      {
        schema: {
          tags: ['destinations'],
          summary: 'Send a test message now (admin), outside the log, and say what the far side answered',
          params: idParams,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        requireAdmin(actor);
        const result = await delivery.testSend(await adminDestination(request.params.id));
        return {
          ok: result.kind === 'delivered',
          status: result.status,
          error: result.kind === 'delivered' ? null : result.error,
        };
      },
    );

    app.get(
      '/destinations/:id/deliveries',
      {
        schema: {
          tags: ['destinations'],
          summary: "A destination's delivery log, newest first (admin): each attempt, its status and error",
          params: idParams,
          querystring: deliveriesQuery,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        requireAdmin(actor);
        const d = await adminDestination(request.params.id);
        const items = await store.destinations.attempts(d.id, request.query);
        const last = items[items.length - 1];
        return { items, nextBefore: items.length === request.query.limit && last ? last.id : null };
      },
    );

    // ---- Web Push: each user's own devices

    app.get(
      '/push/key',
      { schema: { tags: ['push'], summary: 'The VAPID public key to subscribe a device with' } },
      async (request) => {
        await authenticate(request, accounts);
        const { vapid } = delivery.context;
        if (!vapid) throw new AppError(503, 'unavailable', 'push is not available on this server');
        return { publicKey: vapid.publicKey };
      },
    );

    app.post(
      '/push/subscriptions',
      {
        schema: {
          tags: ['push'],
          summary:
            "Turn notifications on for this device (a browser's PushSubscription); channels default to all of yours",
          body: pushSubscriptionInputSchema,
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        const { endpoint, keys, channels, label } = request.body;
        const wanted = await allowedChannels(actor, channels);
        await checkUrl(endpoint, 'endpoint');
        const existing = await store.destinations.findPushByEndpoint(endpoint);
        const settings = {
          name: label ?? 'This device',
          config: { endpoint, keys },
          channels: wanted,
          enabled: true,
        };
        // The same browser subscribing again (or another user signing in on it) takes the device over.
        const device = existing
          ? existing.ownerId === actor.user.id
            ? await store.destinations.update(existing.id, {
                ...settings,
                state: 'active',
                attempts: 0,
                nextAttemptAt: null,
                failingSince: null,
              })
            : (await store.destinations.remove(existing.id), await createDevice(actor, settings))
          : await createDevice(actor, settings);
        if (!device) throw notFound('push subscription');
        await changed();
        return reply.status(existing?.ownerId === actor.user.id ? 200 : 201).send(presentDevice(device));
      },
    );

    const createDevice = (
      actor: Actor,
      settings: { name: string; config: Record<string, unknown>; channels: string[]; enabled: boolean },
    ) =>
      store.destinations.create({
        kind: 'push',
        ...settings,
        secret: null,
        ownerId: actor.user.id,
        deliveredSeq: hub.headSeq,
        // A device belongs to the session that turned it on: signing that session out turns it off.
        createdBy: actor.sessionId,
      });

    /** A user may be notified of the channels they may see; by default all of them. */
    const allowedChannels = async (actor: Actor, asked: readonly string[] | undefined): Promise<string[]> => {
      const scope = scopeOf(actor);
      const all = scope === 'all' ? (await store.listChannels()).map((c) => c.slug) : [...scope];
      if (asked === undefined) return all;
      const foreign = asked.filter((c) => !all.includes(c));
      if (foreign.length > 0)
        throw badRequest('not your channels', { channels: `you do not receive ${foreign.join(', ')}` });
      return [...new Set(asked)];
    };

    app.get(
      '/push/subscriptions',
      { schema: { tags: ['push'], summary: 'Your devices with notifications on' } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        return {
          items: (await store.destinations.list({ ownerId: actor.user.id, kinds: ['push'] })).map(presentDevice),
        };
      },
    );

    app.patch(
      '/push/subscriptions/:id',
      {
        schema: {
          tags: ['push'],
          summary: 'Choose which channels notify a device, or rename it',
          params: idParams,
          body: pushSubscriptionPatchSchema,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        const device = await ownDevice(actor, request.params.id);
        const { channels, label } = request.body;
        const updated = await store.destinations.update(device.id, {
          ...(channels !== undefined ? { channels: await allowedChannels(actor, channels) } : {}),
          ...(label !== undefined ? { name: label } : {}),
        });
        await changed();
        return presentDevice(updated ?? device);
      },
    );

    app.delete(
      '/push/subscriptions/:id',
      { schema: { tags: ['push'], summary: 'Turn notifications off for a device, at once', params: idParams } },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        const device = await ownDevice(actor, request.params.id);
        await store.destinations.remove(device.id);
        await changed();
        return reply.status(204).send();
      },
    );

    app.post(
      '/push/subscriptions/:id/test',
      { schema: { tags: ['push'], summary: 'Send a test notification to a device now', params: idParams } },
      async (request) => {
        const actor = await authenticate(request, accounts);
        const result = await delivery.testSend(await ownDevice(actor, request.params.id));
        if (result.kind === 'gone') await store.destinations.remove(request.params.id);
        return {
          ok: result.kind === 'delivered',
          status: result.status,
          error: result.kind === 'delivered' ? null : result.error,
        };
      },
    );
  };
}

function configOf(input: DestinationInput): Record<string, unknown> {
  switch (input.kind) {
    case 'webhook':
    case 'discord':
      return { url: input.url };
    case 'telegram':
      return { chatId: input.chatId, botToken: input.botToken };
  }
}

/** What a destination delivers to, without its secrets (a Discord token, a bot token). */
function describeTarget(d: DestinationRecord): string {
  const config = d.config as { url?: string; chatId?: string; botToken?: string; endpoint?: string };
  switch (d.kind) {
    case 'webhook':
      return config.url ?? '';
    case 'discord':
      return (config.url ?? '').replace(/(\/webhooks\/\d+\/)[\w-]+/, '$1…');
    case 'telegram':
      return `chat ${config.chatId ?? '?'} via bot ${config.botToken?.split(':')[0] ?? '?'}`;
    case 'push':
      return config.endpoint ? new URL(config.endpoint).host : '';
  }
}

function presentDevice(d: DestinationRecord) {
  return {
    id: d.id,
    label: d.name,
    // The owner's own browser gave it; the page matches it to tell "this device".
    endpoint: (d.config as { endpoint?: string }).endpoint ?? null,
    channels: d.channels,
    pushService: describeTarget(d),
    state: d.state,
    lastSuccessAt: d.lastSuccessAt,
    lastError: d.lastError,
    createdAt: d.createdAt,
  };
}
