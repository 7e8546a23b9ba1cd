/**
 * Outbound destinations against real local servers that speak each protocol: a webhook
 * receiver verifying every delivery with the `standardwebhooks` package, Telegram's Bot API,
 * Discord's incoming webhooks. Each receives its channels' events in seq order, every one of
 * them, across the far side's outages, its 429s and a secret rotation; nothing it is not
 * entitled to.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDiscordServer, type DiscordServer } from './helpers/discord-server.js';
import { buildAdmin, buildChannel, publish, startServer, type Account, type TestServer } from './helpers/server.js';
import { startTelegramServer, type TelegramServer } from './helpers/telegram-server.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

describe('destinations', () => {
  let server: TestServer;
  let admin: Account;
  let receiver: WebhookReceiver;
  let telegram: TelegramServer;
  let discord: DiscordServer;

  before(async () => {
    [receiver, telegram, discord] = await Promise.all([
      startWebhookReceiver(),
      startTelegramServer(),
      startDiscordServer(),
    ]);
    server = await startServer({
      env: {
        DESTINATIONS_ALLOW_PRIVATE: 'true',
        SIGNAL_DESK_TEST_RETRY_SCALE: '0.01',
        TELEGRAM_API_URL: telegram.url,
      },
    });
    admin = await buildAdmin(server);
    for (const slug of ['gold', 'silver']) await buildChannel(admin, slug);
  });
  after(async () => {
    await server.close();
    await Promise.all([receiver.close(), telegram.close(), discord.close()]);
  });

  const createWebhook = async (channels: string[], name = 'receiver') => {
    const res = await admin.api.post('/api/destinations', { kind: 'webhook', name, url: receiver.url, channels });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.match(res.body.secret, /^whsec_/);
    return res.body as { id: string; secret: string };
  };

  const destination = async (id: string) => (await admin.api.get(`/api/destinations/${id}`)).body;

  test('a signed webhook gets its channels, in seq order, each verified by the standardwebhooks package', async () => {
    const hook = await createWebhook(['gold']);
    receiver.secrets = [hook.secret];
    const sent: number[] = [];
    for (let i = 0; i < 6; i++) {
      const signal = await publish(admin, i % 3 === 2 ? 'silver' : 'gold');
      if (signal.channel === 'gold') sent.push(signal.seq);
    }
    await receiver.waitFor((messages) => messages.length >= sent.length, 10_000);
    assert.deepEqual(
      receiver.messages.map((m) => m.data.seq),
      sent,
    );
    const [first] = receiver.messages;
    assert.equal(first?.type, 'signal.created');
    assert.equal(first?.id, first?.data.id, 'webhook-id is the event id');
    assert.ok(
      receiver.messages.every((m) => m.data.channel === 'gold'),
      'nothing from a channel it does not have',
    );
    const status = await destination(hook.id);
    assert.equal(status.state, 'active');
    assert.equal(status.pending, 0);
    const log = await admin.api.get(`/api/destinations/${hook.id}/deliveries`);
    assert.equal(log.body.items.filter((a: { outcome: string }) => a.outcome === 'delivered').length, sent.length);
    await admin.api.request('DELETE', `/api/destinations/${hook.id}`);
    receiver.reset();
  });

  test('a receiver that is down gets the backlog in order once it is back; a 429 Retry-After is honoured', async () => {
    const hook = await createWebhook(['gold'], 'outage');
    receiver.secrets = [hook.secret];
    receiver.failNext(4, 503);
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await publish(admin, 'gold')).seq);
    await receiver.waitFor((messages) => messages.length >= 5, 20_000);
    assert.deepEqual(
      receiver.messages.map((m) => m.data.seq),
      seqs,
    );
    const attempts = (await admin.api.get(`/api/destinations/${hook.id}/deliveries?limit=50`)).body.items as Array<{
      seq: number;
      outcome: string;
      status: number;
    }>;
    assert.equal(attempts.filter((a) => a.outcome === 'retry' && a.status === 503).length, 4);
    assert.ok(
      attempts.filter((a) => a.outcome === 'retry').every((a) => a.seq === seqs[0]),
      'retries of the first, in order',
    );

    receiver.reset();
    receiver.throttleNext(1, 1);
    const throttledAt = Date.now();
    const next = await publish(admin, 'gold');
    await receiver.waitFor((messages) => messages.some((m) => m.data.seq === next.seq), 10_000);
    assert.ok(Date.now() - throttledAt >= 900, 'waited for the Retry-After second');
    await admin.api.request('DELETE', `/api/destinations/${hook.id}`);
    receiver.reset();
  });

  test('a rotated secret: both secrets sign during the overlap', async () => {
    const hook = await createWebhook(['gold'], 'rotating');
    const rotated = await admin.api.post(`/api/destinations/${hook.id}/rotate-secret`, { overlapHours: 1 });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, hook.secret);
    receiver.secrets = [hook.secret];
    const one = await publish(admin, 'gold');
    await receiver.waitFor((messages) => messages.some((m) => m.data.seq === one.seq));
    receiver.secrets = [rotated.body.secret];
    const two = await publish(admin, 'gold');
    await receiver.waitFor((messages) => messages.some((m) => m.data.seq === two.seq));
    await admin.api.request('DELETE', `/api/destinations/${hook.id}`);
    receiver.reset();
  });

  test('Telegram and Discord get each signal as a message of their own format', async () => {
    const tg = await admin.api.post('/api/destinations', {
      kind: 'telegram',
      name: 'VIP group',
      chatId: String(telegram.chats[0]!.id),
      botToken: telegram.token,
      channels: ['gold'],
    });
    assert.equal(tg.status, 201, JSON.stringify(tg.body));
    assert.equal(tg.body.secret, undefined);
    assert.ok(!JSON.stringify(tg.body).includes(telegram.token.split(':')[1]!), 'the bot token is never shown again');
    const dc = await admin.api.post('/api/destinations', {
      kind: 'discord',
      name: 'Discord',
      url: discord.webhook.url,
      channels: ['gold'],
    });
    assert.equal(dc.status, 201, JSON.stringify(dc.body));
    const signal = await publish(admin, 'gold', {
      symbol: 'XAUUSD',
      market: 'commodities',
      entry: 2300,
      stopLoss: 2280,
      takeProfits: [2330],
    });
    await telegram.waitFor((messages) => messages.length > 0, 10_000);
    await discord.waitFor((messages) => messages.length > 0, 10_000);
    assert.match(telegram.messages[0]!.text, /XAUUSD/);
    assert.match(JSON.stringify(discord.messages[0]!.embeds), /XAUUSD/);
    const test1 = await admin.api.post(`/api/destinations/${tg.body.id}/test`);
    assert.equal(test1.body.ok, true, JSON.stringify(test1.body));
    for (const id of [tg.body.id, dc.body.id]) await admin.api.request('DELETE', `/api/destinations/${id}`);
    assert.ok(signal.seq > 0);
  });

  test('bad input is refused with reasons; private targets are refused unless allowed', async () => {
    const bad = await admin.api.post('/api/destinations', {
      kind: 'webhook',
      name: '',
      url: 'ftp://x',
      channels: ['nope'],
    });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.error.fields.url && bad.body.error.fields.name);
    const unknownChannel = await admin.api.post('/api/destinations', {
      kind: 'webhook',
      name: 'x',
      url: receiver.url,
      channels: ['nope'],
    });
    assert.equal(unknownChannel.status, 400);
    const strict = await startServer();
    try {
      const strictAdmin = await buildAdmin(strict);
      await buildChannel(strictAdmin, 'gold');
      const refused = await strictAdmin.api.post('/api/destinations', {
        kind: 'webhook',
        name: 'inside',
        url: receiver.url,
        channels: ['gold'],
      });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.fields.url, /loopback|private/);
    } finally {
      await strict.close();
    }
  });
});
