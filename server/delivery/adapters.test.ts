/**
 * Each adapter against a real local server that speaks its protocol: a webhook receiver that
 * verifies with the `standardwebhooks` package, the local Telegram Bot API and Discord, and a
 * Web Push service that decrypts what it is sent. And with private targets not allowed, nothing
 * reaches any of them.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import webpush from 'web-push';
import type { SignalCreatedEvent, SignalUpdatedEvent, SignalView, StoredEvent } from '../../shared/events.js';
import { applyUpdate, initialView } from '../../shared/signal-state.js';
import { EventLog } from '../../test/helpers/event-log.js';
import { startDiscordServer, type DiscordServer } from '../../test/helpers/discord-server.js';
import { startPushService, type PushService } from '../../test/helpers/push-service.js';
import { startTelegramServer, type TelegramServer } from '../../test/helpers/telegram-server.js';
import type { AdapterTarget, Outgoing, SendContext, SendResult } from './adapter.js';
import { ADAPTERS, adapterFor } from './adapters/index.js';
import { discordAdapter, discordConfigSchema, type DiscordConfig } from './adapters/discord.js';
import { PUSH_PAYLOAD_MAX_BYTES, pushAdapter, pushConfigSchema, type PushConfig } from './adapters/push.js';
import { telegramAdapter, telegramConfigSchema, type TelegramConfig } from './adapters/telegram.js';
import { newWebhookSecret, webhookAdapter, webhookConfigSchema, type WebhookConfig } from './adapters/webhook.js';
import {
  cut,
  escapeHtml,
  escapeHtmlAttribute,
  formatPrice,
  renderEvent,
  signalUrl,
  telegramHtml,
  updateHeadline,
} from './format.js';
import { createGuardedHttp, type GuardedHttp } from './http.js';

// ---------------------------------------------------------------------------------------------
// A small log: one signal, its first take-profit, a note

const PUBLIC_URL = 'https://desk.example.com';
const log = new EventLog();
const signalId = log.create(
  'gold',
  {
    symbol: 'BTCUSDT',
    market: 'crypto',
    side: 'buy',
    entry: 64000,
    stopLoss: 63000,
    takeProfits: [65000, 66000.5],
    leverage: 10,
    timeframe: '4h',
    notes: 'Risk <1% & scale in > 64k',
  },
  '2026-01-05T10:00:00.000Z',
);
const created = log.events[0] as SignalCreatedEvent;
const tp1 = log.update(signalId, { type: 'tp_hit', level: 1, price: 65000 }, '2026-01-05T11:00:00.000Z');
const note = log.update(
  signalId,
  { type: 'note', notes: '@everyone <b>not bold</b> & "quoted"' },
  '2026-01-05T12:00:00.000Z',
);

function outgoing(event: StoredEvent): Outgoing {
  let view: SignalView = initialView(created);
  for (const e of log.events.slice(1)) {
    if (e.seq > event.seq) break;
    view = applyUpdate(view, e as SignalUpdatedEvent);
  }
  return { event, signal: view };
}

function target<C>(config: C, secrets: AdapterTarget<C>['secrets'] = { current: null, previous: null }) {
  return { id: 'dest-1', name: 'Desk <Alpha> & Co', config, secrets } satisfies AdapterTarget<C>;
}

const userAgent = 'signal-desk-test';

function contextWith(http: GuardedHttp, extra: Partial<SendContext> = {}): SendContext {
  return {
    http,
    telegramApiUrl: 'http://127.0.0.1:9',
    publicUrl: PUBLIC_URL,
    vapid: null,
    timeoutMs: 2000,
    now: () => new Date(),
    ...extra,
  };
}

function assertRetry(result: SendResult): Extract<SendResult, { kind: 'retry' }> {
  assert.equal(result.kind, 'retry', JSON.stringify(result));
  return result as Extract<SendResult, { kind: 'retry' }>;
}

// ---------------------------------------------------------------------------------------------
// The message every chat-like adapter shows

describe('message formatting', () => {
  test('prices read as traders write them: no exponent, their own decimals, thousands grouped', () => {
    const cases: [number, string][] = [
      [64000, '64,000'],
      [1.085, '1.085'],
      [0.00000123, '0.00000123'],
      [1e-7, '0.0000001'],
      [1.5e-12, '0.0000000000015'],
      [1234567.891, '1,234,567.891'],
      [1e12, '1,000,000,000,000'],
      [999, '999'],
    ];
    assert.deepEqual(
      cases.map(([value]) => [value, formatPrice(value)]),
      cases,
    );
  });

  test('each lifecycle event has its label', () => {
    const signal = { takeProfits: [65000, 66000] };
    const labels: [Parameters<typeof updateHeadline>[0], string][] = [
      [{ type: 'tp_hit', level: 2 }, 'TP2 hit at 66,000'],
      [{ type: 'sl_hit', price: 63000 }, 'Stop-loss hit at 63,000'],
      [{ type: 'closed', price: 64500 }, 'Closed at 64,500'],
      [{ type: 'closed' }, 'Closed'],
      [{ type: 'cancelled' }, 'Cancelled'],
      [{ type: 'breakeven' }, 'Stop moved to breakeven'],
      [{ type: 'note', notes: 'x' }, 'Note'],
    ];
    assert.deepEqual(
      labels.map(([data]) => [data, updateHeadline(data, signal)]),
      labels,
    );
  });

  test('a sell is red, a note neutral; the link is absolute only with a public URL', () => {
    const sell: SignalCreatedEvent = {
      ...created,
      data: { symbol: 'EURUSD', market: 'forex', side: 'sell', entry: 1.085, stopLoss: 1.09, takeProfits: [1.08] },
    };
    const rendered = renderEvent({ event: sell, signal: initialView(sell) }, null);
    assert.equal(rendered.title, 'SELL EURUSD');
    assert.deepEqual(rendered.lines, ['Entry 1.085 · SL 1.09', 'TP 1.08']);
    assert.equal(rendered.tone, 'sell');
    assert.equal(rendered.url, null);
    assert.equal(rendered.path, `/signals/${signalId}`);
    assert.equal(renderEvent(outgoing(note), PUBLIC_URL).tone, 'neutral');
    assert.equal(signalUrl('a b', 'https://x.example/desk/'), 'https://x.example/desk/signals/a%20b');
  });

  test('HTML escaping: text escapes & < >, attributes also "', () => {
    assert.equal(escapeHtml('a < b && c > "d"'), 'a &lt; b &amp;&amp; c &gt; "d"');
    assert.equal(escapeHtmlAttribute('https://x/?a="1"&b=<2>'), 'https://x/?a=&quot;1&quot;&amp;b=&lt;2&gt;');
    const html = telegramHtml(renderEvent(outgoing(created), 'https://x.example/"><script>'));
    assert.match(html, /<a href="https:\/\/x\.example\/&quot;&gt;&lt;script&gt;\/signals\/sig-1">Open signal<\/a>/);
  });

  test('cutting never splits a character', () => {
    assert.equal(cut('ab😀cd', 4), 'ab…');
    assert.equal(cut('ab😀cd', 5), 'ab😀…');
    assert.equal(cut('short', 10), 'short');
  });
});

// ---------------------------------------------------------------------------------------------
// A webhook receiver

interface Received {
  url: string;
  headers: Record<string, string>;
  body: string;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

async function startReceiver() {
  const received: Received[] = [];
  const replies: Reply[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    );
    received.push({ url: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') });
    const reply = replies.shift() ?? { status: 204 };
    res.writeHead(reply.status, reply.headers).end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    replyNext: (...next: Reply[]) => replies.push(...next),
    reset: () => {
      received.length = 0;
      replies.length = 0;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

describe('webhook adapter', () => {
  let receiver: Receiver;
  let httpClient: GuardedHttp;
  let context: SendContext;
  const secret = newWebhookSecret();

  before(async () => {
    receiver = await startReceiver();
    httpClient = createGuardedHttp({ allowPrivate: true, userAgent });
    context = contextWith(httpClient);
  });
  beforeEach(() => receiver.reset());
  after(async () => {
    httpClient.close();
    await receiver.close();
  });

  const hook = (secrets: AdapterTarget<WebhookConfig>['secrets'] = { current: secret, previous: null }) =>
    target({ url: `${receiver.url}/hooks/signals` }, secrets);

  test('posts the stored event, signed as Standard Webhooks verifies it', async () => {
    const before = Math.floor(Date.now() / 1000);
    assert.deepEqual(await webhookAdapter.send(hook(), outgoing(created), context), { kind: 'delivered', status: 204 });
    const [delivery] = receiver.received;
    assert.ok(delivery);
    assert.equal(delivery.url, '/hooks/signals');
    assert.equal(delivery.headers['content-type'], 'application/json');
    assert.equal(delivery.headers['webhook-id'], created.id);
    const timestamp = Number(delivery.headers['webhook-timestamp']);
    assert.ok(timestamp >= before && timestamp <= Math.ceil(Date.now() / 1000));
    assert.match(delivery.headers['webhook-signature'] ?? '', /^v1,[A-Za-z0-9+/]+={0,2}$/);

    const verified = new Webhook(secret).verify(delivery.body, delivery.headers) as Record<string, unknown>;
    assert.equal(verified.type, 'signal.created');
    assert.equal(new Date(verified.timestamp as string).getTime() / 1000 >= before, true);
    assert.deepEqual(verified.data, created);
    assert.equal((verified.data as StoredEvent).seq, 1);
    // Any other secret does not verify it.
    assert.throws(() => new Webhook(newWebhookSecret()).verify(delivery.body, delivery.headers));
  });

  test('during a rotation both secrets sign, and either verifies', async () => {
    const next = newWebhookSecret();
    const result = await webhookAdapter.send(hook({ current: next, previous: secret }), outgoing(tp1), context);
    assert.equal(result.kind, 'delivered');
    const [delivery] = receiver.received;
    assert.ok(delivery);
    const signatures = (delivery.headers['webhook-signature'] ?? '').split(' ');
    assert.equal(signatures.length, 2);
    assert.ok(signatures.every((s) => s.startsWith('v1,')));
    for (const key of [next, secret]) {
      const verified = new Webhook(key).verify(delivery.body, delivery.headers) as { type: string; data: StoredEvent };
      assert.equal(verified.type, 'signal.updated');
      assert.equal(verified.data.seq, tp1.seq);
    }
    assert.throws(() => new Webhook(newWebhookSecret()).verify(delivery.body, delivery.headers));
  });

  test('429 is retried after Retry-After, in seconds or as a date', async () => {
    const now = new Date('2026-01-05T10:00:00.000Z');
    const fixed = { ...context, now: () => now };
    receiver.replyNext(
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 429, headers: { 'retry-after': new Date(now.getTime() + 30_000).toUTCString() } },
    );
    const seconds = assertRetry(await webhookAdapter.send(hook(), outgoing(created), fixed));
    assert.deepEqual([seconds.status, seconds.retryAfterMs], [429, 7000]);
    const date = assertRetry(await webhookAdapter.send(hook(), outgoing(created), fixed));
    assert.deepEqual([date.status, date.retryAfterMs], [429, 30_000]);
  });

  test('a redirect is a retry and is not followed', async () => {
    receiver.replyNext({ status: 302, headers: { location: `${receiver.url}/elsewhere` } });
    const result = assertRetry(await webhookAdapter.send(hook(), outgoing(created), context));
    assert.equal(result.status, 302);
    assert.equal(result.error, `redirected to ${receiver.url}/elsewhere: redirects are not followed`);
    assert.deepEqual(
      receiver.received.map((r) => r.url),
      ['/hooks/signals'],
    );
  });

  test('any other status is a retry with the status and the start of the body', async () => {
    receiver.replyNext({ status: 500, body: `database down ${'x'.repeat(500)}` });
    const result = assertRetry(await webhookAdapter.send(hook(), outgoing(created), context));
    assert.equal(result.status, 500);
    assert.match(result.error, /^answered 500: database down x+…$/);
    assert.ok(result.error.length < 230);
  });

  test('a network error or a timeout is a retry with its message', async () => {
    const down = await startReceiver();
    await down.close();
    const refused = assertRetry(
      await webhookAdapter.send(target({ url: down.url }, hook().secrets), outgoing(created), context),
    );
    assert.equal(refused.status, null);
    assert.match(refused.error, /ECONNREFUSED/);

    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      const timedOut = assertRetry(
        await webhookAdapter.send(target({ url }, hook().secrets), outgoing(created), { ...context, timeoutMs: 200 }),
      );
      assert.equal(timedOut.error, 'timed out after 200 ms');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  test('a test send is a signed destination.test with a fresh id', async () => {
    assert.equal((await webhookAdapter.sendTest(hook(), context)).kind, 'delivered');
    const [delivery] = receiver.received;
    assert.ok(delivery);
    const verified = new Webhook(secret).verify(delivery.body, delivery.headers) as {
      type: string;
      timestamp: string;
      data: { message: string; destination: string };
    };
    assert.equal(verified.type, 'destination.test');
    assert.equal(verified.data.destination, 'Desk <Alpha> & Co');
    assert.match(verified.data.message, /test/);
    assert.notEqual(delivery.headers['webhook-id'], created.id);
    assert.ok(!Number.isNaN(Date.parse(verified.timestamp)));
  });

  test('a webhook without a secret is not sent unsigned', async () => {
    const result = assertRetry(
      await webhookAdapter.send(hook({ current: null, previous: null }), outgoing(created), context),
    );
    assert.match(result.error, /no signing secret/);
    assert.equal(receiver.received.length, 0);
  });

  test('config: an http(s) URL of at most 2048 characters; secrets are whsec_ and 24 bytes', () => {
    assert.equal(webhookConfigSchema.safeParse({ url: 'https://example.com/hook' }).success, true);
    assert.equal(webhookConfigSchema.safeParse({ url: 'ftp://example.com/hook' }).success, false);
    assert.equal(webhookConfigSchema.safeParse({ url: 'not a url' }).success, false);
    assert.equal(webhookConfigSchema.safeParse({ url: `https://example.com/${'a'.repeat(2048)}` }).success, false);
    const fresh = newWebhookSecret();
    assert.match(fresh, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(Buffer.from(fresh.slice(6), 'base64').length, 24);
    assert.notEqual(fresh, newWebhookSecret());
  });
});

// ---------------------------------------------------------------------------------------------

describe('Telegram adapter', () => {
  const supergroup = -1001234567890;
  const group = -555111;
  const privateChat = 123456789;
  let tg: TelegramServer;
  let httpClient: GuardedHttp;
  let context: SendContext;
  const errors: string[] = [];

  before(async () => {
    tg = await startTelegramServer({ chats: [supergroup, group, privateChat, '@signals_channel'] });
    httpClient = createGuardedHttp({ allowPrivate: true, userAgent });
    context = contextWith(httpClient, { telegramApiUrl: tg.url });
  });
  beforeEach(() => tg.reset());
  after(async () => {
    httpClient.close();
    await tg.close();
  });

  const chat = (chatId: number | string, botToken = tg.token) =>
    target(telegramConfigSchema.parse({ botToken, chatId }) satisfies TelegramConfig);
  const failed = (result: SendResult) => {
    const retry = assertRetry(result);
    errors.push(retry.error);
    return retry;
  };

  test('a new signal arrives as escaped HTML, shown as written, with a bold title and a link', async () => {
    const result = await telegramAdapter.send(chat(supergroup), outgoing(created), context);
    assert.deepEqual(result, { kind: 'delivered', status: 200 });
    const [message] = tg.messages;
    assert.ok(message);
    assert.equal(message.parseMode, 'HTML');
    assert.equal(message.linkPreviewDisabled, true);
    assert.equal(
      message.text,
      [
        'BUY BTCUSDT',
        'Entry 64,000 · SL 63,000',
        'TP 65,000 / 66,000.5',
        'Leverage 10x · Timeframe 4h',
        '',
        'Risk <1% & scale in > 64k',
        '',
        '#gold · Open signal',
      ].join('\n'),
    );
    assert.deepEqual(
      message.entities.map((e) => [e.type, message.text.slice(e.offset, e.offset + e.length), e.url]),
      [
        ['bold', 'BUY BTCUSDT', undefined],
        ['text_link', 'Open signal', `${PUBLIC_URL}/signals/${signalId}`],
      ],
    );
  });

  test('updates carry the lifecycle label; markup in a note is shown as text', async () => {
    assert.equal((await telegramAdapter.send(chat(supergroup), outgoing(tp1), context)).kind, 'delivered');
    assert.equal((await telegramAdapter.send(chat(supergroup), outgoing(note), context)).kind, 'delivered');
    const [tpMessage, noteMessage] = tg.messages;
    assert.equal(tpMessage?.text.split('\n')[0], 'TP1 hit at 65,000 · BUY BTCUSDT');
    assert.match(tpMessage?.text ?? '', /Status: TP1 hit\n/);
    assert.equal(noteMessage?.text.split('\n\n')[1], '@everyone <b>not bold</b> & "quoted"');
    assert.deepEqual(
      noteMessage?.entities.map((e) => e.type),
      ['bold', 'text_link'],
    );
  });

  test('long notes full of characters to escape are cut to fit 4096 characters', async () => {
    const long: SignalUpdatedEvent = {
      ...(note as SignalUpdatedEvent),
      data: { type: 'note', notes: '<&>'.repeat(666) + 'end' },
    };
    assert.equal((await telegramAdapter.send(chat(supergroup), outgoing(long), context)).kind, 'delivered');
    const raw = tg.messages[0]?.rawText ?? '';
    assert.ok(raw.length <= 4096, `${raw.length}`);
    assert.match(tg.messages[0]?.text ?? '', /<&><&>…\n\n#gold/);
  });

  test('flood control: a 429 is retried after retry_after', async () => {
    assert.equal((await telegramAdapter.send(chat(privateChat), outgoing(created), context)).kind, 'delivered');
    const flooded = failed(await telegramAdapter.send(chat(privateChat), outgoing(tp1), context));
    assert.equal(flooded.status, 429);
    assert.equal(flooded.retryAfterMs, 1000);
    assert.match(flooded.error, /Too Many Requests: retry after 1/);
  });

  test('refusals are retried with Telegram’s description; a migrated group names its new chat id', async () => {
    const unknown = failed(await telegramAdapter.send(chat(-100999), outgoing(created), context));
    assert.deepEqual([unknown.status, unknown.error], [400, 'Telegram answered 400: Bad Request: chat not found']);

    const supergroupId = tg.migrate(group);
    const migrated = failed(await telegramAdapter.send(chat(group), outgoing(created), context));
    assert.equal(migrated.status, 400);
    assert.match(migrated.error, new RegExp(`became a supergroup with the chat id ${supergroupId}`));
    tg.forbid(supergroup);
    const forbidden = failed(await telegramAdapter.send(chat(supergroup), outgoing(created), context));
    assert.match(forbidden.error, /403: Forbidden: bot was kicked/);
    tg.allow(supergroup);
    const stranger = failed(
      await telegramAdapter.send(chat(supergroup, `987654:${'B'.repeat(35)}`), outgoing(created), context),
    );
    assert.match(stranger.error, /401: Unauthorized/);
    tg.failNext(1, 502);
    const gateway = failed(await telegramAdapter.send(chat(supergroup), outgoing(created), context));
    assert.match(gateway.error, /^Telegram answered 502: .*502 Bad Gateway/);
    assert.equal(tg.messages.length, 0);
  });

  test('network failures are retried too', async () => {
    tg.pause();
    const slow = failed(
      await telegramAdapter.send(chat(supergroup), outgoing(created), { ...context, timeoutMs: 150 }),
    );
    tg.resume();
    assert.equal(slow.error, 'timed out after 150 ms');
    await tg.down();
    try {
      const down = failed(await telegramAdapter.send(chat(supergroup), outgoing(created), context));
      assert.equal(down.status, null);
      assert.match(down.error, /ECONNREFUSED|socket hang up|ECONNRESET/);
    } finally {
      await tg.up();
    }
  });

  test('no error ever contains the bot token', () => {
    assert.ok(errors.length >= 7);
    for (const error of errors)
      assert.ok(!error.includes(tg.token) && !error.includes(tg.token.split(':')[1] ?? '-'), error);
  });

  test('a test send names the destination, escaped', async () => {
    assert.equal((await telegramAdapter.sendTest(chat('@signals_channel'), context)).kind, 'delivered');
    assert.match(tg.messages[0]?.text ?? '', /destination Desk <Alpha> & Co: signals will arrive in this chat/);
  });

  test('pace: 20 a minute to groups and channels, one a second to a private chat, keyed by bot and chat', () => {
    const botId = tg.token.split(':')[0];
    assert.deepEqual(telegramAdapter.pace?.(chat(supergroup)), {
      key: `telegram:${botId}:${supergroup}`,
      limit: 20,
      perMs: 60_000,
    });
    assert.deepEqual(telegramAdapter.pace?.(chat('@signals_channel')), {
      key: `telegram:${botId}:@signals_channel`,
      limit: 20,
      perMs: 60_000,
    });
    assert.deepEqual(telegramAdapter.pace?.(chat(privateChat)), {
      key: `telegram:${botId}:${privateChat}`,
      limit: 1,
      perMs: 1000,
    });
  });

  test('config: a BotFather token and a chat id, number or text; the token is never echoed', () => {
    assert.deepEqual(telegramConfigSchema.parse({ botToken: tg.token, chatId: supergroup }), {
      botToken: tg.token,
      chatId: String(supergroup),
    });
    for (const chatId of ['@ab', 'signals', '-12a', '']) {
      assert.equal(telegramConfigSchema.safeParse({ botToken: tg.token, chatId }).success, false, chatId);
    }
    const badToken = `${tg.token}x`;
    const parsed = telegramConfigSchema.safeParse({ botToken: badToken, chatId: 1 });
    assert.equal(parsed.success, false);
    assert.ok(!JSON.stringify(parsed.error?.issues).includes(tg.token.split(':')[1] ?? '-'));
  });
});

// ---------------------------------------------------------------------------------------------

describe('Discord adapter', () => {
  let discord: DiscordServer;
  let httpClient: GuardedHttp;
  let context: SendContext;
  const errors: string[] = [];

  before(async () => {
    discord = await startDiscordServer({ rateLimit: { limit: 2, windowMs: 1500 } });
    httpClient = createGuardedHttp({ allowPrivate: true, userAgent });
    context = contextWith(httpClient);
  });
  beforeEach(() => discord.reset());
  after(async () => {
    httpClient.close();
    await discord.close();
  });

  const channel = (url = discord.webhook.url) => target(discordConfigSchema.parse({ url }) satisfies DiscordConfig);

  test('a new signal arrives as one valid embed; mentions never ping', async () => {
    const result = await discordAdapter.send(channel(), outgoing(created), context);
    assert.equal(result.kind, 'delivered');
    assert.equal(result.status, 200);
    const [message] = discord.messages;
    assert.ok(message);
    assert.equal(message.wait, true);
    assert.equal(message.username, 'signal-desk');
    assert.deepEqual(message.allowedMentions, { parse: [] });
    // Discord stores the time in its own notation; the instant is the event's.
    const [{ timestamp, ...embed } = {}] = message.embeds;
    assert.equal(Date.parse(timestamp ?? ''), Date.parse(created.createdAt));
    assert.deepEqual(
      [embed],
      [
        {
          type: 'rich',
          title: 'BUY BTCUSDT',
          description: 'Risk <1% & scale in > 64k',
          url: `${PUBLIC_URL}/signals/${signalId}`,
          color: 0x16a34a,
          footer: { text: '#gold · seq 1' },
          fields: [
            { name: 'Entry', value: '64,000', inline: true },
            { name: 'Stop', value: '63,000', inline: true },
            { name: 'Targets', value: '65,000 / 66,000.5', inline: true },
            { name: 'Leverage', value: '10x', inline: true },
            { name: 'Timeframe', value: '4h', inline: true },
          ],
        },
      ],
    );
  });

  test('a note is neutral, and @everyone in it pings no one', async () => {
    const result = await discordAdapter.send(channel(), outgoing(note), { ...context, publicUrl: null });
    assert.equal(result.kind, 'delivered');
    const embed = discord.messages[0]?.embeds[0];
    assert.equal(embed?.title, 'Note · BUY BTCUSDT');
    assert.equal(embed?.color, 0x64748b);
    assert.equal(embed?.url, undefined);
    assert.match(embed?.description ?? '', /@everyone <b>not bold<\/b>/);
    assert.deepEqual(discord.messages[0]?.allowedMentions, { parse: [] });
  });

  test('an emptied bucket asks for a pause; past it, a 429 is retried after retry_after', async () => {
    const first = await discordAdapter.send(channel(), outgoing(created), context);
    assert.deepEqual(first, { kind: 'delivered', status: 200 });
    const second = await discordAdapter.send(channel(), outgoing(tp1), context);
    assert.equal(second.kind, 'delivered');
    const waitMs = second.kind === 'delivered' ? second.waitMs : undefined;
    assert.ok(waitMs !== undefined && waitMs > 1000 && waitMs <= 1500, String(waitMs));
    const limited = assertRetry(await discordAdapter.send(channel(), outgoing(note), context));
    errors.push(limited.error);
    assert.equal(limited.status, 429);
    assert.ok(limited.retryAfterMs !== undefined && limited.retryAfterMs > 1000 && limited.retryAfterMs <= 1500);
    assert.match(limited.error, /rate limited/);
    assert.equal(discord.messages.length, 2);
  });

  test('other refusals are retried with Discord’s message and code, never the token', async () => {
    const wrongToken = discord.webhook.url.replace(/\/[^/]+$/, `/${'x'.repeat(68)}`);
    const unauthorised = assertRetry(await discordAdapter.send(channel(wrongToken), outgoing(created), context));
    assert.equal(unauthorised.error, 'Discord answered 401: Invalid Webhook Token (code 50027)');
    const other = discord.addWebhook();
    discord.removeWebhook(other.id);
    const unknown = assertRetry(await discordAdapter.send(channel(other.url), outgoing(created), context));
    assert.equal(unknown.error, 'Discord answered 404: Unknown Webhook (code 10015)');
    discord.failNext(1, 502);
    const gateway = assertRetry(await discordAdapter.send(channel(), outgoing(created), context));
    assert.match(gateway.error, /^Discord answered 502: .*502 Bad Gateway/);
    errors.push(unauthorised.error, unknown.error, gateway.error);
    for (const error of errors) {
      for (const token of [discord.webhook.token, other.token]) assert.ok(!error.includes(token), error);
    }
  });

  test('a test send arrives', async () => {
    assert.equal((await discordAdapter.sendTest(channel(), context)).kind, 'delivered');
    assert.match(discord.messages[0]?.embeds[0]?.description ?? '', /Desk <Alpha> & Co/);
  });

  test('config: only a webhook URL; the message does not repeat it', () => {
    const { url, token, id } = discord.webhook;
    assert.equal(discordConfigSchema.safeParse({ url }).success, true);
    assert.equal(
      discordConfigSchema.safeParse({ url: `https://discord.com/api/v10/webhooks/${id}/${token}` }).success,
      true,
    );
    for (const bad of [
      `https://discord.com/api/webhooks/${id}`,
      `https://discord.com/api/channels/${id}/${token}`,
      `https://discord.com/api/webhooks/abc/${token}`,
      `ftp://discord.com/api/webhooks/${id}/${token}`,
      `${url}?thread_id=1`,
    ]) {
      const parsed = discordConfigSchema.safeParse({ url: bad });
      assert.equal(parsed.success, false, bad);
      assert.ok(!JSON.stringify(parsed.error?.issues).includes(token));
    }
    assert.deepEqual(discordAdapter.pace?.(channel()), { key: `discord:${id}`, limit: 30, perMs: 60_000 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('Web Push adapter', () => {
  let push: PushService;
  let httpClient: GuardedHttp;
  let context: SendContext;
  const keys = webpush.generateVAPIDKeys();
  const vapid = { ...keys, subject: 'mailto:ops@example.test' };

  before(async () => {
    push = await startPushService();
    httpClient = createGuardedHttp({ allowPrivate: true, userAgent, extraCa: [push.ca] });
    context = contextWith(httpClient, { vapid });
  });
  after(async () => {
    httpClient.close();
    await push.close();
  });

  const device = async () => {
    const { subscription, clientHash } = await push.subscribe(keys.publicKey);
    // Stored as the browser sent it: `expirationTime` and all.
    return { device: target(pushConfigSchema.parse(subscription) satisfies PushConfig), clientHash };
  };

  test('the push service decrypts the notification: title, body, link, seq', async () => {
    const { device: subscriber, clientHash } = await device();
    assert.deepEqual(await pushAdapter.send(subscriber, outgoing(created), context), {
      kind: 'delivered',
      status: 201,
    });
    assert.equal((await pushAdapter.send(subscriber, outgoing(tp1), context)).kind, 'delivered');
    const [first, second] = await push.waitForNotifications(clientHash, 2);
    assert.deepEqual(first, {
      title: 'BUY BTCUSDT',
      body: 'Entry 64,000 · SL 63,000\nTP 65,000 / 66,000.5\nLeverage 10x · Timeframe 4h\nRisk <1% & scale in > 64k',
      url: `${PUBLIC_URL}/signals/${signalId}`,
      tag: signalId,
      seq: 1,
      channel: 'gold',
      signalId,
      type: 'signal.created',
    });
    assert.equal((second as { title: string }).title, 'TP1 hit at 65,000 · BUY BTCUSDT');
    assert.equal((second as { seq: number }).seq, tp1.seq);
    assert.deepEqual(
      push.pushes(clientHash).map(({ status, ttl, urgency }) => ({ status, ttl, urgency })),
      [
        { status: 201, ttl: '86400', urgency: 'high' },
        { status: 201, ttl: '86400', urgency: 'high' },
      ],
    );
  });

  test('a push signed with another VAPID key is refused and retried; nothing is shown', async () => {
    const { device: subscriber, clientHash } = await device();
    const other = { ...webpush.generateVAPIDKeys(), subject: vapid.subject };
    const result = assertRetry(await pushAdapter.send(subscriber, outgoing(created), { ...context, vapid: other }));
    assert.equal(result.status, 403);
    assert.match(result.error, /push service answered 403: .*applicationServerKey/);
    assert.deepEqual(await push.notifications(clientHash), []);
  });

  test('a long note is shortened so the encrypted push stays within what push services take', async () => {
    const { device: subscriber, clientHash } = await device();
    const long: SignalUpdatedEvent = {
      ...(note as SignalUpdatedEvent),
      data: { type: 'note', notes: '📈'.repeat(2000) },
    };
    assert.equal((await pushAdapter.send(subscriber, outgoing(long), context)).kind, 'delivered');
    const [shown] = (await push.waitForNotifications(clientHash, 1)) as { body: string; title: string }[];
    assert.ok(Buffer.byteLength(JSON.stringify(shown)) <= PUSH_PAYLOAD_MAX_BYTES);
    assert.match(shown?.body ?? '', /^Status: TP1 hit\n.*\n(📈)+…$/);
    assert.equal(shown?.title, 'Note · BUY BTCUSDT');
  });

  test('an expired subscription is gone', async () => {
    const { device: subscriber, clientHash } = await device();
    await push.expire(clientHash);
    const result = await pushAdapter.send(subscriber, outgoing(created), context);
    assert.equal(result.kind, 'gone');
    assert.equal(result.status, 410);
  });

  test('without the push service’s CA, or without VAPID keys, nothing is sent', async () => {
    const { device: subscriber, clientHash } = await device();
    const untrusting = createGuardedHttp({ allowPrivate: true, userAgent });
    try {
      const result = assertRetry(
        await pushAdapter.send(subscriber, outgoing(created), { ...context, http: untrusting }),
      );
      assert.match(result.error, /self.signed|certificate/i);
    } finally {
      untrusting.close();
    }
    const unconfigured = assertRetry(
      await pushAdapter.send(subscriber, outgoing(created), { ...context, vapid: null }),
    );
    assert.match(unconfigured.error, /no VAPID keys/);
    assert.deepEqual(push.pushes(clientHash), []);
  });

  test('a test send says notifications are on', async () => {
    const { device: subscriber, clientHash } = await device();
    assert.equal((await pushAdapter.sendTest(subscriber, context)).kind, 'delivered');
    const [shown] = await push.waitForNotifications(clientHash, 1);
    assert.equal((shown as { title: string }).title, 'Notifications are on');
  });

  test('config: an https endpoint, a 65-byte p256dh and a 16-byte auth', async () => {
    const { subscription } = await push.subscribe(keys.publicKey);
    assert.equal(pushConfigSchema.safeParse(subscription).success, true);
    assert.equal('expirationTime' in pushConfigSchema.parse(subscription), false);
    const broken = [
      { ...subscription, endpoint: subscription.endpoint.replace('https:', 'http:') },
      { ...subscription, keys: { ...subscription.keys, p256dh: subscription.keys.p256dh.slice(0, 40) } },
      { ...subscription, keys: { ...subscription.keys, auth: Buffer.alloc(17).toString('base64url') } },
      { ...subscription, keys: { ...subscription.keys, auth: 'not base64!' } },
    ];
    for (const config of broken)
      assert.equal(pushConfigSchema.safeParse(config).success, false, JSON.stringify(config));
  });
});

// ---------------------------------------------------------------------------------------------

describe('private targets, when not allowed', () => {
  test('every adapter answers a retry saying the address is private, and nothing reaches a server', async () => {
    const receiver = await startReceiver();
    const tg = await startTelegramServer();
    const discord = await startDiscordServer();
    const push = await startPushService();
    const httpClient = createGuardedHttp({ allowPrivate: false, userAgent, extraCa: [push.ca] });
    const keys = webpush.generateVAPIDKeys();
    try {
      const context = contextWith(httpClient, {
        telegramApiUrl: tg.url,
        vapid: { ...keys, subject: 'mailto:ops@example.test' },
      });
      const { subscription, clientHash } = await push.subscribe(keys.publicKey);
      const results = [
        await webhookAdapter.send(
          target({ url: receiver.url }, { current: newWebhookSecret(), previous: null }),
          outgoing(created),
          context,
        ),
        await telegramAdapter.send(
          target({ botToken: tg.token, chatId: '-1001234567890' }),
          outgoing(created),
          context,
        ),
        await discordAdapter.send(target({ url: discord.webhook.url }), outgoing(created), context),
        await pushAdapter.send(target(pushConfigSchema.parse(subscription)), outgoing(created), context),
        await webhookAdapter.sendTest(
          target({ url: receiver.url }, { current: newWebhookSecret(), previous: null }),
          context,
        ),
        await pushAdapter.sendTest(target(pushConfigSchema.parse(subscription)), context),
      ];
      for (const result of results) {
        const retry = assertRetry(result);
        assert.equal(retry.status, null);
        assert.match(retry.error, /127\.0\.0\.1 is a private address \(loopback\)/);
      }
      assert.equal(receiver.received.length, 0);
      assert.equal(tg.requests.length, 0);
      assert.equal(discord.requests.length, 0);
      assert.deepEqual(push.pushes(clientHash), []);
    } finally {
      httpClient.close();
      await Promise.all([receiver.close(), tg.close(), discord.close(), push.close()]);
    }
  });

  test('the registry has one adapter per kind', () => {
    assert.deepEqual(Object.keys(ADAPTERS).sort(), ['discord', 'push', 'telegram', 'webhook']);
    for (const kind of ['webhook', 'telegram', 'discord', 'push'] as const) assert.equal(adapterFor(kind).kind, kind);
  });
});
