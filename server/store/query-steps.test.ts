/**
 * One transaction body, two ways to run it: awaited statement by statement in a Kysely
 * transaction, and all at once on better-sqlite3. Both must hand each statement's first row
 * back, and throw a failing statement back into the body where its `catch` can roll back a
 * savepoint and go on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect } from 'kysely';
import { tempDir } from '../../test/helpers/databases.js';
import { ask, runSteps, runStepsNow, type Steps } from './query-steps.js';

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

function open(name: string): BetterSqlite3.Database {
  const raw = new BetterSqlite3(join(dir.path, name));
  raw.exec('CREATE TABLE t (k INTEGER PRIMARY KEY)');
  return raw;
}

const keys = (raw: BetterSqlite3.Database) => raw.prepare('SELECT k FROM t ORDER BY k').pluck().all();

test('all at once: rows come back, a failing statement reaches the body’s catch', () => {
  const raw = open('now.db');
  const execute = ({ sql, parameters }: CompiledQuery) => {
    const statement = raw.prepare(sql);
    if (statement.reader) return statement.all(...parameters);
    statement.run(...parameters);
    return [];
  };
  const result = raw.transaction(() => runStepsNow(body(), execute))();
  assert.deepEqual(result.first, { k: 1 });
  assert.match(result.refused, /UNIQUE constraint failed/);
  assert.deepEqual(keys(raw), [1, 2]);
  raw.close();
});

test('awaited in a Kysely transaction: the same rows, the same catch', async () => {
  const raw = open('awaited.db');
  const db = new Kysely<object>({ dialect: new SqliteDialect({ database: raw }) });
  const result = await db.transaction().execute((trx) => runSteps(body(), trx));
  assert.deepEqual(result.first, { k: 1 });
  assert.match(result.refused, /UNIQUE constraint failed/);
  assert.deepEqual(keys(raw), [1, 2]);
  await db.destroy();
});

test('a failure the body does not catch leaves it and rolls the transaction back', async () => {
  const raw = open('uncaught.db');
  const db = new Kysely<object>({ dialect: new SqliteDialect({ database: raw }) });
  function* twice(): Steps<void> {
    yield* ask(insert(7));
    yield* ask(insert(7));
  }
  await assert.rejects(
    db.transaction().execute((trx) => runSteps(twice(), trx)),
    /UNIQUE constraint failed/,
  );
  assert.deepEqual(keys(raw), []);
  await db.destroy();
});
