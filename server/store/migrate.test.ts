/** A migration whose own statement fails is an error, not a version "applied elsewhere". */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { tempDir } from '../../test/helpers/databases.js';
import type { Database } from './schema.js';
import { SqlStore } from './sql-store.js';

const dir = tempDir('migrate-');
after(() => dir.remove());

function storeWith(file: string, migrations: readonly (readonly string[])[]): SqlStore {
  const raw = new BetterSqlite3(file);
  return new SqlStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) }), {
    kind: 'sqlite',
    sharedByNodes: false,
    sizes: async () => ({ databaseBytes: 0, walBytes: null }),
    migrations,
    close: async () => {},
  });
}

const versions = (file: string) => {
  const raw = new BetterSqlite3(file, { readonly: true });
  try {
    return (raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
      (r) => r.version,
    );
  } finally {
    raw.close();
  }
};

test('a migration statement that breaks a unique constraint fails the migration instead of being skipped', async () => {
  const file = join(dir.path, 'failing.db');
  const store = storeWith(file, [
    ['CREATE TABLE t (a INTEGER UNIQUE)', 'INSERT INTO t VALUES (1)'],
    ['INSERT INTO t VALUES (1)'],
    ['CREATE TABLE later (b INTEGER)'],
  ]);
  await assert.rejects(store.migrate(), /UNIQUE/);
  await store.close();
  assert.deepEqual(versions(file), [1], 'version 2 is not recorded and nothing after it ran');
});
