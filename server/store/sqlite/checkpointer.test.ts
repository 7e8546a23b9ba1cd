/**
 * Background checkpoints: the serving connection never checkpoints inside a commit, the
 * thread copies the WAL into the main file while appends go on, nothing committed is lost
 * across a close, and a thread that cannot run hands checkpoints back to SQLite.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { tempDir } from '../../../test/helpers/databases.js';
import { signalData } from '../../../test/helpers/signal-data.js';
import { BackgroundCheckpointer } from './checkpointer.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = tempDir('checkpointer-');
after(() => dir.remove());

const data = (i: number) => signalData(`S${i}`);

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('the thread checkpoints while appends commit, and a reopen finds every event', async () => {
  const file = join(dir.path, 'background.db');
  const failures: string[] = [];
  const store = openSqliteStore(file, { backgroundCheckpoints: { onFailure: (reason) => failures.push(reason) } });
  await store.migrate();
  assert.equal(store.raw.pragma('wal_autocheckpoint', { simple: true }), 0, 'commits no longer checkpoint');
  await store.createChannel({ slug: 'fx', name: 'FX', description: null });
  const mainFileBefore = statSync(file).size;

  for (let i = 0; i < 300; i++) {
    await store.append({ type: 'signal.created', channel: 'fx', author: 'a', data: data(i) });
  }
  const stats = store.checkpointStats!;
  const runsBefore = stats.runs;
  await until(() => stats.runs > runsBefore && stats.lastCheckpointed === stats.lastLog, 'a complete checkpoint');
  assert.ok(stats.lastLog > 0, 'the checkpoint found frames to copy');
  assert.ok(statSync(file).size > mainFileBefore, 'the main file received the pages');
  assert.deepEqual(failures, []);
  await store.close();

  const reopened = new BetterSqlite3(file, { readonly: true });
  try {
    const row = reopened.prepare('SELECT count(*) AS n, max(seq) AS head FROM events').get() as {
      n: number;
      head: number;
    };
    assert.deepEqual(row, { n: 300, head: 300 });
  } finally {
    reopened.close();
  }
});

test('if the thread cannot run, SQLite checkpoints in commits again and the failure is reported', async () => {
  const file = join(dir.path, 'fallback.db');
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  const failures: string[] = [];
  // The thread opens with fileMustExist: a path that does not exist makes it fail at start.
  const checkpointer = new BackgroundCheckpointer(raw, join(dir.path, 'missing', 'nowhere.db'), (reason) =>
    failures.push(reason),
  );
  await until(() => failures.length > 0, 'the failure report');
  assert.match(failures[0]!, /checkpoint thread (failed|exited)/);
  assert.equal(raw.pragma('wal_autocheckpoint', { simple: true }), 1000);
  await checkpointer.close();
  raw.close();
});
