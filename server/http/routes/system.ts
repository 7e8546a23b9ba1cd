/** `GET /api/system` (admin): the System page's live figures (see server/system.ts). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { forbidden } from '../../core/errors.js';
import { isAdmin } from '../../core/policy.js';
import type { Runtime } from '../../runtime.js';
import type { SystemMonitor } from '../../system.js';
import { authenticate } from '../auth.js';

export function systemRoutes(runtime: Runtime, monitor: SystemMonitor): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/system',
      {
        schema: {
          tags: ['system'],
          summary:
            'How the installation is doing (admin): nodes, connections and deliveries over the last hour, latency, database size, signing key',
        },
      },
      async (request) => {
        const actor = await authenticate(request, runtime.accounts);
        if (!isAdmin(actor)) throw forbidden('only admins see the system page');
        return monitor.snapshot();
      },
    );
  };
}
