/**
 * Bots publish with API tokens scoped to channels, never as admins; a channel can receive
 * another's signals after a delay, as new events of its own chain naming the originals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StoredEvent } from '../shared/events.js';
import { ChainVerifier } from '../server/core/hash-chain.js';
import {
  Api,
  buildAdmin,
  buildChannel,
  buildSubscriber,
  connect,
  publish,
  signalBody,
  startServer,
  type Account,
  type TestServer,
} from './helpers/server.js';

describe('API tokens', () => {
  let server: TestServer;
  let admin: Account;

  before(async () => {
    server = await startServer();
    admin = await buildAdmin(server);
    for (const slug of ['gold', 'silver']) await buildChannel(admin, slug);
  });
  after(() => server.close());

  test('a token publishes and updates on its channels only, and can do nothing else', async () => {
    const made = await admin.api.post('/api/tokens', { name: 'gold bot', channels: ['gold'] });
    assert.equal(made.status, 201);
    assert.match(made.body.token, /^sdt_[A-Za-z0-9_-]{43}$/);
    const listed = await admin.api.get('/api/tokens');
    assert.ok(!JSON.stringify(listed.body).includes(made.body.token), 'the token is shown once');
    const bot = new Api(server.url, made.body.token);

    const published = await bot.post('/api/signals', signalBody('gold'));
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.equal(published.body.event.author, `token:${made.body.id}`);
    assert.equal((await bot.post('/api/signals', signalBody('silver'))).status, 403);
    assert.equal(
      (await bot.post(`/api/signals/${published.body.id}/updates`, { type: 'tp_hit', level: 1 })).status,
      201,
    );
    const silver = await publish(admin, 'silver');
    assert.equal((await bot.post(`/api/signals/${silver.id}/updates`, { type: 'note', notes: 'x' })).status, 403);

    for (const [method, path, body] of [
      ['GET', '/api/users', undefined],
      ['POST', '/api/channels', { slug: 'bots', name: 'Bots' }],
      ['POST', '/api/tokens', { name: 'another', channels: ['gold'] }],
      ['GET', '/api/signals', undefined],
      ['GET', '/api/destinations', undefined],
    ] as const) {
      const res = await bot.request(method, path, body);
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.match(res.body.error.message, /may only publish/);
    }
    const docs = await admin.api.get('/api/docs');
    assert.ok(docs.body.components.securitySchemes.apiToken, 'the OpenAPI document describes API tokens');

    assert.equal((await admin.api.request('DELETE', `/api/tokens/${made.body.id}`)).status, 204);
    assert.equal((await bot.post('/api/signals', signalBody('gold'))).status, 401, 'revoked at once');
  });

  test('subscribers cannot make or see tokens; bad input is refused', async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['gold'] });
    assert.equal((await sub.api.post('/api/tokens', { name: 'mine', channels: ['gold'] })).status, 403);
    assert.equal((await sub.api.get('/api/tokens')).status, 403);
    assert.equal((await admin.api.post('/api/tokens', { name: 'x', channels: [] })).status, 400);
    assert.equal((await admin.api.post('/api/tokens', { name: 'x', channels: ['nope'] })).status, 400);
  });
});

describe('delayed mirrors', () => {
  let server: TestServer;
  let admin: Account;

  before(async () => {
    server = await startServer();
    admin = await buildAdmin(server);
    for (const slug of ['vip', 'free']) await buildChannel(admin, slug);
  });
  after(() => server.close());

  const freeEvents = async (): Promise<StoredEvent[]> =>
    (await admin.api.get('/api/events?after=0&limit=1000&channel=free')).body.events;

  test('free receives vip’s signals and their updates after the delay, as its own chain naming the originals', async () => {
    const set = await admin.api.request('PUT', '/api/channels/free/mirror', { origin: 'vip', delaySeconds: 2 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const member = await buildSubscriber(server, admin, { channels: ['free'] });
    const watcher = connect(server, { token: member.token });
    await watcher.waitLive();

    const original = await publish(admin, 'vip', { symbol: 'SOLUSDT' });
    const update = await admin.api.post(`/api/signals/${original.id}/updates`, {
      type: 'tp_hit',
      level: 1,
      price: 106,
    });
    assert.equal(update.status, 201);
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal((await freeEvents()).length, 0, 'not before the delay');
    await watcher.waitFor((events) => events.length >= 2, 10_000);
    const released = await freeEvents();
    assert.deepEqual(
      released.map((e) => [e.type, e.data.origin?.id, e.data.origin?.hash]),
      [
        ['signal.created', original.id, original.hash],
        ['signal.updated', update.body.id, update.body.hash],
      ],
    );
    assert.equal(released[1]!.signalId, released[0]!.signalId, 'the update follows the released signal');
    assert.equal(
      watcher.events[0]?.data.origin?.createdAt,
      released[0]!.data.origin?.createdAt,
      'subscribers see when it was first published',
    );
    const verifier = new ChainVerifier(false);
    for (const event of released) assert.equal(verifier.check(event), null);
    const stats = await member.api.get('/api/stats');
    assert.equal(stats.body.totals.signals, 1, 'the mirror has statistics of its own');
    watcher.close();
  });

  test('bad mirrors are refused: itself, unknown, circles', async () => {
    assert.equal(
      (await admin.api.request('PUT', '/api/channels/vip/mirror', { origin: 'vip', delaySeconds: 5 })).status,
      400,
    );
    assert.equal(
      (await admin.api.request('PUT', '/api/channels/vip/mirror', { origin: 'nope', delaySeconds: 5 })).status,
      400,
    );
    const circle = await admin.api.request('PUT', '/api/channels/vip/mirror', { origin: 'free', delaySeconds: 5 });
    assert.equal(circle.status, 400);
    assert.match(circle.body.error.message, /circle/);
    assert.equal(
      (await admin.api.request('PUT', '/api/channels/nope/mirror', { origin: 'vip', delaySeconds: 5 })).status,
      404,
    );
  });
});
