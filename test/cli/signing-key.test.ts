/**
 * `signing-key rotate`: after a restart the server signs with the new key, both keys are
 * listed, and a head signed before the rotation still verifies with the old public key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifySignedHead, type SignedHead } from '../../server/core/chain-signer.js';
import { sqliteDatabase, type TestDatabase } from '../helpers/databases.js';
import { buildAdmin, buildChannel, login, publish, startServer, type TestServer } from '../helpers/server.js';
import { cli, cliOk } from './cli.js';

interface KeyList {
  active: string;
  keys: Array<{ fingerprint: string; raw: string; retiredAt: string | null }>;
}

describe('signal-desk signing-key', () => {
  let db: TestDatabase;
  let server: TestServer;
  let before1: { head: SignedHead; key: { fingerprint: string } };

  before(async () => {
    db = sqliteDatabase();
    server = await startServer({ database: db });
    const admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    await publish(admin, 'gold');
    const res = await admin.api.get('/api/chain/head');
    before1 = { head: res.body.heads[0], key: res.body.key };
    await server.close();
  });
  after(() => db.drop());

  test('rotate retires the old key; the restarted server signs with the new one; old heads still verify', async () => {
    const rotated = await cliOk(['signing-key', 'rotate'], { DATABASE_URL: db.url });
    assert.match(rotated.stdout, new RegExp(`rotated the signing key: ${before1.key.fingerprint} → sha256:`));
    server = await startServer({ database: db });
    try {
      const admin = await login(server, 'admin@example.test');
      await publish(admin, 'gold');
      const head = await admin.api.get('/api/chain/head');
      assert.notEqual(head.body.key.fingerprint, before1.key.fingerprint);
      const list = (await admin.api.get<KeyList>('/api/chain/keys')).body;
      assert.equal(list.active, head.body.key.fingerprint);
      const old = list.keys.find((k) => k.fingerprint === before1.key.fingerprint);
      assert.ok(old?.retiredAt, 'the old key is listed, retired');
      assert.ok(verifySignedHead(before1.head, before1.head.signature, old.raw), 'a head signed before still verifies');
      const shown = await cliOk(['signing-key', 'show'], { DATABASE_URL: db.url });
      assert.match(shown.stdout, /kept in: .*signing-key\.pem/);
      assert.match(shown.stdout, new RegExp(`${before1.key.fingerprint} .*retired`));
    } finally {
      await server.close();
    }
    const refused = await cli(['signing-key', 'rotate'], {
      DATABASE_URL: db.url,
      SIGNING_KEY_FILE: '',
      SIGNING_KEY: 'x',
    });
    assert.equal(refused.code, 2, 'a malformed SIGNING_KEY is a configuration error');
  });
});
