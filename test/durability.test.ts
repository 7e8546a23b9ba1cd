/** What an acknowledgement promises: a 201 survives SIGKILL; a graceful stop answers every publish it took. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChainVerifier } from '../server/core/hash-chain.js';
import { openSqliteStore } from '../server/store/sqlite/sqlite-store.js';
import { sqlitePath } from '../server/store/open-store.js';
import { sqliteDatabase, type TestDatabase } from './helpers/databases.js';
import { startServerProcess, type ServerProcess } from './helpers/process.js';
import { Api, PASSWORD, signalBody } from './helpers/server.js';

async function readLog(db: TestDatabase) {
  const store = openSqliteStore(sqlitePath(db.url));
  try {
    const events = await store.readEvents({ after: 0, limit: 1_000_000, channels: 'all' });
    const verifier = new ChainVerifier(true);
    const problems = events.map((e) => verifier.check(e)).filter(Boolean);
    return { events, problems, integrity: store.integrityCheck() };
  } finally {
    await store.close();
  }
}

describe('durability', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  let admin: Api;

  before(async () => {
    db = sqliteDatabase();
    server = await startServerProcess({ env: { DATABASE_URL: db.url } });
    const setup = await new Api(server.url).post('/api/setup', {
      email: 'owner@example.test',
      password: PASSWORD,
      setupCode: server.setupCode(),
    });
    admin = new Api(server.url, setup.body.token);
    assert.equal((await admin.post('/api/channels', { slug: 'main', name: 'Main' })).status, 201);
  });
  after(async () => {
    await server.stop();
    await db.drop();
  });

  test('a signal acknowledged with 201 is there after SIGKILL and a restart, and the chain verifies', async () => {
    const res = await admin.post('/api/signals', signalBody('main', { symbol: 'BTCUSDT', notes: 'durable' }));
    assert.equal(res.status, 201);
    const exit = await server.kill('SIGKILL');
    assert.equal(exit?.signal, 'SIGKILL');

    const log = await readLog(db);
    assert.deepEqual(log.problems, []);
    assert.equal(log.integrity, 'ok');
    const stored = log.events.find((e) => e.id === res.body.id);
    assert.ok(stored, 'the acknowledged event is in the file');
    assert.equal(stored.hash, res.body.hash);

    await server.start();
    const after = await admin.get(`/api/signals/${res.body.id}`);
    assert.equal(after.status, 200);
    assert.equal(after.body.signal.notes, 'durable');
  });

  test('SIGTERM lets in-flight publishes commit and answer, and refuses nothing silently', async () => {
    const attempts = Array.from({ length: 40 }, (_, i) =>
      admin
        .post('/api/signals', signalBody('main', { symbol: `STOP${i}` }))
        .catch((error: Error) => ({ status: 0, body: error.message })),
    );
    // Stop once the server has acknowledged one of them (so `acknowledged` is never empty);
    // the rest are in flight or queued.
    await Promise.any(
      attempts.map((a) => a.then((r) => (r.status === 201 ? r : Promise.reject(new Error('not acknowledged'))))),
    );
    const exit = await server.kill('SIGTERM');
    assert.equal(exit?.code, 0, 'a clean exit');
    const results = await Promise.all(attempts);
    const acknowledged = results.filter((r) => r.status === 201).map((r) => (r.body as { id: string }).id);
    for (const r of results) assert.ok([201, 503, 0].includes(r.status), `unexpected status ${r.status}`);
    const log = await readLog(db);
    const ids = new Set(log.events.map((e) => e.id));
    for (const id of acknowledged) assert.ok(ids.has(id), `acknowledged ${id} is stored`);
    assert.deepEqual(log.problems, []);
    await server.start();
  });

  test('a bad configuration stops the process with a clear message', async () => {
    const bad = startServerProcess({ env: { DATABASE_URL: 'mysql://nope', PORT: 'eighty' } });
    await assert.rejects(
      bad,
      (error: Error) => /PORT: must be a number/.test(error.message) && /DATABASE_URL/.test(error.message),
    );
  });
});
