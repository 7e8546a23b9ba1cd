/** The local push service delivers what a browser vendor's push service would, and refuses what it would. */
import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import webpush, { type VapidKeys } from 'web-push';
import { startPushService, type PushService } from './push-service.js';

const subject = 'mailto:ops@example.test';
const signal = { kind: 'signal', channel: 'gold', symbol: 'XAUUSD', side: 'buy', seq: 1 };

function vapidDetails(keys: VapidKeys) {
  return { subject, publicKey: keys.publicKey, privateKey: keys.privateKey };
}

/** The status of a refused send; fails when the push service accepted it. */
async function refusal(send: Promise<unknown>): Promise<number> {
  try {
    await send;
  } catch (err) {
    if (err instanceof webpush.WebPushError) return err.statusCode;
    throw err;
  }
  return assert.fail('the push service accepted the push');
}

/** A JWT with any claims, signed as web-push signs, for the claims web-push itself refuses to make. */
function vapidToken(keys: VapidKeys, claims: Record<string, unknown>): string {
  const publicKey = Buffer.from(keys.publicKey, 'base64url');
  const key = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: keys.privateKey,
      x: publicKey.subarray(1, 33).toString('base64url'),
      y: publicKey.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${encode({ typ: 'JWT', alg: 'ES256' })}.${encode(claims)}`;
  return `${signed}.${sign('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

describe('local push service', () => {
  let push: PushService;
  const keys = webpush.generateVAPIDKeys();

  before(async () => {
    push = await startPushService();
  });
  after(() => push.close());

  test('hands out a browser-shaped subscription and delivers the decrypted payload of an aes128gcm push', async () => {
    const { subscription, clientHash } = await push.subscribe(keys.publicKey);
    assert.ok(subscription.endpoint.startsWith(`${push.url}/notify/`));
    assert.equal(subscription.expirationTime, null);
    assert.equal(Buffer.from(subscription.keys.p256dh, 'base64url').length, 65);
    assert.equal(Buffer.from(subscription.keys.auth, 'base64url').length, 16);

    const sent = await webpush.sendNotification(subscription, JSON.stringify(signal), {
      vapidDetails: vapidDetails(keys),
      TTL: 60,
      urgency: 'high',
    });
    assert.equal(sent.statusCode, 201);
    await webpush.sendNotification(subscription, 'not json', { vapidDetails: vapidDetails(keys), TTL: 0 });

    assert.deepEqual(await push.waitForNotifications(clientHash, 2), [signal, 'not json']);
    assert.deepEqual(
      push
        .pushes(clientHash)
        .map(({ status, ttl, urgency, contentEncoding }) => ({ status, ttl, urgency, contentEncoding })),
      [
        { status: 201, ttl: '60', urgency: 'high', contentEncoding: 'aes128gcm' },
        { status: 201, ttl: '0', urgency: 'normal', contentEncoding: 'aes128gcm' },
      ],
    );
  });

  test('refuses a push signed with a different VAPID key, and delivers nothing', async () => {
    const { subscription, clientHash } = await push.subscribe(keys.publicKey);
    const other = webpush.generateVAPIDKeys();
    const status = await refusal(
      webpush.sendNotification(subscription, JSON.stringify(signal), { vapidDetails: vapidDetails(other), TTL: 60 }),
    );
    assert.equal(status, 403);
    assert.deepEqual(await push.notifications(clientHash), []);
    assert.match(push.pushes(clientHash)[0]?.reason ?? '', /applicationServerKey/);
  });

  test('checks the VAPID claims: expired, over 24 h ahead, another audience, no contact, or no VAPID at all are refused', async () => {
    const { subscription, clientHash } = await push.subscribe(keys.publicKey);
    const now = Math.floor(Date.now() / 1000);
    const valid = { aud: push.url, exp: now + 3600, sub: subject };
    const vapid = (claims: Record<string, unknown>) => ({
      Authorization: `vapid t=${vapidToken(keys, claims)}, k=${keys.publicKey}`,
    });
    const cases: { name: string; headers: Record<string, string>; status: number }[] = [
      // Hand-signed tokens first prove they pass when their claims are right, in both header forms.
      { name: 'valid', headers: vapid(valid), status: 201 },
      {
        name: 'valid, pre-RFC form',
        headers: { Authorization: `WebPush ${vapidToken(keys, valid)}`, 'Crypto-Key': `p256ecdsa=${keys.publicKey}` },
        status: 201,
      },
      { name: 'expired', headers: vapid({ ...valid, exp: now - 60 }), status: 403 },
      { name: 'no exp', headers: vapid({ aud: push.url, sub: subject }), status: 403 },
      { name: '25 h ahead', headers: vapid({ ...valid, exp: now + 25 * 3600 }), status: 403 },
      { name: 'another audience', headers: vapid({ ...valid, aud: 'https://fcm.googleapis.com' }), status: 403 },
      { name: 'sub not a URL', headers: vapid({ ...valid, sub: 'ops@example.test' }), status: 403 },
      { name: 'no VAPID', headers: {}, status: 401 },
    ];
    for (const { name, headers, status } of cases) {
      const send = webpush.sendNotification(subscription, JSON.stringify({ ...signal, case: name }), {
        TTL: 60,
        headers,
      });
      assert.equal(status === 201 ? (await send).statusCode : await refusal(send), status, name);
    }
    const delivered = (await push.notifications(clientHash)) as { case: string }[];
    assert.deepEqual(
      delivered.map((n) => n.case),
      ['valid', 'valid, pre-RFC form'],
    );
  });

  test('refuses a payload not encrypted for the subscription, not aes128gcm, or over 4096 bytes', async () => {
    const { subscription, clientHash } = await push.subscribe(keys.publicKey);
    const options = { vapidDetails: vapidDetails(keys), TTL: 60 };
    const someoneElse = await push.subscribe(keys.publicKey);
    const misaddressed = { ...subscription, keys: someoneElse.subscription.keys };
    assert.equal(await refusal(webpush.sendNotification(misaddressed, 'for someone else', options)), 400);
    assert.match(push.pushes(clientHash)[0]?.reason ?? '', /unable to authenticate data/);
    assert.equal(
      await refusal(webpush.sendNotification(subscription, 'old', { ...options, contentEncoding: 'aesgcm' })),
      415,
    );
    assert.equal(await refusal(webpush.sendNotification(subscription, 'x'.repeat(4000), options)), 413);
    assert.deepEqual(await push.notifications(clientHash), []);
  });

  test('after expire(), a push gets 410 Gone and nothing more arrives', async () => {
    const { subscription, clientHash } = await push.subscribe(keys.publicKey);
    const options = { vapidDetails: vapidDetails(keys), TTL: 60 };
    await webpush.sendNotification(subscription, JSON.stringify(signal), options);
    await push.waitForNotifications(clientHash, 1);

    await push.expire(clientHash);
    assert.equal(
      await refusal(webpush.sendNotification(subscription, JSON.stringify({ ...signal, seq: 2 }), options)),
      410,
    );
    assert.deepEqual(await push.notifications(clientHash), [signal]);
    assert.deepEqual(
      push.pushes(clientHash).map((p) => p.status),
      [201, 410],
    );
  });

  test('two services run at once, each with its own subscriptions, and close() removes everything', async () => {
    const second = await startPushService();
    try {
      assert.notEqual(second.url, push.url);
      const here = await push.subscribe(keys.publicKey);
      const there = await second.subscribe(keys.publicKey);
      const options = { vapidDetails: vapidDetails(keys), TTL: 60 };
      await webpush.sendNotification(here.subscription, JSON.stringify({ ...signal, seq: 10 }), options);
      await webpush.sendNotification(there.subscription, JSON.stringify({ ...signal, seq: 20 }), options);
      assert.deepEqual(await push.waitForNotifications(here.clientHash, 1), [{ ...signal, seq: 10 }]);
      assert.deepEqual(await second.waitForNotifications(there.clientHash, 1), [{ ...signal, seq: 20 }]);
      assert.equal(second.pushes().length, 1);
    } finally {
      await second.close();
    }
    await second.close();
    assert.equal(existsSync(second.caFile), false);
    await assert.rejects(fetch(second.url));
    // The first service is untouched by the second's close.
    const { subscription, clientHash } = await push.subscribe(keys.publicKey);
    await webpush.sendNotification(subscription, JSON.stringify(signal), { vapidDetails: vapidDetails(keys), TTL: 60 });
    assert.deepEqual(await push.waitForNotifications(clientHash, 1), [signal]);
  });
});
