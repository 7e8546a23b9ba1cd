/**
 * The contract of the inlet and outlet stores (integrations.ts), run against every backend
 * by store.test.ts: destinations with their leases and cursors, attempt logs, sources with
 * their request logs, API tokens and channel mirrors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StoreFactory, StoreHarness } from './store.contract.js';
import type { Store } from './store.js';

const webhook = (name: string, channels = ['gold']) => ({
  kind: 'webhook' as const,
  name,
  config: { url: `https://hooks.example.com/${name}` },
  secret: 'whsec_x',
  ownerId: null,
  channels,
  enabled: true,
  deliveredSeq: 0,
  createdBy: null,
});

export function runIntegrationsContract(
  name: string,
  factory: StoreFactory,
  options: { skip?: () => Promise<string | false> } = {},
): void {
  describe(`integrations contract: ${name}`, async () => {
    const skip = options.skip ? await options.skip() : false;
    let h: StoreHarness;
    let store: Store;
    before(async () => {
      if (skip) return;
      h = await factory();
      store = h.store;
      await store.createChannel({ slug: 'gold', name: 'Gold', description: null });
      await store.createChannel({ slug: 'free', name: 'Free', description: null });
    });
    after(async () => {
      if (!skip) await h.destroy();
    });
    const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);

    it('destinations: create, list by owner, update, remove; a push endpoint is unique', async () => {
      const a = await store.destinations.create(webhook('a'));
      assert.equal(a.state, 'active');
      assert.deepEqual((await store.destinations.get(a.id))?.config, { url: 'https://hooks.example.com/a' });
      const owner = await store.createUser({
        email: 'device@example.test',
        name: null,
        role: 'subscriber',
        passwordHash: 'x',
      });
      const push = {
        ...webhook('phone'),
        kind: 'push' as const,
        config: { endpoint: 'https://push.example.com/e1', keys: { p256dh: 'p', auth: 'a' } },
        secret: null,
        ownerId: owner.id,
      };
      const device = await store.destinations.create(push);
      await assert.rejects(store.destinations.create(push), 'the same endpoint twice');
      assert.equal((await store.destinations.findPushByEndpoint('https://push.example.com/e1'))?.id, device.id);
      assert.deepEqual(
        (await store.destinations.list({ ownerId: owner.id })).map((d) => d.id),
        [device.id],
      );
      assert.ok((await store.destinations.list({ ownerId: null })).some((d) => d.id === a.id));
      const renamed = await store.destinations.update(a.id, {
        name: 'renamed',
        channels: ['gold', 'free'],
        enabled: false,
      });
      assert.equal(renamed?.name, 'renamed');
      assert.deepEqual(renamed?.channels, ['gold', 'free']);
      assert.equal(renamed?.enabled, false);
      assert.equal(await store.destinations.remove(device.id), true);
      assert.equal(await store.destinations.get(device.id), undefined);
    });

    it('leases: of two nodes claiming at once each destination goes to one; cursors move only under the lease, only forward', async () => {
      const created = await Promise.all(['l1', 'l2', 'l3', 'l4'].map((n) => store.destinations.create(webhook(n))));
      const ids = new Set(created.map((d) => d.id));
      const other = await h.openAnother();
      try {
        const now = 1_900_000_000_000;
        const [first, second] = await Promise.all([
          store.destinations.claim('node-a', now, 30_000),
          other.destinations.claim('node-b', now, 30_000),
        ]);
        const mine = (list: typeof first) => list.filter((d) => ids.has(d.id)).map((d) => d.id);
        assert.equal(mine(first).length + mine(second).length, 4, 'each held by exactly one node');
        const holder = mine(first).length > 0 ? 'node-a' : 'node-b';
        const held = mine(holder === 'node-a' ? first : second)[0]!;
        const stranger = holder === 'node-a' ? 'node-b' : 'node-a';
        assert.deepEqual(
          await store.destinations.advance(stranger, [{ id: held, seq: 5 }]),
          [held],
          'no lease, no move',
        );
        assert.deepEqual(await store.destinations.advance(holder, [{ id: held, seq: 5, lastSuccessAt: 'now' }]), []);
        await store.destinations.advance(holder, [{ id: held, seq: 3 }]);
        assert.equal((await store.destinations.get(held))?.deliveredSeq, 5, 'never backwards');
        assert.equal(await store.destinations.recordState(stranger, held, { attempts: 9 }), false);
        assert.equal(await store.destinations.recordState(holder, held, { attempts: 2, state: 'retrying' }), true);
        // An expired lease is taken over; a paused destination is held by nobody.
        const later = now + 60_000;
        assert.ok((await store.destinations.claim(stranger, later, 30_000)).some((d) => d.id === held));
        await store.destinations.update(held, { state: 'paused' });
        assert.ok(!(await store.destinations.claim(stranger, later + 1, 30_000)).some((d) => d.id === held));
        await store.destinations.release(stranger, [...ids]);
        assert.equal((await store.destinations.get(created[1]!.id))?.leaseOwner, null);
      } finally {
        await other.close();
      }
    });

    it('attempts: logged, newest first, by event, trimmed per destination', async () => {
      const d = await store.destinations.create(webhook('log'));
      const attempt = (seq: number, n: number) => ({
        destinationId: d.id,
        seq,
        eventId: `e${seq}`,
        attempt: n,
        at: new Date(1_900_000_000_000 + seq * 1000 + n).toISOString(),
        status: n < 3 ? 503 : 200,
        outcome: (n < 3 ? 'retry' : 'delivered') as 'retry' | 'delivered',
        error: n < 3 ? 'unavailable' : null,
        durationMs: 12,
      });
      await store.destinations.logAttempts([attempt(1, 1), attempt(1, 2), attempt(1, 3), attempt(2, 1)]);
      const all = await store.destinations.attempts(d.id, { limit: 10 });
      assert.deepEqual(
        all.map((a) => [a.seq, a.attempt]),
        [
          [2, 1],
          [1, 3],
          [1, 2],
          [1, 1],
        ],
      );
      assert.equal((await store.destinations.attempts(d.id, { seq: 1, limit: 10 })).length, 3);
      await store.destinations.trimAttempts(2);
      assert.equal((await store.destinations.attempts(d.id, { limit: 10 })).length, 2);
    });

    it('sources: found by secret hash, rotated, requests logged and trimmed', async () => {
      const source = await store.sources.create({
        kind: 'tradingview',
        name: 'TV',
        channel: 'gold',
        label: 'tv-strategy',
        market: 'crypto',
        allowedIps: ['52.89.214.238'],
        ratePerMinute: 30,
        enabled: true,
        createdBy: null,
        secretHash: 'hash-1',
      });
      assert.equal((await store.sources.bySecretHash('hash-1'))?.id, source.id);
      await store.sources.rotate(source.id, 'hash-2');
      assert.equal(await store.sources.bySecretHash('hash-1'), undefined);
      assert.equal((await store.sources.bySecretHash('hash-2'))?.allowedIps?.[0], '52.89.214.238');
      assert.equal((await store.sources.update(source.id, { enabled: false, allowedIps: null }))?.enabled, false);
      for (let i = 0; i < 3; i++) {
        await store.sources.logRequest({
          sourceId: source.id,
          at: new Date().toISOString(),
          address: '203.0.113.1',
          contentType: 'text/plain',
          body: `body ${i}`,
          status: i ? 400 : 201,
          outcome: i ? 'refused' : 'accepted',
          reasons: i ? { stopLoss: 'missing' } : null,
          eventId: i ? null : 'e1',
        });
      }
      const logged = await store.sources.requests(source.id, 10);
      assert.deepEqual(
        logged.map((r) => r.body),
        ['body 2', 'body 1', 'body 0'],
      );
      assert.deepEqual(logged[0]?.reasons, { stopLoss: 'missing' });
      await store.sources.trimRequests(1);
      assert.equal((await store.sources.requests(source.id, 10)).length, 1);
    });

    it('tokens: found by hash, listed, revoked once', async () => {
      const token = await store.tokens.create({
        name: 'bot',
        tokenHash: 't-hash',
        channels: ['gold'],
        createdBy: null,
      });
      assert.deepEqual((await store.tokens.byHash('t-hash'))?.channels, ['gold']);
      await store.tokens.touch(token.id, '2026-01-01T00:00:00.000Z');
      assert.equal((await store.tokens.list()).find((t) => t.id === token.id)?.lastUsedAt, '2026-01-01T00:00:00.000Z');
      assert.equal(await store.tokens.revoke(token.id), true);
      assert.equal(await store.tokens.revoke(token.id), false);
      assert.ok((await store.tokens.byHash('t-hash'))?.revokedAt);
    });

    it('mirrors: a new delay keeps where releasing started; a new origin starts afresh', async () => {
      await store.createChannel({ slug: 'vip', name: 'VIP', description: null });
      const first = await store.mirrors.put({ channel: 'free', origin: 'vip', delaySeconds: 86_400, fromSeq: 10 });
      assert.equal(first.fromSeq, 10);
      const slower = await store.mirrors.put({ channel: 'free', origin: 'vip', delaySeconds: 3600, fromSeq: 50 });
      assert.deepEqual([slower.delaySeconds, slower.fromSeq], [3600, 10]);
      const moved = await store.mirrors.put({ channel: 'free', origin: 'gold', delaySeconds: 60, fromSeq: 70 });
      assert.deepEqual([moved.origin, moved.fromSeq], ['gold', 70]);
      assert.equal((await store.mirrors.list()).length, 1);
      assert.equal(await store.mirrors.remove('free'), true);
      assert.deepEqual(await store.mirrors.list(), []);
    });
  });
}
