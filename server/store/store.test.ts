/** The store contract against both backends: a temp SQLite file and a fresh PostgreSQL database. */
import { sql } from 'kysely';
import {
  postgresDatabase,
  skipWithoutPostgres,
  sqliteDatabase,
  type TestDatabase,
} from '../../test/helpers/databases.js';
import { openPostgresStore } from './postgres/postgres-store.js';
import type { SqlStore } from './sql-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { sqlitePath } from './open-store.js';
import { runIntegrationsContract } from './integrations.contract.js';
import { runStoreContract, type StoreFactory, type StoreHarness } from './store.contract.js';

async function harness(
  database: TestDatabase,
  open: () => SqlStore,
  concurrentWriters: boolean,
): Promise<StoreHarness> {
  const store = open();
  await store.migrate();
  const opened: SqlStore[] = [store];
  return {
    store,
    concurrentWriters,
    async openAnother() {
      const another = open();
      opened.push(another);
      return another;
    },
    async execute(statement) {
      await sql.raw(statement).execute(store.db);
    },
    async tables() {
      const query =
        store.kind === 'sqlite'
          ? sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
          : sql<{
              name: string;
            }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`;
      return (await query.execute(store.db)).rows.map((r) => r.name);
    },
    async destroy() {
      for (const s of opened) await s.close().catch(() => {});
      await database.drop();
    },
  };
}

const sqlite: StoreFactory = async () => {
  const database = sqliteDatabase();
  return harness(database, () => openSqliteStore(sqlitePath(database.url)), false);
};

const postgres: StoreFactory = async () => {
  const database = await postgresDatabase();
  // Random pauses while the log lock is held widen every race the contract looks for.
  return harness(database, () => openPostgresStore(database.url, { appendDelayMs: 5 }), true);
};

runStoreContract('sqlite', sqlite);

// As the server opens it: checkpoints on a worker thread while the contract writes.
runStoreContract('sqlite, background checkpoints', async () => {
  const database = sqliteDatabase();
  return harness(
    database,
    () =>
      openSqliteStore(sqlitePath(database.url), {
        backgroundCheckpoints: {
          onFailure: (reason) => {
            throw new Error(reason);
          },
        },
      }),
    false,
  );
});

runStoreContract('postgres', postgres, { skip: skipWithoutPostgres });
runIntegrationsContract('sqlite', sqlite);
runIntegrationsContract('postgres', postgres, { skip: skipWithoutPostgres });
