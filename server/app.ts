/**
 * buildApp(runtime) assembles the HTTP API, the realtime gateways and the web app into a
 * Fastify instance. It never listens; `main.ts` does, tests use `app.inject()` or listen on
 * port 0 themselves.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import { LIMITS } from '../shared/limits.js';
import { errorHandler, loggablePath } from './http/errors.js';
import { capConnectionsPerAddress, type ConnectionCap } from './http/connection-cap.js';
import { registerRateLimits } from './http/rate-limit.js';
import { securityHeaders } from './http/security-headers.js';
import { adminRoutes } from './http/routes/admin.js';
import { authRoutes } from './http/routes/auth.js';
import { chainRoutes } from './http/routes/chain.js';
import { destinationRoutes } from './http/routes/destinations.js';
import { eventRoutes } from './http/routes/events.js';
import { exportRoutes } from './http/routes/export.js';
import { healthRoutes } from './http/routes/health.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { signalRoutes } from './http/routes/signals.js';
import { sourceHookRoutes, sourceRoutes } from './http/routes/sources.js';
import { statsRoutes } from './http/routes/stats.js';
import { systemRoutes } from './http/routes/system.js';
import { tokenRoutes } from './http/routes/tokens.js';
import { SocketGateway } from './realtime/socket-gateway.js';
import { SseGateway } from './realtime/sse.js';
import type { Runtime } from './runtime.js';
import { SystemMonitor } from './system.js';

export interface AppOptions {
  logger: Logger;
  /** Folder of the built web app; served at `/` when present. */
  webRoot?: string | null;
  /** Per-socket outgoing buffer budget before a slow client is disconnected. */
  socketBudgetBytes?: number;
}

export interface BuiltApp {
  app: FastifyInstance;
  sockets: SocketGateway;
  sse: SseGateway;
  /** Null when no cap applies (behind a proxy, or switched off). */
  connections: ConnectionCap | null;
}

const here = dirname(fileURLToPath(import.meta.url));

/** dist/web when running from source (server/) or from the build (dist/server/). */
export function defaultWebRoot(): string | null {
  for (const candidate of [join(here, '..', 'dist', 'web'), join(here, '..', 'web')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return null;
}

export async function buildApp(runtime: Runtime, options: AppOptions): Promise<BuiltApp> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: LIMITS.bodyMaxBytes,
    trustProxy: runtime.config.trustProxy,
    // Per-request lines would dominate the log at fan-out rates; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // A client sending its request a byte a second would otherwise hold a socket for minutes:
    // the whole request must arrive within the timeout, checked every second (Node checks
    // every 30 s by default, which would let such clients linger that long).
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: runtime.config.requestTimeoutMs,
          headersTimeout: Math.min(runtime.config.requestTimeoutMs, 10_000),
          connectionsCheckingInterval: 1000,
        },
        handler,
      ),
  }).withTypeProvider<ZodTypeProvider>();
  const { maxConnectionsPerAddress, trustProxy } = runtime.config;
  const connections =
    maxConnectionsPerAddress > 0 && !trustProxy
      ? capConnectionsPerAddress(app.server, maxConnectionsPerAddress, () =>
          runtime.metrics.refusals.inc({ limit: 'connections_per_address' }),
        )
      : null;

  app.setValidatorCompiler(({ schema }) => (data) => {
    const result = (schema as ZodType).safeParse(data);
    return result.success ? { value: result.data } : { error: result.error };
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send({ error: { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` } });
  });

  await app.register(fastifyCookie);
  // A cluster counts in the store, so a limit holds across nodes; one node counts in memory.
  await registerRateLimits(app, {
    store: runtime.store,
    shared: runtime.store.sharedByNodes,
    onExceeded: () => runtime.metrics.refusals.inc({ limit: 'auth_rate' }),
  });
  // Every request in one short line at debug level (at info, a busy node would log nothing else).
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        url: loggablePath(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  securityHeaders(app, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        frameAncestors: ["'none'"],
      },
    },
    crossOriginEmbedderPolicy: false,
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'signal-desk API',
        version: '1',
        description: 'Durable, real-time trading-signal broadcast. Errors are { error: { code, message, fields? } }.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'sd_session' },
          apiToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              "A bot's API token (`sdt_…`, made by an admin with POST /api/tokens): publishes signals and updates on its channels, nothing else",
          },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    transform: jsonSchemaTransform,
  });

  const sockets = new SocketGateway(runtime, app.server, {
    allowedOrigins: runtime.config.allowedOrigins,
    budgetBytes: options.socketBudgetBytes,
    stallMs: runtime.config.slowClientTimeoutMs,
    logger: options.logger,
  });
  const sse = new SseGateway(runtime, options.logger, { stallMs: runtime.config.slowClientTimeoutMs });
  const monitor = new SystemMonitor(runtime, () => ({ ...sockets.connectionsByTransport(), sse: sse.streamCount }));
  runtime.metrics.gauge(
    'signaldesk_connections',
    'Live client connections on this node, by transport',
    ['transport'],
    () => {
      const { websocket, polling } = sockets.connectionsByTransport();
      return [
        [{ transport: 'websocket' }, websocket],
        [{ transport: 'polling' }, polling],
        [{ transport: 'sse' }, sse.streamCount],
      ];
    },
  );

  await app.register(healthRoutes(runtime));
  await app.register(metricsRoutes(runtime));
  await app.register(authRoutes(runtime), { prefix: '/api' });
  await app.register(
    signalRoutes(runtime, (ids) => sockets.connectedUsers(ids)),
    { prefix: '/api' },
  );
  await app.register(eventRoutes(runtime, sse), { prefix: '/api' });
  await app.register(adminRoutes(runtime), { prefix: '/api' });
  await app.register(statsRoutes(runtime), { prefix: '/api' });
  await app.register(exportRoutes(runtime), { prefix: '/api' });
  await app.register(chainRoutes(runtime), { prefix: '/api' });
  await app.register(sourceRoutes(runtime), { prefix: '/api' });
  await app.register(sourceHookRoutes(runtime));
  await app.register(destinationRoutes(runtime), { prefix: '/api' });
  await app.register(tokenRoutes(runtime), { prefix: '/api' });
  await app.register(systemRoutes(runtime, monitor), { prefix: '/api' });
  app.get('/api/docs', { schema: { hide: true } }, async () => app.swagger());

  const webRoot = options.webRoot === undefined ? defaultWebRoot() : options.webRoot;
  if (webRoot) {
    await app.register(fastifyStatic, { root: webRoot, wildcard: false, index: false, maxAge: '1h' });
    // The web app routes on the client: every other GET outside /api is its index page.
    app.get('/*', { schema: { hide: true } }, (request, reply) => {
      if (request.url.startsWith('/api/') || request.url.startsWith('/socket.io')) {
        return reply.status(404).send({ error: { code: 'not_found', message: 'not found' } });
      }
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    });
  }

  // Long-lived connections would hold server.close() open forever: end them first, then
  // Fastify waits for in-flight requests (publishes included) to answer.
  app.addHook('preClose', async () => {
    monitor.close();
    sse.close();
    await sockets.close();
  });
  return { app, sockets, sse, connections };
}
