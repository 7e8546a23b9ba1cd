/** Signed heads: each channel's head, signed again only when it moved; the key kept in the database is one per database. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  postgresDatabase,
  skipWithoutPostgres,
  sqliteDatabase,
  type TestDatabase,
} from '../../test/helpers/databases.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { verifySignedHead } from './chain-signer.js';
import { openSigningKey } from '../signing-key.js';
import { HeadSigner } from './head-signer.js';

const open = async (store: Store, options: ConstructorParameters<typeof HeadSigner>[2] = {}) =>
  new HeadSigner(store, await openSigningKey(store, { kind: 'database' }), options);

async function migrated(url: string): Promise<Store> {
  const store = await openStore(url);
  await store.migrate();
  return store;
}

function suite(name: string, database: () => Promise<TestDatabase>, skip: () => Promise<string | false>) {
  describe(`head signer on ${name}`, async () => {
    const skipped = await skip();
    test(
      'nodes racing to create the key all end up with the same one, and it survives a restart',
      { skip: skipped },
      async () => {
        const db = await database();
        // Migrated one after another (as one deployment's nodes start); then they race for the key.
        const stores: Store[] = [];
        for (let i = 0; i < 3; i++) stores.push(await migrated(db.url));
        try {
          const signers = await Promise.all(stores.map((s) => open(s, { intervalMs: 0 })));
          const fingerprints = new Set(signers.map((s) => s.publicKey.fingerprint));
          assert.equal(fingerprints.size, 1, 'one key for every node');
          for (const s of stores) await s.close();
          const reopened = await migrated(db.url);
          stores.splice(0, stores.length, reopened);
          const again = await open(reopened, { intervalMs: 0 });
          assert.deepEqual(again.publicKey, signers[0]?.publicKey);
        } finally {
          for (const s of stores) await s.close().catch(() => {});
          await db.drop();
        }
      },
    );

    test('signs each channel head, again only when it moved', { skip: skipped }, async () => {
      const db = await database();
      const store = await migrated(db.url);
      try {
        await store.createChannel({ slug: 'gold', name: 'Gold', description: null });
        await store.createChannel({ slug: 'silver', name: 'Silver', description: null });
        const data = { symbol: 'X', market: 'crypto', side: 'buy', entry: 2, stopLoss: 1, takeProfits: [3] } as const;
        const append = (channel: string) =>
          store.append({ type: 'signal.created', channel, author: 'a', data: { ...data, takeProfits: [3] } });
        await append('gold');
        await append('silver');
        let clock = Date.UTC(2026, 0, 1);
        const signer = await open(store, { intervalMs: 0, now: () => new Date((clock += 1000)) });
        const first = await signer.signMoved(['gold']);
        assert.deepEqual(
          first.map((h) => [h.channel, h.seq]),
          [['gold', 1]],
        );
        const [head] = first;
        assert.ok(head && verifySignedHead(head, head.signature, signer.publicKey.raw));
        // Unmoved: the same signature, not a new one.
        assert.deepEqual(await signer.signMoved(['gold']), first);
        await append('gold');
        const [moved] = await signer.signMoved('all');
        assert.equal(moved?.seq, 3);
        assert.ok(moved && moved.signedAt > head.signedAt);
        assert.deepEqual(
          (await signer.signMoved('all')).map((h) => h.channel),
          ['gold', 'silver'],
        );
        assert.deepEqual(await signer.signMoved([]), []);
      } finally {
        await store.close();
        await db.drop();
      }
    });
  });
}

suite(
  'sqlite',
  async () => sqliteDatabase(),
  async () => false,
);
suite('postgres', postgresDatabase, skipWithoutPostgres);
