/**
 * `migrate-data` from a real SQLite installation into a fresh PostgreSQL database: accounts
 * keep working, the log is identical byte for byte, the target's chain verifies, and a head
 * the old server signed verifies against the new server's export and key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  postgresDatabase,
  skipWithoutPostgres,
  sqliteDatabase,
  tempDir,
  type TestDatabase,
} from '../helpers/databases.js';
import {
  buildAdmin,
  buildChannel,
  buildSubscriber,
  login,
  publish,
  signalBody,
  startServer,
  type TestServer,
} from '../helpers/server.js';
import { cli, cliOk } from './cli.js';

const skip = await skipWithoutPostgres();

describe('signal-desk migrate-data SQLite → PostgreSQL', { skip }, () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let subscriberEmail: string;
  const firstBody = signalBody('silver', { idempotencyKey: 'migrate-key-first' });
  let firstId: string;
  const saved = tempDir('signal-desk-migrate-');
  const savedFile = (name: string) => join(saved.path, name);

  before(async () => {
    source = sqliteDatabase();
    target = await postgresDatabase();
    const server = await startServer({ database: source });
    const admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    await buildChannel(admin, 'silver');
    const sub = await buildSubscriber(server, admin, { channels: ['gold'] });
    subscriberEmail = sub.user.email;
    const first = await admin.api.post('/api/signals', firstBody);
    assert.equal(first.status, 201);
    firstId = first.body.id;
    for (let i = 1; i < 25; i++) {
      const signal = await publish(admin, i % 2 ? 'gold' : 'silver', { idempotencyKey: `migrate-key-${i}` });
      if (i % 5 === 1) await admin.api.post(`/api/signals/${signal.id}/updates`, { type: 'closed', price: 101 });
    }
    // A subscriber of gold keeps a signed head, as the web app does.
    const head = await sub.api.get('/api/chain/head');
    assert.equal(head.status, 200);
    writeFileSync(savedFile('head.json'), JSON.stringify(head.body));
    await server.close();
  });
  after(async () => {
    await source.drop();
    await target.drop();
    saved.remove();
  });

  test('copies accounts and the log with its chain intact, then refuses to run again', async () => {
    const result = await cliOk(['migrate-data', '--from', source.url, '--to', target.url]);
    assert.match(
      result.stdout,
      /migrated 2 users, 2 channels, 1 grants, \d+ settings, 1 signing key records, the signing key into the target database and 30 events/,
    );
    assert.match(result.stdout, /target chain verifies/);

    const [fromSqlite, fromPostgres] = await Promise.all([
      cliOk(['export'], { DATABASE_URL: source.url }),
      cliOk(['export'], { DATABASE_URL: target.url }),
    ]);
    assert.equal(fromPostgres.stdout, fromSqlite.stdout);
    assert.match((await cliOk(['verify'], { DATABASE_URL: target.url })).stdout, /^OK database: 30 events/m);

    // The migrated installation serves: the same passwords, grants and history.
    const server: TestServer = await startServer({ database: target });
    try {
      const admin = await login(server, 'admin@example.test');
      const sub = await login(server, subscriberEmail);
      const events = await sub.api.get('/api/events?after=0&limit=100');
      assert.equal(events.status, 200);
      assert.ok(events.body.events.length > 0);
      assert.ok(events.body.events.every((e: { channel: string }) => e.channel === 'gold'));
      // An idempotency key used before the move still returns the original signal.
      const again = await admin.api.post('/api/signals', firstBody);
      assert.ok(again.status < 300, JSON.stringify(again.body));
      assert.equal(again.body.id, firstId);
      const next = await publish(admin, 'gold');
      assert.equal(next.seq, 31, 'new appends continue the migrated log');

      // The head the old server signed still verifies: same key, and the history it vouches for is intact.
      writeFileSync(savedFile('key.json'), JSON.stringify((await sub.api.get('/api/chain/key')).body));
      writeFileSync(savedFile('log.ndjson'), (await sub.api.get<string>('/api/export')).body);
      const verified = await cliOk([
        'verify',
        savedFile('log.ndjson'),
        '--partial',
        '--head',
        savedFile('head.json'),
        '--key',
        savedFile('key.json'),
      ]);
      assert.match(verified.stdout, /OK signed head gold seq \d+ .*signature valid, history matches/);
    } finally {
      await server.close();
    }

    const rerun = await cli(['migrate-data', '--from', source.url, '--to', target.url]);
    assert.equal(rerun.code, 1);
    assert.match(rerun.stderr, /is not empty/);
  });

  test('bad arguments give clear errors', async () => {
    const results = await Promise.all([
      cli(['migrate-data', '--from', source.url, '--to', 'mysql://x/y']),
      cli(['migrate-data', '--from', source.url, '--to', source.url]),
      cli(['migrate-data', '--to', target.url]),
      cli(['migrate-data', '--from', 'sqlite:/nonexistent/dir/x.db', '--to', target.url]),
    ]);
    const messages = [/--to must be/, /same database/, /--from/, /no database at/];
    results.forEach((result, i) => {
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, messages[i]!);
    });
  });
});
