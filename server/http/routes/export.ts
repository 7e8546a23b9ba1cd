/**
 * `GET /api/export?format=ndjson|csv`: the caller's entitled part of the log with its hashes,
 * streamed page by page (constant memory at any size), in the same formats as
 * `signal-desk export`. A subscriber's file holds only their channels — the same `scopeOf`
 * as `GET /api/events` — and verifies with `signal-desk verify --partial`.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { slugSchema } from '../../../shared/schemas.js';
import {
  CONTENT_TYPES,
  encodeEvent,
  EXPORT_FORMATS,
  exportPreamble,
  logPages,
  type ExportFormat,
} from '../../core/event-codec.js';
import type { BacklogLease } from '../../core/backlog.js';
import { AppError } from '../../core/errors.js';
import { GateFull } from '../../core/gate.js';
import { scopeOf } from '../../core/policy.js';
import type { ChannelScope, Store } from '../../store/store.js';
import type { Runtime } from '../../runtime.js';
import { authenticate } from '../auth.js';

const exportQuery = z.strictObject({
  format: z.enum(EXPORT_FORMATS, { error: 'must be ndjson or csv' }).default('ndjson'),
  channel: slugSchema.optional(),
});

/** Events per page of an export: one page is one turn of the event loop (see backlog.ts). */
const PAGE = 200;

async function* exportText(
  store: Store,
  format: ExportFormat,
  channels: ChannelScope,
  upTo: number,
  lease: BacklogLease,
): AsyncGenerator<string> {
  try {
    yield exportPreamble(format);
    if (channels !== 'all' && channels.length === 0) return;
    for await (const page of logPages(store, { channels, upTo, pageSize: PAGE, beforePage: () => lease.turn() })) {
      yield page.map((event) => encodeEvent(event, format)).join('');
    }
  } finally {
    lease.release();
  }
}

export function exportRoutes(runtime: Runtime): FastifyPluginAsyncZod {
  const { accounts, store, hub } = runtime;

  return async (app) => {
    app.get(
      '/export',
      {
        schema: {
          tags: ['events'],
          summary:
            "Download the caller's entitled events with their hashes (NDJSON: one event per line; CSV: data as a JSON column)",
          querystring: exportQuery,
        },
      },
      async (request, reply) => {
        const actor = await authenticate(request, accounts);
        const { format, channel } = request.query;
        const scope = scopeOf(actor);
        const channels = channel ? (scope === 'all' || scope.includes(channel) ? [channel] : []) : scope;
        // Up to what this node has delivered, as GET /api/events: a snapshot that never runs ahead of live.
        const upTo = hub.headSeq;
        const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
        const lease = await hub.backlog.admit(actor.user.id).catch((error: unknown) => {
          if (error instanceof GateFull)
            throw new AppError(503, 'busy', 'too many exports at once; try again shortly', undefined, 5);
          throw error;
        });
        // At most one page waits in the stream's buffer: a slow download holds little memory.
        const body = Readable.from(exportText(store, format, channels, upTo, lease), { highWaterMark: 1 });
        // A download abandoned before its first read never starts the generator: free the place.
        body.once('close', () => lease.release());
        return reply
          .header('content-type', CONTENT_TYPES[format])
          .header('content-disposition', `attachment; filename="signal-desk-${stamp}.${format}"`)
          .header('cache-control', 'no-store')
          .header('x-log-head-seq', String(upTo))
          .send(body);
      },
    );
  };
}
