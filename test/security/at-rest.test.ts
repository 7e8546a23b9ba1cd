/**
 * What lies on disk: the database, its WAL and its backups are readable by their owner only,
 * the signing key lives in its own 0600 file and not in the database, a changed row of the
 * derived signals table fails `verify`, and `import` refuses content the API would refuse
 * even when the file's chain verifies.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { StoredEvent } from '../../shared/events.js';
import { tempDir } from '../helpers/databases.js';
import { rehash } from '../helpers/event-log.js';
import { buildAdmin, buildChannel, publish, startServer, type TestServer } from '../helpers/server.js';
import { cli, cliOk } from '../cli/cli.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('at rest', () => {
  const dir = tempDir('signal-desk-at-rest-');
  const data = join(dir.path, 'data');
  const file = join(data, 'desk.db');
  const url = `sqlite:${file}`;
  let server: TestServer;
  let signalId: string;

  before(async () => {
    server = await startServer({ database: { url, drop: async () => {} } });
    const admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    signalId = (await publish(admin, 'gold')).id;
    await publish(admin, 'gold');
    await admin.api.post(`/api/signals/${signalId}/updates`, { type: 'tp_hit', level: 1 });
    await admin.api.get('/api/chain/head'); // the signer has opened its key
  });

  after(async () => {
    await server?.close();
    dir.remove();
  });

  test('the data folder is 0700; the database, its WAL and shared memory are 0600', () => {
    assert.equal(mode(data), 0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(path), 0o600, path);
  });

  test('the signing key is a 0600 file beside the database; the database holds no private key', () => {
    const key = join(data, 'signing-key.pem');
    assert.equal(mode(key), 0o600);
    assert.match(readFileSync(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT private_key FROM signing_keys').all() as Array<{ private_key: string | null }>;
      assert.ok(rows.length > 0);
      assert.ok(rows.every((r) => r.private_key === null));
    } finally {
      db.close();
    }
  });

  test('a backup is 0600 from its first byte', async () => {
    const backup = join(dir.path, 'backup.db');
    await cliOk(['backup', backup], { DATABASE_URL: url });
    assert.equal(mode(backup), 0o600);
  });

  test('verify fails on a changed row of the derived signals table, naming the signal', async () => {
    assert.match((await cliOk(['verify'], { DATABASE_URL: url })).stdout, /^OK database/m);
    const db = new BetterSqlite3(file);
    try {
      const { view } = db.prepare('SELECT view FROM signals WHERE id = ?').get(signalId) as { view: string };
      const forged = { ...(JSON.parse(view) as Record<string, unknown>), status: 'closed', exitPrice: 120 };
      db.prepare('UPDATE signals SET view = ?, status = ? WHERE id = ?').run(
        JSON.stringify(forged),
        'closed',
        signalId,
      );
    } finally {
      db.close();
    }
    const result = await cli(['verify'], { DATABASE_URL: url });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, new RegExp(`derived state of signal ${signalId}`));
    assert.match(result.stdout + result.stderr, /status is "closed" in the signals table, "tp_hit" by its events/);
  });
});

describe('import refuses what the API would refuse, even when the chain verifies', () => {
  const dir = tempDir('signal-desk-import-content-');
  let server: TestServer;
  let events: StoredEvent[];

  before(async () => {
    server = await startServer();
    const admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    for (let i = 0; i < 3; i++) await publish(admin, 'gold');
    const exported = await admin.api.get<string>('/api/export');
    events = exported.body
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as StoredEvent);
  });

  after(async () => {
    await server.close();
    dir.remove();
  });

  const cases: Array<[string, (event: StoredEvent) => StoredEvent, RegExp]> = [
    [
      'a 200 KB note',
      (e) => ({ ...e, data: { ...e.data, notes: 'x'.repeat(200_000) } }) as StoredEvent,
      /notes must be at most 2000 characters/,
    ],
    [
      'an unknown market',
      (e) => ({ ...e, data: { ...e.data, market: 'tulips' } }) as unknown as StoredEvent,
      /market must be one of/,
    ],
    ['a time far in the future', (e) => ({ ...e, createdAt: '2999-01-01T00:00:00.000Z' }), /is in the future/],
  ];

  for (const [what, change, reason] of cases) {
    test(what, async () => {
      // The last event changed and every hash recomputed: the chain alone verifies.
      const forged = rehash(events.map((e, i) => (i === events.length - 1 ? change(e) : e)));
      const path = join(dir.path, `${what.replace(/\W+/g, '-')}.ndjson`);
      writeFileSync(path, forged.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const target = join(dir.path, `${what.replace(/\W+/g, '-')}.db`);
      const result = await cli(['import', path], { DATABASE_URL: `sqlite:${target}` });
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, reason);
      assert.match(result.stderr, /nothing was written/);
      assert.ok(existsSync(target));
      assert.match((await cliOk(['export'], { DATABASE_URL: `sqlite:${target}` })).stdout, /^$/);
    });
  }
});
