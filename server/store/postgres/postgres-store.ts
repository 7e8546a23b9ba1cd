/**
 * The cluster store: an existing PostgreSQL server shared by every node. seq is assigned
 * under the log_head row lock, held to commit (see SqlStore.append), never by a sequence.
 */
import { Kysely, PostgresDialect, sql, type KyselyPlugin } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';
import { SqlStore } from '../sql-store.js';
import { AppendDelayPlugin, appendDelayFromEnv } from './append-delay.js';
import { postgresMigrations } from './migrations.js';
import { resilientPool } from './resilient-pool.js';

const INT8_OID = 20;
/** Advisory lock key held while migrating, so nodes starting together migrate one at a time. */
const MIGRATION_LOCK = 0x5d_6d_16;

/** pg returns BIGINT as strings; seqs stay far below 2^53, so numbers are exact. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PostgresStoreOptions {
  /** TEST-ONLY: see append-delay.ts. */
  appendDelayMs?: number;
}

export class PostgresStore extends SqlStore {
  constructor(
    readonly pool: pg.Pool,
    options: PostgresStoreOptions = {},
  ) {
    const plugins: KyselyPlugin[] = options.appendDelayMs ? [new AppendDelayPlugin(options.appendDelayMs)] : [];
    super(new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins }), {
      kind: 'postgres',
      sharedByNodes: true,
      // The server's WAL is shared by every database on it: not this installation's to report.
      sizes: async (db) => {
        const { rows } = await sql<{
          bytes: number | string;
        }>`SELECT pg_database_size(current_database()) AS bytes`.execute(db);
        return { databaseBytes: Number(rows[0]?.bytes ?? 0), walBytes: null };
      },
      migrations: postgresMigrations,
      close: async () => {},
      // Under read committed two transactions can both find nothing in each other's way: the
      // ones that must not interleave take turns on an advisory lock held to their commit.
      exclusively: (db, lock, work) =>
        db.transaction().execute(async (trx) => {
          await sql`SELECT pg_advisory_xact_lock(${lock})`.execute(trx);
          return work(trx);
        }),
    });
  }

  /**
   * Several nodes may start at once on an empty database; without a lock they would race on
   * `CREATE TABLE` and both try version 1. A session advisory lock makes them take turns
   * (the later ones then find nothing left to apply).
   */
  override async migrate(): Promise<number> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        return await super.migrate();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch((error: Error) => {
          failure = error;
        });
      }
    } finally {
      // A connection whose unlock failed is discarded, which releases the lock with it.
      client.release(failure);
    }
  }
}

export function postgresPoolConfig(connectionString: string): pg.PoolConfig {
  return {
    connectionString,
    types,
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // A peer that vanished without closing the TCP connection is noticed instead of hanging.
    keepAlive: true,
    application_name: 'signal-desk',
  };
}

export function openPostgresStore(connectionString: string, options?: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(
    resilientPool(postgresPoolConfig(connectionString)),
    options ?? { appendDelayMs: appendDelayFromEnv() },
  );
}
