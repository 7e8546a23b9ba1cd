/**
 * No secret ever reaches a log line. A server process logging at trace level goes through
 * everything that handles a credential — setup, sign-in (right and wrong), cookies and CSRF
 * tokens, a password change, API tokens, webhook secrets and their rotation, a Telegram bot
 * token, a source's secret URL (accepted, refused and aborted requests to it), push device
 * keys — and then every line it wrote is searched for every secret the run used.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import { Api, PASSWORD, type Account } from '../helpers/server.js';
import { startTelegramServer, type TelegramServer } from '../helpers/telegram-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { createChannels, createSubscriber, setupAdmin, signalBody, sleep } from '../reliability/support.js';

const dir = tempDir('signal-desk-log-secrets-');
let server: ServerProcess;
let telegram: TelegramServer;
let receiver: WebhookReceiver;
const secrets = new Map<string, string>();
const keep = (what: string, value: string | undefined) => {
  if (value) secrets.set(what, value);
};

before(async () => {
  [telegram, receiver] = await Promise.all([startTelegramServer(), startWebhookReceiver()]);
  server = new ServerProcess({
    env: {
      DATABASE_URL: `sqlite:${join(dir.path, 'secrets.db')}`,
      PORT: '0',
      LOG_LEVEL: 'trace',
      DESTINATIONS_ALLOW_PRIVATE: 'true',
      TELEGRAM_API_URL: telegram.url,
      SIGNAL_DESK_TEST_RETRY_SCALE: '0.01',
    },
  });
  await server.start();
});

after(async () => {
  await server.stop();
  await Promise.all([telegram.close(), receiver.close()]);
  dir.remove();
});

describe('secrets and logs', () => {
  test('a run through every credential leaves none of them in the log', async () => {
    keep('password', PASSWORD);
    const admin: Account = await setupAdmin(server);
    keep('admin session token', admin.token);
    await createChannels(admin, ['gold']);
    const member = await createSubscriber(server.url, admin, 'member@example.test', ['gold']);
    keep('member session token', member.token);

    // Cookies and CSRF tokens, as the web app signs in.
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'member@example.test', password: PASSWORD }),
    });
    const body = (await login.json()) as { token: string; csrfToken: string };
    keep('cookie session token', body.token);
    keep('csrf token', body.csrfToken);
    const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
    await fetch(`${server.url}/api/me`, { headers: { cookie } });
    await fetch(`${server.url}/api/channels`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    // Wrong passwords, and a password change.
    await new Api(server.url).post('/api/auth/login', { email: 'member@example.test', password: 'a wrong guess here' });
    keep('wrong password', 'a wrong guess here');
    const newPassword = 'the member’s new passphrase';
    keep('new password', newPassword);
    await member.api.post('/api/me/password', { currentPassword: 'not the current one', newPassword });
    assert.equal((await member.api.post('/api/me/password', { currentPassword: PASSWORD, newPassword })).status, 204);

    // API tokens.
    const token = await admin.api.post('/api/tokens', { name: 'bot', channels: ['gold'] });
    keep('api token', token.body.token);
    const bot = new Api(server.url, token.body.token);
    assert.equal((await bot.post('/api/signals', signalBody('gold'))).status, 201);
    await bot.get('/api/users');

    // Destinations: a webhook with its secret (rotated), and a Telegram bot token.
    const hook = await admin.api.post('/api/destinations', {
      kind: 'webhook',
      name: 'w',
      url: receiver.url,
      channels: ['gold'],
    });
    keep('webhook secret', hook.body.secret);
    const rotated = await admin.api.post(`/api/destinations/${hook.body.id}/rotate-secret`, {});
    keep('rotated webhook secret', rotated.body.secret);
    receiver.secrets = [rotated.body.secret];
    receiver.failNext(2, 500);
    keep('telegram bot token', telegram.token);
    await admin.api.post('/api/destinations', {
      kind: 'telegram',
      name: 't',
      chatId: '-1009999999999', // unknown chat: the bot token travels in a failing request's URL
      botToken: telegram.token,
      channels: ['gold'],
    });

    // A source's secret URL: accepted, refused and aborted requests.
    const source = await admin.api.post('/api/sources', { kind: 'tradingview', name: 'tv', channel: 'gold' });
    keep('source secret', source.body.secret);
    const hookUrl = `${server.url}${source.body.url}`;
    await fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', price: 100, sl: 95, tp: 110 }),
    });
    await fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'not a signal' });
    await new Promise<void>((resolve) => {
      const socket = tcpConnect(server.port, '127.0.0.1', () => {
        socket.write(
          `POST ${source.body.url} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\nBUY`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
    });
    await admin.api.post(`/api/sources/${source.body.id}/rotate`);

    for (let i = 0; i < 3; i++) await admin.api.post('/api/signals', signalBody('gold'));
    await receiver.waitFor((messages) => messages.length >= 3, 15_000);
    await telegram.waitFor((_m, requests) => requests.length >= 1, 15_000);
    await sleep(500);

    // The signing key, whose private half is in its own file.
    const pem = readFileSync(join(dir.path, 'signing-key.pem'), 'utf8');
    keep('signing key', pem.split('\n').slice(1, -2).join(''));

    const log = server.logs.join('\n');
    assert.ok(server.logs.length > 30, `the run logged (${server.logs.length} lines)`);
    const leaked = [...secrets].filter(([, value]) => log.includes(value)).map(([what]) => what);
    assert.deepEqual(leaked, [], 'secrets found in the log');
    assert.ok(log.includes('[secret]') || log.includes('/hooks/tv/'), 'the source path is logged, without its secret');
    assert.doesNotMatch(log, /sdt_[A-Za-z0-9_-]{20}|whsec_[A-Za-z0-9+/]{20}/);
    console.log(
      `[security] log-secrets: ${server.logs.length} lines at trace level searched for ${secrets.size} secrets: none found`,
    );
  });
});
