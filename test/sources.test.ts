/**
 * Webhook sources through the real HTTP server: an admin creates a TradingView source, alerts
 * are posted to its secret address as TradingView posts them, and each lands in the log once,
 * in the source's channel, with the source's label — or is refused with per-key reasons, in the
 * source's request log. The secret is checked never to reach the server's own log.
 */
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TRADINGVIEW_ADDRESSES } from '../shared/sources.js';
import { sqliteDatabase, type TestDatabase } from './helpers/databases.js';
import { ServerProcess } from './helpers/process.js';
import {
  Api,
  buildAdmin,
  buildChannel,
  buildSubscriber,
  connect,
  login,
  PASSWORD,
  startServer,
  type Account,
  type ApiResponse,
  type TestServer,
} from './helpers/server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A strategy's alert as TradingView renders the strategy template (every value quoted). */
const strategyAlert = (over: Record<string, unknown> = {}) => ({
  ticker: 'BINANCE:BTCUSDT',
  action: 'buy',
  marketPosition: 'long',
  price: '64000.5',
  sl: '63000',
  tp: '65000 66000',
  interval: '240',
  id: `BTCUSDT-Long-${Math.random().toString(36).slice(2)}`,
  ...over,
});

/** An indicator's alert: the side written in the message, targets as tp1/tp2, prices as numbers. */
const indicatorAlert = (over: Record<string, unknown> = {}) => ({
  ticker: 'ETHUSDT',
  action: 'sell',
  price: 3000,
  sl: 3100,
  tp1: 2900,
  tp2: '2800',
  interval: '60',
  comment: 'RSI overbought',
  ...over,
});

interface Created {
  id: string;
  url: string;
  absoluteUrl?: string;
  secret: string;
  channel: string;
  label: string | null;
  allowedIps: string[] | null;
}

