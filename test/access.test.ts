/** Entitlements on every read path, revocation, logout and disable, and the socket's front door. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io as ioClient } from 'socket.io-client';
import {
  buildAdmin,
  buildChannel,
  buildSubscriber,
  connect,
  handshakeOutcome,
  publish,
  seqs,
  startServer,
  type Account,
  type TestServer,
} from './helpers/server.js';
import { openSse } from './helpers/sse.js';

describe('entitlements and access', () => {
  let server: TestServer;
  let admin: Account;

  before(async () => {
    server = await startServer();
    admin = await buildAdmin(server);
    await buildChannel(admin, 'vip');
    await buildChannel(admin, 'free');
  });
  after(() => server.close());

  test('a subscriber without the grant gets nothing on any path', async () => {
    const insider = await buildSubscriber(server, admin, { channels: ['vip', 'free'] });
    const outsider = await buildSubscriber(server, admin, { channels: ['free'] });
    const start = (await admin.api.get('/api/events?after=0&limit=1')).body.headSeq as number;
    const liveIn = connect(server, { token: insider.token });
    const liveOut = connect(server, { token: outsider.token });
    await Promise.all([liveIn.waitLive(), liveOut.waitLive()]);
    const sseOut = await openSse(`${server.url}/api/stream`, { authorization: `Bearer ${outsider.token}` });
    const sseIn = await openSse(`${server.url}/api/stream`, { authorization: `Bearer ${insider.token}` });
    await Promise.all([
      sseOut.waitFor((m) => m.some((x) => x.event === 'live')),
      sseIn.waitFor((m) => m.some((x) => x.event === 'live')),
    ]);

    const secret = await publish(admin, 'vip', { symbol: 'SECRET' });
    const open = await publish(admin, 'free', { symbol: 'OPEN' });
    await liveIn.waitFor((e) => e.length === 2);
    await liveOut.waitFor((e) => e.length === 1);
    await sseIn.waitFor((m) => m.filter((x) => x.event === 'new_signal').length === 2);
    await sseOut.waitFor((m) => m.filter((x) => x.event === 'new_signal').length === 1);
    assert.deepEqual(seqs(liveOut.events), [open.seq], 'live');

    const replay = connect(server, { token: outsider.token, lastSeq: start });
    await replay.waitLive();
    assert.deepEqual(seqs(replay.events), [open.seq], 'replay');
    assert.deepEqual(
      sseOut.messages.filter((m) => m.event === 'new_signal').map((m) => Number(m.id)),
      [open.seq],
      'SSE',
    );
    const history = await outsider.api.get('/api/signals');
    assert.ok(!history.body.items.some((s: { id: string }) => s.id === secret.id), 'history');
    assert.equal((await outsider.api.get('/api/signals?channel=vip')).body.items.length, 0, 'history filtered to vip');
    assert.equal((await outsider.api.get(`/api/signals/${secret.id}`)).status, 404, 'detail');
    const events = await outsider.api.get(`/api/events?after=${start}`);
    assert.deepEqual(
      events.body.events.map((e: { seq: number }) => e.seq),
      [open.seq],
      'event log',
    );
    assert.equal((await outsider.api.get(`/api/events?after=${start}&channel=vip`)).body.events.length, 0);
    const insiderEvents = await insider.api.get(`/api/events?after=${start}`);
    assert.deepEqual(
      insiderEvents.body.events.map((e: { seq: number }) => e.seq),
      [secret.seq, open.seq],
    );

    for (const c of [liveIn, liveOut, replay]) c.close();
    sseIn.close();
    sseOut.close();
  });

  test('revoking a grant stops live delivery of that channel within a second', async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['vip', 'free'] });
    const client = connect(server, { token: sub.token });
    await client.waitLive();
    const before = await publish(admin, 'vip');
    await client.waitFor((e) => e.some((x) => x.seq === before.seq));
    const entitlements = new Promise<{ revoked: string[] }>((resolve) => client.socket.once('entitlements', resolve));
    const revokedAt = Date.now();
    const res = await admin.api.request('DELETE', `/api/users/${sub.user.id}/channels/vip`);
    assert.equal(res.status, 200);
    assert.deepEqual((await entitlements).revoked, ['vip']);
    assert.ok(Date.now() - revokedAt < 1000, 'the socket heard of it within a second');
    const hidden = await publish(admin, 'vip');
    const visible = await publish(admin, 'free');
    await client.waitFor((e) => e.some((x) => x.seq === visible.seq));
    assert.ok(!client.events.some((e) => e.seq === hidden.seq));
    // And the history paths agree at once.
    assert.equal((await sub.api.get(`/api/signals/${hidden.id}`)).status, 404);
    client.close();
  });

  test('logout disconnects the session’s sockets and kills its token; disabling disconnects every session', async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['free'] });
    const client = connect(server, { token: sub.token });
    await client.waitLive();
    const gone = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
    assert.equal((await sub.api.post('/api/auth/logout')).status, 204);
    assert.equal(await gone, 'io server disconnect');
    assert.equal((await sub.api.get('/api/me')).status, 401);

    const other = await buildSubscriber(server, admin, { channels: ['free'] });
    const c2 = connect(server, { token: other.token });
    await c2.waitLive();
    const gone2 = new Promise<string>((resolve) => c2.socket.once('disconnect', resolve));
    assert.equal((await admin.api.request('PATCH', `/api/users/${other.user.id}`, { disabled: true })).status, 200);
    assert.equal(await gone2, 'io server disconnect');
    const retry = connect(server, { token: other.token });
    await assert.rejects(retry.waitLive(), /unauthorized/);
    retry.close();
    const login = await other.api.post('/api/auth/login', {
      email: other.user.email,
      password: 'correct horse battery',
    });
    assert.equal(login.status, 403);
    assert.equal(login.body.error.code, 'account_disabled');
  });

  test('the socket refuses no credentials, a forged token and a cross-origin page', async () => {
    const anon = connect(server, {});
    await assert.rejects(anon.waitLive(), /unauthorized/);
    anon.close();
    const forged = connect(server, { token: 'forged' });
    await assert.rejects(forged.waitLive(), /unauthorized/);
    forged.close();
    const sub = await buildSubscriber(server, admin, { channels: ['free'] });
    const evil = ioClient(server.url, {
      auth: { token: sub.token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { origin: 'https://evil.example' },
    });
    assert.notEqual(await handshakeOutcome(evil), 'connected', 'a cross-origin page is refused');
    const same = connect(server, { token: sub.token }, { extraHeaders: { origin: server.url } });
    await same.waitLive();
    same.close();
  });

  test('cookie sessions need the CSRF token to change state', async () => {
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: admin.user.email, password: 'correct horse battery' }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.match(login.headers.get('set-cookie')!, /HttpOnly/i);
    assert.match(login.headers.get('set-cookie')!, /SameSite=Strict/i);
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const body = JSON.stringify({ slug: 'csrf-test', name: 'x' });
    const headers = { cookie, 'content-type': 'application/json' };
    const without = await fetch(`${server.url}/api/channels`, { method: 'POST', headers, body });
    assert.equal(without.status, 403);
    const withToken = await fetch(`${server.url}/api/channels`, {
      method: 'POST',
      headers: { ...headers, 'x-csrf-token': csrfToken },
      body,
    });
    assert.equal(withToken.status, 201);
    const read = await fetch(`${server.url}/api/me`, { headers: { cookie } });
    assert.equal(read.status, 200);
  });
});
