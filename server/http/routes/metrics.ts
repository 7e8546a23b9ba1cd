/**
 * `GET /metrics`, Prometheus' text format: on only when METRICS_TOKEN is set, and then only
 * with `Authorization: Bearer <that token>` (401 otherwise); without the setting, 404 — the
 * endpoint is not there to find.
 */
import type { FastifyPluginAsync } from 'fastify';
import { safeEqual } from '../../auth/tokens.js';
import type { Runtime } from '../../runtime.js';

export function metricsRoutes(runtime: Runtime): FastifyPluginAsync {
  const token = runtime.config.metricsToken;
  return async (app) => {
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (!token) return reply.status(404).send({ error: { code: 'not_found', message: 'no route for GET /metrics' } });
      const sent = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!sent || !safeEqual(sent, token)) {
        return reply
          .status(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .send({
            error: { code: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' },
          });
      }
      return reply.header('content-type', runtime.metrics.registry.contentType).send(await runtime.metrics.text());
    });
  };
}
