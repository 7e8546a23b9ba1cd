import pg from 'pg';

/**
 * A pool that survives the database going away. node-postgres emits `error` on a client
 * whose connection dies while it has no query running — idle in the pool (the pool's own
 * `error` event) or checked out between two statements of a transaction (the client's
 * `error` event, which nothing else listens to): unheard, either would crash the process.
 * Swallowing them is safe: the statement in flight fails on its own (mapped to 503), and
 * the pool discards a client that is no longer queryable when it is released.
 */
export function resilientPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
