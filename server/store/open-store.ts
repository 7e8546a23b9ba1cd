/** Opens the store a DATABASE_URL names. Only this file knows which backends exist. */
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** For a long-running server: SQLite checkpoints on a worker thread (see sqlite/checkpointer.ts). */
  backgroundCheckpoints?: { onFailure: (reason: string) => void };
}

export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (databaseUrl.startsWith('sqlite:')) {
    const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
    return openSqliteStore(sqlitePath(databaseUrl), options);
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore(databaseUrl);
  }
  throw new Error(`unsupported DATABASE_URL ${databaseUrl}: use sqlite:<path> or postgres://…`);
}

/** `sqlite:./data/x.db`, `sqlite:/abs/x.db` and `sqlite:///abs/x.db` all name a file. */
export function sqlitePath(databaseUrl: string): string {
  const rest = databaseUrl.slice('sqlite:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}
