/**
 * One transaction body, two ways to run it: awaited statement by statement in a Kysely
 * transaction, and all at once by the SQLite store's `transactionNow`. Both must hand each
 * statement's first row back, throw a failing statement back into the body where its `catch`
 * can roll back a savepoint and go on, and roll the transaction back when the body lets a
 * failure through.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect } from 'kysely';
import { tempDir } from '../../test/helpers/databases.js';
import { ask, runSteps, type Steps } from './query-steps.js';
import { transactionNow } from './sqlite/sqlite-store.js';
import { withStatementCache } from './sqlite/statement-cache.js';

const dir = tempDir('query-steps-');
after(() => dir.remove());

const insert = (k: number) => CompiledQuery.raw('INSERT INTO t (k) VALUES (?) RETURNING k', [k]);

function* body(): Steps<{ first: unknown; refused: string }> {
  const first = yield* ask(insert(1));
  yield* ask(CompiledQuery.raw('SAVEPOINT s'));
  let refused = '';
  try {
    yield* ask(insert(1));
  } catch (error) {
    refused = (error as Error).message;
    yield* ask(CompiledQuery.raw('ROLLBACK TO SAVEPOINT s'));
  }
  yield* ask(CompiledQuery.raw('RELEASE SAVEPOINT s'));
  yield* ask(insert(2));
  return { first, refused };
}

function* twice(): Steps<void> {
  yield* ask(insert(7));
  yield* ask(insert(7));
}

/** Runs a body as one transaction on `raw`. */
type Runner = <T>(raw: BetterSqlite3.Database, steps: Steps<T>) => Promise<T>;

/** The two ways to run a body. */
const runners: Record<string, Runner> = {
  'all at once': async (raw, steps) => transactionNow(raw, withStatementCache(raw))(steps),
  'awaited in a Kysely transaction': (raw, steps) =>
    new Kysely<object>({ dialect: new SqliteDialect({ database: raw }) })
      .transaction()
      .execute((trx) => runSteps(steps, trx)),
};

function open(name: string): BetterSqlite3.Database {
  const raw = new BetterSqlite3(join(dir.path, name));
  raw.exec('CREATE TABLE t (k INTEGER PRIMARY KEY)');
  return raw;
}

const keys = (raw: BetterSqlite3.Database) => raw.prepare('SELECT k FROM t ORDER BY k').pluck().all();

for (const [how, run] of Object.entries(runners)) {
  test(`${how}: rows come back, a failing statement reaches the body’s catch`, async () => {
    const raw = open(`${how}-caught.db`);
    const result = await run(raw, body());
    assert.deepEqual(result.first, { k: 1 });
    assert.match(result.refused, /UNIQUE constraint failed/);
    assert.deepEqual(keys(raw), [1, 2]);
    raw.close();
  });

  test(`${how}: a failure the body does not catch leaves it and rolls the transaction back`, async () => {
    const raw = open(`${how}-uncaught.db`);
    await assert.rejects(run(raw, twice()), /UNIQUE constraint failed/);
    assert.deepEqual(keys(raw), []);
    assert.equal(raw.inTransaction, false);
    raw.close();
  });
}
