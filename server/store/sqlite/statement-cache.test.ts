import assert from 'node:assert/strict';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { withStatementCache } from './statement-cache.js';

function database() {
  const raw = new BetterSqlite3(':memory:');
  raw.exec('CREATE TABLE t (n INTEGER)');
  raw.exec('INSERT INTO t VALUES (1), (2), (3)');
  return raw;
}

test('the same SQL gets the same prepared statement; the least recently used are let go', () => {
  const raw = database();
  const db = withStatementCache(raw, 2);
  const a = db.prepare('SELECT n FROM t WHERE n = ?');
  assert.equal(db.prepare('SELECT n FROM t WHERE n = ?'), a);
  const b = db.prepare('SELECT n FROM t WHERE n > ?');
  db.prepare('SELECT n FROM t WHERE n = ?'); // a is now the most recently used
  db.prepare('SELECT n FROM t WHERE n < ?'); // evicts b
  assert.equal(db.prepare('SELECT n FROM t WHERE n = ?'), a);
  assert.notEqual(db.prepare('SELECT n FROM t WHERE n > ?'), b);
  assert.deepEqual(a.all([2]), [{ n: 2 }]);
  db.close();
  assert.equal(raw.open, false);
});

test('a statement still iterating is not handed out again', () => {
  const raw = database();
  const db = withStatementCache(raw);
  const sql = 'SELECT n FROM t ORDER BY n';
  const outer = db.prepare(sql);
  const seen: number[] = [];
  for (const row of outer.iterate([]) as Iterable<{ n: number }>) {
    const inner = db.prepare(sql);
    assert.notEqual(inner, outer);
    seen.push(row.n, (inner.all([]) as Array<{ n: number }>).length);
  }
  assert.deepEqual(seen, [1, 3, 2, 3, 3, 3]);
  db.close();
});
