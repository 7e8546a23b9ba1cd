/**
 * Kysely's SQLite driver prepares every query anew; preparing is most of the cost of a
 * small query on better-sqlite3. The store issues a few dozen distinct statements, so the
 * database handed to Kysely keeps the most recently used ones prepared, keyed by their SQL.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; `IN (…)` lists of many lengths are what could exceed it. */
const STATEMENT_CACHE_SIZE = 256;

export function withStatementCache(raw: BetterSqlite3.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      if (raw.open) raw.close();
    },
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      // A statement still iterating cannot run again: such a caller gets a fresh one.
      if (cached && !cached.busy) {
        // Map order is insertion order: re-inserting keeps the least recently used first.
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = raw.prepare(sql);
      if (!cached) {
        cache.set(sql, statement);
        if (cache.size > size) cache.delete(cache.keys().next().value!);
      }
      return statement;
    },
  };
}
