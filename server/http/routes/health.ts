/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers). */
import type { FastifyPluginAsync } from 'fastify';
import type { Runtime } from '../../runtime.js';

export function healthRoutes(runtime: Runtime): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      try {
        await runtime.store.ping();
        return { ready: true, store: runtime.store.kind, bus: runtime.bus.kind, headSeq: runtime.hub.headSeq };
      } catch (error) {
        return reply
          .status(503)
          .send({ ready: false, error: { code: 'database_unavailable', message: (error as Error).message } });
      }
    });
  };
}
