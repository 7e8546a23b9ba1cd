/**
 * The embedded store: one SQLite file through better-sqlite3, in WAL mode with
 * synchronous=FULL so an acknowledged append survives power loss, not only a crash.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, sql, SqliteDialect, type RawBuilder, type SqlBool, type SqliteDatabase } from 'kysely';
import type { Database } from '../schema.js';
import { likeSubstring, SqlStore } from '../sql-store.js';
import { runStepsNow, type Steps } from '../query-steps.js';
import { sqliteMigrations } from './migrations.js';
import { withStatementCache } from './statement-cache.js';
import { BackgroundCheckpointer, type CheckpointStats } from './checkpointer.js';

const SYNCHRONOUS_FULL = 2;
const BEGIN = CompiledQuery.raw('BEGIN');
const COMMIT = CompiledQuery.raw('COMMIT');
const ROLLBACK = CompiledQuery.raw('ROLLBACK');

export interface SqliteOpenOptions {
  readonly?: boolean;
  /**
   * Checkpoint the WAL on a worker thread instead of inside commits (the server does; short
   * CLI runs keep SQLite's default). Called if the thread fails and SQLite's own returns.
   */
  backgroundCheckpoints?: { onFailure: (reason: string) => void };
}

export class SqliteStore extends SqlStore {
  private readonly checkpointer: BackgroundCheckpointer | undefined;

  /** With `background`, checkpoints run on a worker thread (see checkpointer.ts). */
  constructor(
    readonly raw: BetterSqlite3.Database,
    background?: { file: string; onFailure: (reason: string) => void },
  ) {
    // One cache of prepared statements, for Kysely's queries and the appends run at once.
    const database = withStatementCache(raw);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    const runNow = transactionNow(raw, database);
    super(db, {
      kind: 'sqlite',
      sharedByNodes: false,
      sizes: async () => ({ databaseBytes: fileSize(raw.name), walBytes: fileSize(`${raw.name}-wal`) }),
      migrations: sqliteMigrations,
      // better-sqlite3 commits (and fsyncs) on the main thread: batch the appends.
      groupCommit: true,
      // Kysely's one connection is held meanwhile, so no transaction of its own is open.
      // These statements go to better-sqlite3 directly: Kysely's plugins and log do not see them.
      runTransaction: (steps) => db.connection().execute(async () => runNow(steps)),
      searchCondition: trigramSearch,
      close: async () => {
        if (raw.open) raw.close();
      },
    });
    this.checkpointer = background && new BackgroundCheckpointer(raw, background.file, background.onFailure);
  }

  /** Runs of the background checkpointer, when there is one. */
  get checkpointStats(): CheckpointStats | undefined {
    return this.checkpointer?.stats;
  }

  override async close(): Promise<void> {
    // The thread's connection closes first, so this one, the last, checkpoints and removes the WAL.
    await this.checkpointer?.close();
    await super.close();
  }

  /**
   * `PRAGMA data_version` changes only when another connection commits, so polling it is a
   * cheap way to learn that the CLI (another process) granted, revoked or imported.
   */
  watchExternalCommits(onChange: () => void, intervalMs = 1000): () => void {
    const version = () => Number(this.raw.pragma('data_version', { simple: true }));
    let last = version();
    const timer = setInterval(() => {
      if (!this.raw.open) return;
      const now = version();
      if (now !== last) {
        last = now;
        onChange();
      }
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** A consistent copy of the live database (SQLite's online backup), safe while others write. */
  async backup(file: string, onProgress?: (done: number, total: number) => void): Promise<void> {
    await this.raw.backup(file, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress?.(totalPages - remainingPages, totalPages);
        return 256;
      },
    });
  }

  /** `PRAGMA integrity_check`: 'ok' or the problems found. */
  integrityCheck(): string {
    const rows = this.raw.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).join('; ');
  }
}

/** A file's size in bytes; 0 when it is not there (no WAL between checkpoints, `:memory:`). */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Substring search through the FTS5 trigram index (`signals_search`, keyed by seq): a phrase
 * of three or more characters matches exactly where LIKE '%text%' would. Shorter text has no
 * trigram to look up, so it falls back to LIKE over the rows the other filters leave.
 */
function trigramSearch(text: string): RawBuilder<SqlBool> {
  if ([...text].length < 3) return likeSubstring(text);
  const phrase = `"${text.replace(/"/g, '""')}"`;
  return sql<SqlBool>`signals.seq IN (SELECT rowid FROM signals_search WHERE signals_search MATCH ${phrase})`;
}

/**
 * Runs a transaction's steps on `raw` from BEGIN to COMMIT (ROLLBACK if they throw) before
 * returning, through `database` (a statement cache over `raw`).
 */
export function transactionNow(raw: BetterSqlite3.Database, database: SqliteDatabase): <T>(steps: Steps<T>) => T {
  const execute = ({ sql, parameters }: CompiledQuery): readonly unknown[] => {
    const statement = database.prepare(sql);
    if (statement.reader) return statement.all(parameters);
    statement.run(parameters);
    return [];
  };
  return (steps) => {
    execute(BEGIN);
    try {
      const result = runStepsNow(steps, execute);
      execute(COMMIT);
      return result;
    } catch (error) {
      if (raw.inTransaction) execute(ROLLBACK);
      throw error;
    }
  };
}

/**
 * The database holds password and session hashes (and, before they moved to a key file, the
 * signing key): its folder is made 0700 and the file 0600 before SQLite opens it, and SQLite
 * gives its WAL and shared-memory files the database file's mode. A file found readable by
 * others is tightened the same way.
 */
export function restrictFiles(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(path) && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
}

/** Opens (creating if needed) the SQLite file at `file` and refuses to run without durable settings. */
export function openSqliteStore(file: string, options: SqliteOpenOptions = {}): SqliteStore {
  if (file !== ':memory:' && !options.readonly) restrictFiles(file);
  const raw = new BetterSqlite3(file, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
  });
  raw.pragma('busy_timeout = 10000');
  if (!options.readonly) {
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.pragma('foreign_keys = ON');
    const journal = String(raw.pragma('journal_mode', { simple: true }));
    const synchronous = Number(raw.pragma('synchronous', { simple: true }));
    if (journal !== 'wal' || synchronous !== SYNCHRONOUS_FULL) {
      raw.close();
      throw new Error(
        `SQLite at ${file} runs with journal_mode=${journal}, synchronous=${synchronous}; ` +
          'signal-desk needs journal_mode=WAL and synchronous=FULL (2) to acknowledge durably',
      );
    }
  }
  const background = options.backgroundCheckpoints && !options.readonly && file !== ':memory:';
  return new SqliteStore(raw, background ? { file, onFailure: options.backgroundCheckpoints!.onFailure } : undefined);
}
