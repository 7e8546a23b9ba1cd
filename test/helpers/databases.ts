/**
 * Real databases for tests: a fresh SQLite file in a temp folder, or a fresh PostgreSQL
 * database on the local server. PostgreSQL is required in CI; elsewhere its suites skip
 * with a visible message when no server answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export function tempDir(prefix = 'signal-desk-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function sqliteDatabase(): TestDatabase {
  const dir = tempDir();
  return { url: `sqlite:${join(dir.path, 'test.db')}`, drop: async () => dir.remove() };
}

let pgAvailable: Promise<string | null> | undefined;

/** null when PostgreSQL answers; otherwise why not. */
export function postgresUnavailable(): Promise<string | null> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return null;
    } catch (error) {
      return `PostgreSQL at ${PG_ADMIN_URL} is not reachable (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return pgAvailable;
}

/**
 * The `skip` option for a PostgreSQL suite: false when the server answers. In CI a missing
 * server is a failure, never a skip.
 */
export async function skipWithoutPostgres(): Promise<string | false> {
  const why = await postgresUnavailable();
  if (!why) return false;
  if (process.env.CI) throw new Error(`${why}; PostgreSQL suites are required in CI`);
  console.warn(`SKIPPING PostgreSQL suite: ${why}`);
  return `SKIPPED: ${why}`;
}

export async function postgresDatabase(): Promise<TestDatabase> {
  const name = `sd_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
