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
import { scopeOf } from '../../core/policy.js';
import type { ChannelScope, Store } from '../../store/store.js';
import type { Runtime } from '../../runtime.js';
import { authenticate } from '../auth.js';

const exportQuery = z.strictObject({
  format: z.enum(EXPORT_FORMATS, { error: 'must be ndjson or csv' }).default('ndjson'),
  channel: slugSchema.optional(),
});

async function* exportText(
  store: Store,
  format: ExportFormat,
  channels: ChannelScope,
  upTo: number,
): AsyncGenerator<string> {
  yield exportPreamble(format);
  if (channels !== 'all' && channels.length === 0) return;
  for await (const page of logPages(store, { channels, upTo })) {
    yield page.map((event) => encodeEvent(event, format)).join('');
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
        return reply
          .header('content-type', CONTENT_TYPES[format])
          .header('content-disposition', `attachment; filename="signal-desk-${stamp}.${format}"`)
          .header('cache-control', 'no-store')
          .header('x-log-head-seq', String(upTo))
          .send(Readable.from(exportText(store, format, channels, upTo)));
      },
    );
  };
}
