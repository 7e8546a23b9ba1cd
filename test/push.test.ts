/**
 * Web Push against a real local push service (web-push-testing behind a front that checks the
 * VAPID signature as push services do, and decrypts every aes128gcm payload): each device gets
 * the channels it picked among those its owner is granted, revoking a grant or turning the
 * device off stops its pushes at once, and a device the push service says is gone (410) is
 * removed and gets nothing more.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startPushService, type PushService } from './helpers/push-service.js';
import {
  buildAdmin,
  buildChannel,
  buildSubscriber,
  login,
  PASSWORD,
  publish,
  startServer,
  type Account,
  type TestServer,
} from './helpers/server.js';

interface Notification {
  title: string;
  body: string;
  url: string;
  tag: string;
  seq: number;
  channel: string;
  signalId: string;
  type: string;
}

describe('web push', () => {
  let push: PushService;
  let server: TestServer;
  let admin: Account;
  let key: string;

  before(async () => {
    push = await startPushService();
    server = await startServer({
      env: {
        DESTINATIONS_ALLOW_PRIVATE: 'true',
        DESTINATIONS_CA_FILE: push.caFile,
        SIGNAL_DESK_TEST_RETRY_SCALE: '0.01',
        PUBLIC_URL: 'https://signals.example.com',
      },
    });
    admin = await buildAdmin(server);
    for (const slug of ['gold', 'silver', 'bronze']) await buildChannel(admin, slug);
    key = (await admin.api.get('/api/push/key')).body.publicKey;
    assert.match(key, /^[A-Za-z0-9_-]{80,}$/);
  });
  after(async () => {
    await server.close();
    await push.close();
  });

  /** A device of `user` subscribed at the local push service and registered with the server. */
  async function device(user: Account, channels?: string[]) {
    const { subscription, clientHash } = await push.subscribe(key);
    const res = await user.api.post('/api/push/subscriptions', {
      ...subscription,
      ...(channels ? { channels } : {}),
      label: 'Test browser',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id: res.body.id as string, clientHash };
  }

  const received = async (clientHash: string) => (await push.notifications(clientHash)) as Notification[];

  test('a device gets the signals of the channels it picked, decrypted as sent, and nothing else', async () => {
    const user = await buildSubscriber(server, admin, { channels: ['gold', 'silver'] });
    const phone = await device(user, ['gold']);
    assert.equal(
      (
        await user.api.post('/api/push/subscriptions', {
          ...(await push.subscribe(key)).subscription,
          channels: ['bronze'],
        })
      ).status,
      400,
      'a channel the user does not have is refused',
    );
    const signal = await publish(admin, 'gold', {
      symbol: 'ETHUSDT',
      side: 'buy',
      entry: 3000,
      stopLoss: 2900,
      takeProfits: [3100, 3200],
    });
    await publish(admin, 'silver');
    await publish(admin, 'bronze');
    const [note] = (await push.waitForNotifications(phone.clientHash, 1)) as Notification[];
    assert.equal(note?.seq, signal.seq);
    assert.equal(note?.channel, 'gold');
    assert.match(note?.title ?? '', /BUY ETHUSDT/);
    assert.match(note?.body ?? '', /3[,.]?000/);
    assert.equal(note?.url, `https://signals.example.com/signals/${signal.id}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await received(phone.clientHash)).length, 1, 'silver and bronze were not sent');
    const update = await admin.api.post(`/api/signals/${signal.id}/updates`, { type: 'tp_hit', level: 1 });
    assert.equal(update.status, 201);
    const notes = (await push.waitForNotifications(phone.clientHash, 2)) as Notification[];
    assert.equal(notes[1]?.type, 'signal.updated');
    assert.equal(notes[1]?.tag, signal.id, 'an update replaces its signal’s notification');
    const listed = await user.api.get('/api/push/subscriptions');
    assert.deepEqual(
      listed.body.items.map((d: { id: string; channels: string[] }) => [d.id, d.channels]),
      [[phone.id, ['gold']]],
    );
  });

  test('revoking a grant, choosing fewer channels or turning the device off stops its pushes at once', async () => {
    const user = await buildSubscriber(server, admin, { channels: ['gold', 'silver'] });
    const phone = await device(user);
    await publish(admin, 'silver');
    await push.waitForNotifications(phone.clientHash, 1);
    assert.equal((await admin.api.request('DELETE', `/api/users/${user.user.id}/channels/silver`)).status, 200);
    await publish(admin, 'silver');
    const gold = await publish(admin, 'gold');
    await push.waitForNotifications(phone.clientHash, 2);
    assert.deepEqual(
      (await received(phone.clientHash)).map((n) => n.channel),
      ['silver', 'gold'],
      'the revoked channel stopped; the other goes on',
    );
    assert.equal((await received(phone.clientHash))[1]?.seq, gold.seq);
    assert.equal(
      (await user.api.request('PATCH', `/api/push/subscriptions/${phone.id}`, { channels: [] })).status,
      200,
    );
    await publish(admin, 'gold');
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal((await received(phone.clientHash)).length, 2, 'no channel ticked: nothing arrives');
    assert.equal((await user.api.request('DELETE', `/api/push/subscriptions/${phone.id}`)).status, 204);
    await publish(admin, 'gold');
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal((await received(phone.clientHash)).length, 2);
    assert.equal((await user.api.get('/api/push/subscriptions')).body.items.length, 0);
  });

  test('a subscription the push service answers 410 for is removed and gets nothing more', async () => {
    const user = await buildSubscriber(server, admin, { channels: ['gold'] });
    const phone = await device(user);
    await publish(admin, 'gold');
    await push.waitForNotifications(phone.clientHash, 1);
    await push.expire(phone.clientHash);
    await publish(admin, 'gold');
    const deadline = Date.now() + 10_000;
    while ((await user.api.get('/api/push/subscriptions')).body.items.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal((await user.api.get('/api/push/subscriptions')).body.items.length, 0, 'the gone device was removed');
    await publish(admin, 'gold');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const statuses = push.pushes(phone.clientHash).map((p) => p.status);
    assert.deepEqual(statuses, [201, 410], 'nothing more was sent after the 410');
  });

  test('another user cannot see, change or remove someone’s device', async () => {
    const owner = await buildSubscriber(server, admin, { channels: ['gold'] });
    const other = await buildSubscriber(server, admin, { channels: ['gold'] });
    const phone = await device(owner);
    assert.equal(
      (await other.api.request('PATCH', `/api/push/subscriptions/${phone.id}`, { channels: [] })).status,
      404,
    );
    assert.equal((await other.api.request('DELETE', `/api/push/subscriptions/${phone.id}`)).status, 404);
    assert.equal((await other.api.post(`/api/push/subscriptions/${phone.id}/test`)).status, 404);
    const test1 = await owner.api.post(`/api/push/subscriptions/${phone.id}/test`);
    assert.equal(test1.body.ok, true, JSON.stringify(test1.body));
    assert.equal((await other.api.get('/api/destinations')).status, 403);
  });

  test('signing out everywhere turns off the devices those sessions turned on; a password change keeps this one’s', async () => {
    const user = await buildSubscriber(server, admin, { channels: ['gold'] });
    const here = await device(user);
    const other = await login(server, user.user.email);
    const lost = await device(other);
    assert.equal((await user.api.get('/api/push/subscriptions')).body.items.length, 2);
    const changed = await user.api.post('/api/me/password', {
      currentPassword: PASSWORD,
      newPassword: 'another long passphrase',
    });
    assert.equal(changed.status, 204);
    assert.deepEqual(
      (await user.api.get('/api/push/subscriptions')).body.items.map((d: { id: string }) => d.id),
      [here.id],
      'the other session’s phone stopped; this one goes on',
    );
    assert.equal((await user.api.post('/api/auth/logout-everywhere')).status, 204);
    const again = await login(server, user.user.email, 'another long passphrase');
    assert.equal((await again.api.get('/api/push/subscriptions')).body.items.length, 0);
    await publish(admin, 'gold');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await received(here.clientHash)).length, 0);
    assert.equal((await received(lost.clientHash)).length, 0);
  });
});
