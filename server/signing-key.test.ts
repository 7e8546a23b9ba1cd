/**
 * Where the signing key lives: a 0600 file beside a SQLite database (moved out of a database
 * that held it), the environment, or the database on PostgreSQL; the public half of every
 * key stays listed in the database.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { sqliteDatabase, tempDir } from '../test/helpers/databases.js';
import { generateSigningKey, publicKeyInfo } from './core/chain-signer.js';
import { openStore, sqlitePath } from './store/open-store.js';
import type { Store } from './store/store.js';
import { KEY_FILE_NAME, keyLocation, openSigningKey } from './signing-key.js';

async function migrated(url: string): Promise<Store> {
  const store = await openStore(url);
  await store.migrate();
  return store;
}

const fingerprint = (pem: string) => publicKeyInfo(pem).fingerprint;

describe('signing key', () => {
  test('SQLite: created 0600 beside the database, not in it, and reused after a restart', async () => {
    const db = sqliteDatabase();
    const location = keyLocation({ databaseUrl: db.url });
    assert.deepEqual(location, { kind: 'file', path: join(dirname(sqlitePath(db.url)), KEY_FILE_NAME) });
    let store = await migrated(db.url);
    try {
      const first = await openSigningKey(store, location);
      assert.ok(location.kind === 'file');
      assert.equal(statSync(location.path).mode & 0o777, 0o600);
      const records = await store.signingKeys();
      assert.equal(records.length, 1);
      assert.equal(records[0]?.privateKey, null, 'the database holds no private key');
      assert.equal(fingerprint(records[0]!.publicKey), fingerprint(first.publicKeyPem));
      await store.close();
      store = await migrated(db.url);
      const again = await openSigningKey(store, location);
      assert.equal(fingerprint(again.publicKeyPem), fingerprint(first.publicKeyPem));
      assert.equal((await store.signingKeys()).length, 1);
    } finally {
      await store.close();
      await db.drop();
    }
  });

  test('a key an older version kept in the database moves into the file, and its heads keep their key', async () => {
    const db = sqliteDatabase();
    const store = await migrated(db.url);
    try {
      const legacy = generateSigningKey();
      await store.addSigningKey({
        id: 'legacy',
        algorithm: 'Ed25519',
        publicKey: legacy.publicKeyPem,
        privateKey: legacy.privateKeyPem,
        createdAt: '2026-01-01T00:00:00.000Z',
        retiredAt: null,
      });
      const location = keyLocation({ databaseUrl: db.url });
      const key = await openSigningKey(store, location);
      assert.equal(fingerprint(key.publicKeyPem), fingerprint(legacy.publicKeyPem));
      assert.ok(location.kind === 'file' && existsSync(location.path));
      assert.deepEqual(
        (await store.signingKeys()).map((k) => [k.id, k.privateKey]),
        [['legacy', null]],
      );
    } finally {
      await store.close();
      await db.drop();
    }
  });

  test('a key file readable by others is tightened to 0600; a non-Ed25519 key is refused', async () => {
    const dir = tempDir();
    const db = sqliteDatabase();
    const store = await migrated(db.url);
    try {
      const path = join(dir.path, 'key.pem');
      writeFileSync(path, generateSigningKey().privateKeyPem);
      chmodSync(path, 0o644);
      await openSigningKey(store, keyLocation({ databaseUrl: db.url, signingKeyFile: path }));
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const { generateKeyPairSync } = await import('node:crypto');
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      });
      await assert.rejects(openSigningKey(store, { kind: 'env', pem: rsa.toString() }), /SIGNING_KEY holds a rsa key/);
      assert.ok(readFileSync(path, 'utf8').startsWith('-----BEGIN PRIVATE KEY-----'));
    } finally {
      await store.close();
      await db.drop();
      dir.remove();
    }
  });

  test('SIGNING_KEY from the environment signs; its public half is listed once', async () => {
    const db = sqliteDatabase();
    const store = await migrated(db.url);
    try {
      const pair = generateSigningKey();
      const location = keyLocation({ databaseUrl: db.url, signingKey: pair.privateKeyPem });
      assert.equal(location.kind, 'env');
      const a = await openSigningKey(store, location);
      const b = await openSigningKey(store, location);
      assert.equal(fingerprint(a.publicKeyPem), fingerprint(pair.publicKeyPem));
      assert.equal(fingerprint(b.publicKeyPem), fingerprint(pair.publicKeyPem));
      assert.equal((await store.signingKeys()).length, 1);
      assert.equal(existsSync(join(dirname(sqlitePath(db.url)), KEY_FILE_NAME)), false, 'no key file is written');
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
