/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers
 * and, in a cluster, the node hears the other nodes — without that, revocations reach its
 * connections only at the next resync, so a load balancer should send clients elsewhere).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Runtime } from '../../runtime.js';

export function healthRoutes(runtime: Runtime): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      // Nothing here for strangers to learn from: not even how many events the log holds.
      const status = { store: runtime.store.kind, bus: runtime.bus.kind };
      try {
        await runtime.store.ping();
      } catch (error) {
        return reply.status(503).send({
          ready: false,
          ...status,
          error: { code: 'database_unavailable', message: (error as Error).message },
        });
      }
      if (runtime.bus.listening === false) {
        return reply.status(503).send({
          ready: false,
          ...status,
          error: { code: 'bus_unavailable', message: 'not listening for other nodes; reconnecting' },
        });
      }
      return { ready: true, ...status };
    });
  };
}
