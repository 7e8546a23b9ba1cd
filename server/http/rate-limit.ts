/**
 * Per-address rate limits on the routes that hash a password (sign-in, setup, password
 * change): a flood from one address is refused before it costs an argon2 hash. One node
 * counts in memory; a cluster counts through the store, so every node sees one count.
 */
import fastifyRateLimit, {
  type FastifyRateLimitStore,
  type RateLimitOptions,
  type RateLimitPluginOptions,
} from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { addressKey } from './client-address.js';

/** A `@fastify/rate-limit` store over `Store.hitThrottle`: one atomic count shared by every node. */
function sharedRateLimitStore(store: Store, prefix = 'rate'): new () => FastifyRateLimitStore {
  return class SharedRateLimitStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ) {
      const now = Date.now();
      store.hitThrottle(`${prefix}:${key}`, now, timeWindow).then(
        (state) => callback(null, { current: state.attempts, ttl: Math.max(0, state.windowStart + timeWindow - now) }),
        (error: Error) => callback(error),
      );
    }

    child(route: { url?: string; path?: string }): FastifyRateLimitStore {
      const Child = sharedRateLimitStore(store, `${prefix}:${route.url ?? route.path ?? ''}`);
      return new Child();
    }
  };
}

export async function registerRateLimits(
  app: FastifyInstance,
  options: { store: Store; shared: boolean; onExceeded?: () => void },
): Promise<void> {
  const settings: RateLimitPluginOptions = {
    global: false,
    onExceeded: () => options.onExceeded?.(),
    keyGenerator: (request) => addressKey(request.ip),
    errorResponseBuilder: (_request, context) =>
      new AppError(
        429,
        'rate_limited',
        `too many requests from this address; try again in ${context.after}`,
        undefined,
        Math.max(1, Math.ceil(context.ttl / 1000)),
      ),
  };
  if (options.shared) settings.store = sharedRateLimitStore(options.store);
  await app.register(fastifyRateLimit, settings);
}

/** The route option for a password-hashing route: `perMinute` requests per address (0: no limit). */
export function authRateLimit(perMinute: number): { rateLimit: RateLimitOptions | false } {
  return { rateLimit: perMinute > 0 ? { max: perMinute, timeWindow: 60_000 } : false };
}