async function createSource(admin: Account, body: Record<string, unknown>): Promise<Created> {
  const res = await admin.api.post('/api/sources', { kind: 'tradingview', ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as Created;
}

/** POSTs a body to a hook address, as TradingView does: JSON as application/json, text as text/plain. */
function hook(baseUrl: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const text = typeof body === 'string';
  return new Api(baseUrl).request('POST', url, text ? body : JSON.stringify(body), {
    'content-type': text ? 'text/plain; charset=utf-8' : 'application/json',
    ...headers,
  });
}

/** Polls until `check` passes: the request log is written right after the answer, not before. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(25);
  }
}

describe('webhook sources over HTTP', () => {
  let server: TestServer;
  let admin: Account;
  let source: Created;

  const post = (body: unknown, headers: Record<string, string> = {}, url = source.url) =>
    hook(server.url, url, body, headers);
  const requests = (id = source.id) =>
    admin.api.get(`/api/sources/${id}/requests?limit=200`).then((r) => r.body.items as any[]);
  const signalsOf = async (query = 'channel=alerts') => (await admin.api.get(`/api/signals?${query}`)).body.items;

  before(async () => {
    // Behind a proxy, so each request may come "from" the address of the test's choosing.
    server = await startServer({ env: { TRUST_PROXY: 'true' } });
    admin = await buildAdmin(server);
    await buildChannel(admin, 'alerts');
    await buildChannel(admin, 'other');
    source = await createSource(admin, {
      channel: 'alerts',
      name: 'BTC strategy',
      label: 'TV: Supertrend',
      market: 'crypto',
    });
  });
  after(() => server.close());

  test('creating a source answers its secret once; listing never shows it', async () => {
    assert.match(source.secret, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.equal(source.url, `/hooks/tv/${source.secret}`);
    assert.equal(source.absoluteUrl, `${server.url}/hooks/tv/${source.secret}`);
    assert.equal(source.label, 'TV: Supertrend');
    const list = await admin.api.get('/api/sources');
    assert.equal(list.status, 200);
    assert.ok(list.body.items.some((s: { id: string }) => s.id === source.id));
    const one = await admin.api.get(`/api/sources/${source.id}`);
    for (const res of [list, one]) {
      const text = JSON.stringify(res.body);
      assert.ok(!text.includes(source.secret), 'no secret in a listing');
      assert.ok(!/secret/i.test(text), 'no secret hash either');
    }
    const bad = await admin.api.post('/api/sources', {
      kind: 'tradingview',
      channel: 'nope',
      name: 'x',
      allowedIps: ['1.2.3.4', '10.0.0.0/33', '127.1'],
      ratePerMinute: 0,
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.body.error.fields).sort(), ['allowedIps.1', 'allowedIps.2', 'ratePerMinute']);
    const unknown = await admin.api.post('/api/sources', { kind: 'tradingview', channel: 'nope', name: 'x' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.fields.channel, /does not exist/);
  });

  test("a strategy alert (JSON, numbers as strings) publishes into the source's channel with its label", async () => {
    const res = await post(strategyAlert());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(typeof res.body.id, 'string');
    assert.equal(typeof res.body.seq, 'number');
    const { body } = await admin.api.get(`/api/signals/${res.body.id}`);
    assert.equal(body.signal.channel, 'alerts');
    assert.equal(body.signal.symbol, 'BTCUSDT', 'the exchange prefix is dropped');
    assert.equal(body.signal.side, 'buy');
    assert.equal(body.signal.entry, 64000.5);
    assert.equal(body.signal.stopLoss, 63000);
    assert.deepEqual(body.signal.takeProfits, [65000, 66000]);
    assert.equal(body.signal.timeframe, '4h');
    assert.equal(body.signal.source, 'TV: Supertrend');
    assert.equal(body.signal.market, 'crypto', "the source's default market");
    assert.equal(body.events[0].author, `source:${source.id}`);
    assert.ok(
      (await signalsOf()).some((s: { id: string }) => s.id === res.body.id),
      'listed in /api/signals',
    );
  });

  test('an indicator alert (tp1/tp2, a comment, its own source name) publishes too', async () => {
    const res = await post(indicatorAlert({ source: 'RSI bot', market: 'crypto' }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const { signal } = (await admin.api.get(`/api/signals/${res.body.id}`)).body;
    assert.equal(signal.side, 'sell');
    assert.deepEqual(signal.takeProfits, [2900, 2800]);
    assert.equal(signal.notes, 'RSI overbought');
    assert.equal(signal.timeframe, '1h');
    assert.equal(signal.source, 'RSI bot', "the alert's own source wins over the label");
  });

  test('a text/plain body is read as a text signal', async () => {
    const res = await post('🔥 SOL/USDT LONG 🔥\nEntry: 150\nSL: 140\nTP1: 160\nTP2: 170\nLeverage 5x');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const { signal } = (await admin.api.get(`/api/signals/${res.body.id}`)).body;
    assert.equal(signal.symbol, 'SOL/USDT');
    assert.deepEqual(signal.takeProfits, [160, 170]);
    assert.equal(signal.leverage, 5);
    assert.equal(signal.source, 'TV: Supertrend');
  });

  test('a body that is no valid signal: 400 with reasons per TradingView key, in the request log', async () => {
    const before = (await signalsOf()).length;
    const bad = await post(strategyAlert({ sl: 'NaN', tp: '65000 {{plot("T2")}}', id: undefined }));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation_failed');
    assert.match(bad.body.error.fields.sl, /NaN/);
    assert.match(bad.body.error.fields.tp, /placeholder/);
    const wrongSide = await post(strategyAlert({ sl: '65000' }));
    assert.equal(wrongSide.status, 400);
    assert.match(wrongSide.body.error.fields.sl, /must be below the entry for a buy/);
    const brokenJson = await post('{"ticker":"BTCUSDT","price":,"sl":NaN}');
    assert.equal(brokenJson.status, 400);
    assert.match(brokenJson.body.error.fields.body, /not valid JSON/);
    const text = await post('good morning traders');
    assert.equal(text.status, 400);
    assert.ok(text.body.error.fields.text);
    assert.equal((await signalsOf()).length, before, 'nothing was published');

    const log = await eventually(requests, (items) => items.filter((r) => r.status === 400).length >= 4, 'the log');
    const entry = log.find((r) => r.reasons?.sl?.includes('below the entry'));
    assert.ok(entry, JSON.stringify(log.slice(0, 4)));
    assert.equal(entry.outcome, 'refused');
    assert.equal(entry.eventId, null);
    assert.equal(entry.contentType, 'application/json');
    assert.match(entry.body, /"sl":"65000"/);
    assert.ok(log.some((r) => r.reasons?.body?.includes('not valid JSON')));
    const accepted = log.find((r) => r.outcome === 'accepted');
    assert.ok(accepted?.eventId && accepted.signalId === accepted.eventId);
  });

  test("an alert's own id twice makes one signal: the second answer is 200 duplicate", async () => {
    const alert = strategyAlert({ ticker: 'XRPUSDT', price: '0.6', sl: '0.5', tp: '0.7' });
    const first = await post(alert);
    assert.equal(first.status, 201);
    const again = await post(alert);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { id: first.body.id, seq: first.body.seq, signalId: first.body.id, duplicate: true });
    assert.equal((await signalsOf('symbol=XRPUSDT')).length, 1);
    const log = await eventually(requests, (items) => items.some((r) => r.outcome === 'duplicate'), 'the duplicate');
    assert.equal(log.find((r) => r.outcome === 'duplicate').eventId, first.body.id);
  });

  test('the same body without an id twice (a TradingView resend) makes one signal', async () => {
    const alert = indicatorAlert({ ticker: 'ADAUSDT', price: '0.5', sl: '0.55', tp1: '0.45', tp2: '' });
    const first = await post(alert);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const again = await post(alert);
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.id, first.body.id);
    assert.equal((await signalsOf('symbol=ADAUSDT')).length, 1);
  });

  test('a close action closes the symbol’s newest open signal at the price, once', async () => {
    const older = await post(strategyAlert({ ticker: 'BNBUSDT', price: '600', sl: '580', tp: '650' }));
    const newer = await post(strategyAlert({ ticker: 'BNBUSDT', price: '610', sl: '590', tp: '660' }));
    assert.equal(newer.status, 201);
    const exit = strategyAlert({ ticker: 'BINANCE:BNBUSDT', action: 'sell', marketPosition: 'flat', price: '620.5' });
    delete (exit as Record<string, unknown>).sl;
    delete (exit as Record<string, unknown>).tp;
    const closed = await post(exit);
    assert.equal(closed.status, 201, JSON.stringify(closed.body));
    assert.equal(closed.body.signalId, newer.body.id);
    const { signal, events } = (await admin.api.get(`/api/signals/${newer.body.id}`)).body;
    assert.equal(signal.status, 'closed');
    assert.equal(signal.exitPrice, 620.5);
    assert.deepEqual(events.at(-1).data, { type: 'closed', price: 620.5 });
    assert.equal(events.at(-1).author, `source:${source.id}`);
    assert.equal((await admin.api.get(`/api/signals/${older.body.id}`)).body.signal.status, 'open');

    const resent = await post(exit);
    assert.equal(resent.status, 200, 'a resend of the close is a duplicate, not a second close');
    assert.equal(resent.body.id, closed.body.id);
    assert.equal((await admin.api.get(`/api/signals/${older.body.id}`)).body.signal.status, 'open');

    const text = await post({ ticker: 'BNBUSDT', action: 'close', price: 615 });
    assert.equal(text.status, 201, 'a plain close takes the older one next');
    assert.equal(text.body.signalId, older.body.id);
    const nothing = await post({ ticker: 'BNBUSDT', action: 'exit long', price: 615 });
    assert.equal(nothing.status, 409);
    assert.match(nothing.body.error.fields.ticker, /no open buy signal/);
    const log = await eventually(requests, (items) => items.some((r) => r.status === 409), 'the refusal');
    assert.equal(log.find((r) => r.eventId === closed.body.id).signalId, newer.body.id, 'the log links the signal');
  });

  test('a subscriber of the channel receives the published signal live over Socket.IO', async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['alerts'] });
    const live = connect(server, { token: sub.token, lastSeq: 0 });
    try {
      await live.waitLive();
      const res = await post(strategyAlert({ ticker: 'DOGEUSDT', price: '0.2', sl: '0.18', tp: '0.25' }));
      assert.equal(res.status, 201);
      await live.waitFor((events) => events.some((e) => e.id === res.body.id));
      const event = live.events.find((e) => e.id === res.body.id)!;
      assert.equal(event.type, 'signal.created');
      assert.equal((event.data as { source?: string }).source, 'TV: Supertrend');
    } finally {
      live.close();
    }
  });

  test('rotating the secret: the old address is 404 at once, the new one works', async () => {
    const own = await createSource(admin, { channel: 'alerts', name: 'rotating', market: 'crypto' });
    assert.equal(
      (await post(strategyAlert({ ticker: 'LTCUSDT', price: 80, sl: 75, tp: 90 }), {}, own.url)).status,
      201,
    );
    const rotated = await admin.api.post(`/api/sources/${own.id}/rotate`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, own.secret);
    assert.equal(rotated.body.url, `/hooks/tv/${rotated.body.secret}`);
    assert.ok(rotated.body.rotatedAt);
    const old = await post(strategyAlert({ ticker: 'LTCUSDT', price: 80, sl: 75, tp: 90 }), {}, own.url);
    assert.equal(old.status, 404);
    assert.equal(old.body.error.code, 'not_found');
    const fresh = await post(strategyAlert({ ticker: 'LTCUSDT', price: 80, sl: 75, tp: 90 }), {}, rotated.body.url);
    assert.equal(fresh.status, 201);
    assert.equal((await post(strategyAlert(), {}, '/hooks/tv/not-a-secret')).status, 404);
  });

  test('a disabled source answers 404 like an unknown one; enabled again, it works', async () => {
    const own = await createSource(admin, { channel: 'alerts', name: 'switch', market: 'crypto' });
    const off = await admin.api.request('PATCH', `/api/sources/${own.id}`, { enabled: false });
    assert.equal(off.status, 200);
    assert.equal(off.body.enabled, false);
    const refused = await post(strategyAlert(), {}, own.url);
    assert.equal(refused.status, 404);
    assert.deepEqual(refused.body, (await post(strategyAlert(), {}, '/hooks/tv/unknown')).body, 'the same answer');
    await admin.api.request('PATCH', `/api/sources/${own.id}`, { enabled: true });
    assert.equal((await post(strategyAlert(), {}, own.url)).status, 201);
  });

  test("an IP allowlist: 403 from another address (logged), 201 from TradingView's", async () => {
    const own = await createSource(admin, {
      channel: 'alerts',
      name: 'allowlisted',
      market: 'crypto',
      allowedIps: [...TRADINGVIEW_ADDRESSES, '2001:db8::/32'],
    });
    assert.deepEqual(own.allowedIps, [...TRADINGVIEW_ADDRESSES, '2001:db8::/32']);
    const foreign = await post(strategyAlert(), { 'x-forwarded-for': '203.0.113.9' }, own.url);
    assert.equal(foreign.status, 403);
    const allowed = await post(strategyAlert(), { 'x-forwarded-for': '52.89.214.238' }, own.url);
    assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
    const ranged = await post(strategyAlert(), { 'x-forwarded-for': '2001:db8::7' }, own.url);
    assert.equal(ranged.status, 201);
    const log = await eventually(
      () => requests(own.id),
      (items) => items.length === 3,
      'three entries',
    );
    assert.deepEqual(
      log.map((r) => [r.address, r.outcome, r.status]),
      [
        ['2001:db8::7', 'accepted', 201],
        ['52.89.214.238', 'accepted', 201],
        ['203.0.113.9', 'forbidden', 403],
      ],
    );
  });

  test('the per-source rate: the 4th request in a minute at 3 per minute is 429 with Retry-After', async () => {
    const own = await createSource(admin, { channel: 'alerts', name: 'slow', market: 'crypto', ratePerMinute: 3 });
    const statuses: number[] = [];
    let last: ApiResponse | undefined;
    for (let i = 0; i < 4; i++) {
      last = await post(strategyAlert(), {}, own.url);
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 429]);
    assert.equal(last!.body.error.code, 'rate_limited');
    const retryAfter = Number(last!.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    await eventually(
      () => requests(own.id),
      (items) => items[0]?.outcome === 'rate_limited',
      'the 429 logged',
    );
  });

  test('subscribers cannot manage sources; a cookie session needs the CSRF token', async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['alerts'] });
    assert.equal((await sub.api.get('/api/sources')).status, 403);
    assert.equal(
      (await sub.api.post('/api/sources', { kind: 'tradingview', channel: 'alerts', name: 'x' })).status,
      403,
    );
    assert.equal((await sub.api.post(`/api/sources/${source.id}/rotate`)).status, 403);
    assert.equal((await sub.api.get(`/api/sources/${source.id}/requests`)).status, 403);
    assert.equal((await new Api(server.url).get('/api/sources')).status, 401);

    const res = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.test', password: PASSWORD }),
    });
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    const body = JSON.stringify({ kind: 'tradingview', channel: 'alerts', name: 'from the web' });
    const headers = { cookie, 'content-type': 'application/json' };
    const noToken = await fetch(`${server.url}/api/sources`, { method: 'POST', headers, body });
    assert.equal(noToken.status, 403);
    const withToken = await fetch(`${server.url}/api/sources`, {
      method: 'POST',
      headers: { ...headers, 'x-csrf-token': csrfToken },
      body,
    });
    assert.equal(withToken.status, 201);
    await login(server, 'admin@example.test');
  });
});

describe('the secret never reaches the server log', { timeout: 60_000 }, () => {
  let db: TestDatabase;
  let server: ServerProcess;

  before(async () => {
    db = sqliteDatabase();
    server = new ServerProcess({ env: { DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'trace', TRUST_PROXY: 'true' } });
    await server.start();
  });
  after(async () => {
    await server.stop();
    await db.drop();
  });

  /** Sends the head of a request with a longer body promised, then hangs up mid-body. */
  const abortMidBody = (path: string) =>
    new Promise<void>((resolve) => {
      const socket = netConnect(server.port, '127.0.0.1', () => {
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"tick`,
        );
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });

  test('accepted, refused, forbidden, rate-limited, aborted and oversized requests log no secret', async () => {
    const anon = new Api(server.url);
    const setup = await anon.post('/api/setup', {
      email: 'admin@example.test',
      password: PASSWORD,
      setupCode: server.setupCode(),
    });
    assert.equal(setup.status, 201, JSON.stringify(setup.body));
    const admin = new Api(server.url, setup.body.token);
    assert.equal((await admin.post('/api/channels', { slug: 'alerts', name: 'Alerts' })).status, 201);
    const created = await admin.post('/api/sources', {
      kind: 'tradingview',
      channel: 'alerts',
      name: 'logged',
      market: 'crypto',
      allowedIps: ['52.89.214.238'],
      ratePerMinute: 5,
    });
    assert.equal(created.status, 201);
    const { url, secret, id } = created.body as { url: string; secret: string; id: string };
    const from = { 'x-forwarded-for': '52.89.214.238' };

    assert.equal((await hook(server.url, url, strategyAlert(), from)).status, 201);
    assert.equal((await hook(server.url, url, strategyAlert({ sl: 'NaN' }), from)).status, 400);
    assert.equal((await hook(server.url, url, strategyAlert(), { 'x-forwarded-for': '198.51.100.1' })).status, 403);
    assert.equal((await hook(server.url, url, 'x'.repeat(70_000), from)).status, 413);
    assert.equal((await new Api(server.url).get(url)).status, 405);
    await abortMidBody(url);
    for (let i = 0; i < 5; i++) await hook(server.url, url, strategyAlert(), from);
    assert.equal((await hook(server.url, url, strategyAlert(), from)).status, 429);
    const rotated = await admin.post(`/api/sources/${id}/rotate`);
    await hook(server.url, rotated.body.url, strategyAlert(), from);
    await sleep(300);

    const aborted = server.logs.filter((line) => line.includes('request aborted'));
    assert.ok(aborted.length > 0, 'the aborted request was logged');
    assert.ok(
      aborted.some((line) => line.includes('/hooks/tv/[secret]')),
      aborted.join('\n'),
    );
    for (const s of [secret, rotated.body.secret as string]) {
      const leaks = server.logs.filter((line) => line.includes(s));
      assert.deepEqual(leaks, [], 'no log line holds the secret');
    }
    assert.ok(server.logs.length > 5, 'the server did log at trace level');
  });
});
