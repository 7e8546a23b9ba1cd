/** `GET /api/chain/key` and `GET /api/chain/head` over a real server, checked as a subscriber would. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StoredEvent } from '../../../shared/events.js';
import { sqliteDatabase, type TestDatabase } from '../../../test/helpers/databases.js';
import {
  Api,
  buildAdmin,
  buildChannel,
  buildSubscriber,
  publish,
  startServer,
  type Account,
  type TestServer,
} from '../../../test/helpers/server.js';
import {
  publicKeyInfo,
  verifyEventsAgainstHead,
  verifySignedHead,
  type PublicKeyInfo,
  type SignedHead,
} from '../../core/chain-signer.js';

/** Every event the account may see, once the node has delivered up to `seq`. */
async function exportUpTo(account: Account, seq: number): Promise<StoredEvent[]> {
  // Bounded in time, not attempts: a loaded machine delivers later, not never.
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    const res = await account.api.get<{ events: StoredEvent[]; headSeq: number }>('/api/events?after=0&limit=1000');
    if (res.body.headSeq >= seq) return res.body.events;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the node never delivered seq ${seq}`);
}

describe('signed chain heads over HTTP', () => {
  const database: TestDatabase = sqliteDatabase();
  let server: TestServer;
  let admin: Account;
  let sub: Account;

  before(async () => {
    server = await startServer({ database });
    admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    await buildChannel(admin, 'silver');
    sub = await buildSubscriber(server, admin, { channels: ['gold'] });
    await publish(admin, 'gold');
    await publish(admin, 'silver');
    await publish(admin, 'gold');
  });
  after(async () => {
    await server.close();
    await database.drop();
  });

  test('the public key is published without a session, in PEM and raw form with its fingerprint', async () => {
    const res = await fetch(`${server.url}/api/chain/key`);
    assert.equal(res.status, 200);
    const key = (await res.json()) as PublicKeyInfo;
    assert.equal(key.algorithm, 'Ed25519');
    assert.deepEqual(publicKeyInfo(key.pem), key);
    assert.deepEqual(publicKeyInfo(key.raw), key);
  });

  test("a subscriber gets its channels' signed heads, and its export matches them", async () => {
    const key = (await sub.api.get<PublicKeyInfo>('/api/chain/key')).body;
    const res = await sub.api.get<{ heads: SignedHead[]; key: { fingerprint: string } }>('/api/chain/head');
    assert.equal(res.status, 200);
    assert.equal(res.body.key.fingerprint, key.fingerprint);
    assert.deepEqual(
      res.body.heads.map((h) => [h.channel, h.seq]),
      [['gold', 3]],
    );
    const [head] = res.body.heads as [SignedHead];
    assert.ok(verifySignedHead(head, head.signature, key.raw));
    const events = await exportUpTo(sub, head.seq);
    assert.deepEqual(verifyEventsAgainstHead(events, head), { ok: true, checked: 2 });

    // A channel it may not see yields no head.
    const silver = await sub.api.get<{ heads: SignedHead[] }>('/api/chain/head?channel=silver');
    assert.deepEqual(silver.body.heads, []);
    // An admin sees both.
    const all = await admin.api.get<{ heads: SignedHead[] }>('/api/chain/head');
    assert.deepEqual(
      all.body.heads.map((h) => h.channel),
      ['gold', 'silver'],
    );
  });

  test('on request the head is re-signed once it moved; the older signed head still matches the history', async () => {
    const before = (await sub.api.get<{ heads: SignedHead[] }>('/api/chain/head?channel=gold')).body.heads[0];
    assert.ok(before);
    const published = await publish(admin, 'gold');
    const after = (await sub.api.get<{ heads: SignedHead[] }>('/api/chain/head?channel=gold')).body.heads[0];
    assert.ok(after);
    assert.equal(after.seq, published.seq);
    assert.equal(after.hash, published.hash);
    assert.ok(after.signedAt >= before.signedAt);
    const events = await exportUpTo(sub, published.seq);
    assert.ok(verifyEventsAgainstHead(events, before).ok, 'appending keeps the earlier head provable');
    assert.ok(verifyEventsAgainstHead(events, after).ok);
  });

  test('the key survives a restart', async () => {
    const key = (await sub.api.get<PublicKeyInfo>('/api/chain/key')).body;
    await server.close();
    server = await startServer({ database });
    const again = (await new Api(server.url).get<PublicKeyInfo>('/api/chain/key')).body;
    assert.deepEqual(again, key);
  });
});
