/**
 * Cross-node behaviour on real processes: a signal published on node A reaches node B;
 * revoking, disabling and logging out on A act on B's sockets within a second; and two
 * nodes behind a real nginx serve a browser-style client (cookie login, polling upgraded
 * to WebSocket) that receives signals published through the balancer and on either node.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { io as ioClient } from 'socket.io-client';
import type { StoredEvent } from '../../shared/events.js';
import { skipWithoutPostgres } from '../helpers/databases.js';
import { Api, PASSWORD, signalBody } from '../helpers/server.js';
import {
  closeAllSubscribers,
  createChannels,
  createSubscriber,
  FailoverSubscriber,
  sleep,
  startCluster,
  via,
  type Cluster,
} from './helpers/cluster.js';
import { NGINX, startNginx, type Nginx } from './helpers/nginx.js';

describe('cluster: control messages and a real load balancer', { skip: await skipWithoutPostgres() }, () => {
  let cluster: Cluster;
  let a: string;
  let b: string;

  before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.nodes.map((n) => n.url) as [string, string];
    await createChannels(cluster.admin, ['gold', 'silver']);
  });
  after(async () => {
    closeAllSubscribers();
    await cluster?.close();
  });

  const publishOn = async (url: string, channel: string) => {
    const res = await via(cluster.admin, url).api.post('/api/signals', signalBody(channel));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; seq: number };
  };
  /** A subscriber pinned to one node (failover list of one). */
  const pinned = (url: string, token: string) => new FailoverSubscriber(() => [url], token);

  test('published on A, received on B; a grant revoked on A stops delivery on B within a second', async () => {
    const sub = await createSubscriber(cluster.admin, ['gold', 'silver'], b);
    const witness = await createSubscriber(cluster.admin, ['gold'], b);
    const client = pinned(b, sub.token);
    const control = pinned(b, witness.token);
    await client.waitFor(() => client.connected, 'connected');
    await control.waitFor(() => control.connected, 'connected');
    await sleep(200);

    const first = await publishOn(a, 'gold');
    await client.waitFor(() => client.events.some((e) => e.id === first.id), 'the signal from A', 5000);

    const revokedAt = Date.now();
    const res = await cluster.admin.api.request('DELETE', `/api/users/${sub.user.id}/channels/gold`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await client.waitFor(
      () => client.entitlementChanges.some((c) => c.revoked.includes('gold')),
      'the revocation on B',
      1000,
    );
    const tookMs = client.entitlementChanges.find((c) => c.revoked.includes('gold'))!.at - revokedAt;
    assert.ok(tookMs <= 1000, `revocation reached B after ${tookMs} ms`);

    // From now on gold stays away from this socket, while silver still arrives.
    const gold = await publishOn(a, 'gold');
    const silver = await publishOn(a, 'silver');
    await control.waitFor(() => control.events.some((e) => e.id === gold.id), 'gold at the witness', 5000);
    await client.waitFor(() => client.events.some((e) => e.id === silver.id), 'silver', 5000);
    assert.ok(!client.events.some((e) => e.id === gold.id), 'revoked channel delivered on B');
    assert.equal(client.connections, 1, 'revocation needs no reconnect');
    client.close();
    control.close();
  });

  test('disabling a user or logging out on A closes their sockets on B', async () => {
    const disabled = await createSubscriber(cluster.admin, ['gold'], b);
    const leaving = await createSubscriber(cluster.admin, ['gold'], b);
    const sockets = [disabled, leaving].map((s) =>
      ioClient(b, {
        auth: { token: s.token, lastSeq: 0 },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      }),
    );
    await Promise.all(sockets.map((s) => new Promise((resolve) => s.once('live', resolve))));
    const closed = sockets.map(
      (s) => new Promise<number>((resolve) => s.once('disconnect', () => resolve(Date.now()))),
    );

    const t0 = Date.now();
    const patch = await cluster.admin.api.request('PATCH', `/api/users/${disabled.user.id}`, { disabled: true });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    const logout = await new Api(a, leaving.token).post('/api/auth/logout');
    assert.equal(logout.status, 204);
    const times = await Promise.race([
      Promise.all(closed),
      sleep(1500).then(() => {
        throw new Error('sockets on B were not closed');
      }),
    ]);
    for (const t of times) assert.ok(t - t0 <= 1500, `closed after ${t - t0} ms`);
    // And they cannot come back on any node.
    for (const [i, s] of [disabled, leaving].entries()) {
      for (const url of [a, b]) assert.equal((await new Api(url, s.token).get('/api/me')).status, 401, `user ${i}`);
    }
    sockets.forEach((s) => s.close());
  });

  describe('behind nginx', { skip: existsSync(NGINX) ? false : `${NGINX} is not installed` }, () => {
    let nginx: Nginx;
    before(async () => {
      nginx = await startNginx(cluster.nodes.map((n) => `127.0.0.1:${n.port}`));
    });
    after(() => nginx?.stop());

    test('a browser-style client signs in and receives signals through the balancer', async () => {
      const email = `browser-${Date.now()}@example.test`;
      const created = await cluster.admin.api.post('/api/users', {
        email,
        password: PASSWORD,
        role: 'subscriber',
        channels: ['gold'],
      });
      assert.equal(created.status, 201);
      // Sign in through nginx: the session arrives as an httpOnly cookie, as in a browser.
      const login = await fetch(`${nginx.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: nginx.url },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      assert.equal(login.status, 200);
      const cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      assert.match(cookie, /sd_session=/);

      // Default transports: long-polling first, then the upgrade to WebSocket through nginx.
      const socket = ioClient(nginx.url, {
        auth: { lastSeq: 0 },
        extraHeaders: { cookie, origin: nginx.url },
        reconnection: false,
        forceNew: true,
      });
      const events: StoredEvent[] = [];
      socket.on('new_signal', (e) => events.push(e));
      await new Promise((resolve, reject) => {
        socket.once('live', resolve);
        socket.once('connect_error', reject);
      });
      const upgraded = new Promise<string>((resolve) => socket.io.engine.once('upgrade', (t) => resolve(t.name)));
      const transport =
        socket.io.engine.transport.name === 'websocket'
          ? 'websocket'
          : await Promise.race([upgraded, sleep(5000).then(() => 'none')]);
      assert.equal(transport, 'websocket', 'upgraded to WebSocket through nginx');

      const before = events.length;
      const through = await new Api(nginx.url, cluster.admin.token).post('/api/signals', signalBody('gold'));
      assert.equal(through.status, 201);
      const onA = await publishOn(a, 'gold');
      const onB = await publishOn(b, 'gold');
      const want = [through.body.id, onA.id, onB.id];
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && !want.every((id) => events.some((e) => e.id === id))) await sleep(20);
      assert.deepEqual(
        events.slice(before).map((e) => e.id),
        want,
      );
      const seqs = events.map((e) => e.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
        'in seq order',
      );
      socket.close();
    });
  });
});
