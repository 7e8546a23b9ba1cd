/**
 * Security headers on every response (API, pages, 404s), from helmet's policies. The
 * middleware is built once at startup; the Fastify wrapper built a new one, CSP parsing
 * included, for every request — on the publish path that was a measurable share of the work.
 */
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

export function securityHeaders(app: FastifyInstance, options: Readonly<HelmetOptions>): void {
  const apply = helmet(options);
  app.addHook('onRequest', (request, reply, done) => {
    apply(request.raw, reply.raw, (error?: unknown) => done(error instanceof Error ? error : undefined));
  });
}
