/**
 * The cluster store: an existing PostgreSQL server shared by every node. seq is assigned
 * under the log_head row lock, held to commit (see SqlStore.append), never by a sequence.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';
import { SqlStore } from '../sql-store.js';
import { postgresMigrations } from './migrations.js';

const INT8_OID = 20;

/** pg returns BIGINT as strings; seqs stay far below 2^53, so numbers are exact. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export class PostgresStore extends SqlStore {
  constructor(readonly pool: pg.Pool) {
    super(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), {
      kind: 'postgres',
      migrations: postgresMigrations,
      close: async () => {},
    });
  }
}

export function postgresPoolConfig(connectionString: string): pg.PoolConfig {
  return {
    connectionString,
    types,
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'signal-desk',
  };
}

export function openPostgresStore(connectionString: string): PostgresStore {
  const pool = new pg.Pool(postgresPoolConfig(connectionString));
  // A dropped idle connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return new PostgresStore(pool);
}
