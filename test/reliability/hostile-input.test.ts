/**
 * Hostile input against a real server process: property-based HTTP bodies and queries for
 * every route (fast-check), and malformed Engine.IO/Socket.IO packets and oversized frames
 * over raw WebSockets. Properties: never a 5xx, every error is `{error:{code,message}}`,
 * nothing is stored from a rejected request (the database's state fingerprint is unchanged),
 * the process never dies, logs no error, and keeps delivering to a subscriber connected
 * throughout.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { openSqliteStore, type SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import { connect, PASSWORD, type Account, type Subscriber } from '../helpers/server.js';
import { createChannels, createSubscriber, report, scaled, setupAdmin, sleep, failures, test } from './support.js';

const RUNS = scaled(60);
const dir = tempDir('signal-desk-hostile-');
const file = join(dir.path, 'hostile.db');
// Behind a proxy, so the last check can sign in from another address than the fuzzer's.
const server = new ServerProcess({ env: { DATABASE_URL: `sqlite:${file}`, PORT: '0', TRUST_PROXY: 'true' } });
let admin: Account;
let subscriber: Account;
let watcher: Subscriber;
let reader: SqliteStore;
let signalId = '';
let requests = 0;
let rejected = 0;
let accepted = 0;
let frames = 0;

/** Everything a request could change, as one comparable string. */
function fingerprint(): string {
  const row = reader.raw
    .prepare(
      `SELECT (SELECT count(*) FROM events) AS events,
              (SELECT count(*) FROM signals) AS signals,
              (SELECT count(*) FROM channels) AS channels,
              (SELECT count(*) FROM grants) AS grants,
              (SELECT group_concat(id || ':' || coalesce(name,'') || ':' || coalesce(disabled_at,'') || ':' ||
                 delivered_seq || ':' || read_seq, ',') FROM users) AS users`,
    )
    .get();
  return JSON.stringify(row);
}

const VALID: Record<string, Record<string, unknown>> = {
  signal: {
    channel: 'fx',
    symbol: 'EURUSD',
    market: 'forex',
    side: 'buy',
    entry: 1.1,
    stopLoss: 1.0,
    takeProfits: [1.2, 1.3],
  },
  update: { type: 'tp_hit', level: 1, price: 1.2 },
  channel: { slug: 'new-channel', name: 'New' },
  user: { email: 'new@example.test', password: 'a long enough password', role: 'subscriber', channels: ['fx'] },
  patch: { disabled: false, name: 'Someone' },
  position: { delivered: 1, read: 1 },
  login: { email: 'victim@example.test', password: 'not the password' },
  setup: { email: 'second@example.test', password: 'a long enough password' },
};

interface Route {
  method: string;
  path: () => string;
  valid: keyof typeof VALID | null;
  as: 'admin' | 'subscriber' | 'anonymous';
}
const ROUTES: Route[] = [
  { method: 'POST', path: () => '/api/setup', valid: 'setup', as: 'anonymous' },
  { method: 'POST', path: () => '/api/auth/login', valid: 'login', as: 'anonymous' },
  { method: 'POST', path: () => '/api/signals', valid: 'signal', as: 'admin' },
  { method: 'POST', path: () => '/api/admin/create-signal', valid: 'signal', as: 'admin' },
  { method: 'POST', path: () => '/api/signals', valid: 'signal', as: 'subscriber' },
  { method: 'POST', path: () => `/api/signals/${signalId}/updates`, valid: 'update', as: 'admin' },
  { method: 'POST', path: () => '/api/channels', valid: 'channel', as: 'admin' },
  { method: 'POST', path: () => '/api/users', valid: 'user', as: 'admin' },
  { method: 'PATCH', path: () => `/api/users/${subscriber.user.id}`, valid: 'patch', as: 'admin' },
  { method: 'PUT', path: () => '/api/me/position', valid: 'position', as: 'subscriber' },
];
const QUERY_ROUTES = [
  '/api/signals',
  '/api/events',
  '/api/export',
  '/api/stats',
  '/api/chain/head',
  '/api/me/unread',
  '/api/stream',
];
const QUERY_KEYS = [
  'channel',
  'market',
  'symbol',
  'side',
  'status',
  'q',
  'before',
  'after',
  'limit',
  'format',
  'from',
  'to',
  '__proto__',
  'constructor',
];

/** JSON-ish values plus the numbers JSON text can carry but JSON.stringify cannot make. */
const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(-1, 0, -0, 1e308, 2 ** 53 + 1, 0.1, ''),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ minLength: 2000, maxLength: 2100 }),
  fc.array(fc.double(), { maxLength: 8 }),
);

/** A body: a valid one with fields mutated, dropped or added; or anything at all. */
function bodyFor(route: Route): fc.Arbitrary<string> {
  const valid = route.valid ? VALID[route.valid]! : {};
  const keys = Object.keys(valid);
  const mutated = fc
    .record({
      drop: fc.subarray(keys, { maxLength: 2 }),
      set: fc.dictionary(fc.oneof(fc.constantFrom(...keys, '__proto__', 'constructor'), fc.string()), nasty, {
        maxKeys: 3,
      }),
    })
    .map(({ drop, set }) => {
      const body: Record<string, unknown> = { ...valid };
      for (const key of drop) delete body[key];
      for (const [key, value] of Object.entries(set)) Object.defineProperty(body, key, { value, enumerable: true });
      return JSON.stringify(body);
    });
  const numberTricks = fc
    .constantFrom('1e999', '-1e999', '1e-400', '-0', '0.0000001', '123456789012345678901234567890')
    .map((n) => JSON.stringify(valid).replace(/:(\d+(\.\d+)?)/, `:${n}`));
  return fc.oneof(
    { weight: 5, arbitrary: mutated },
    { weight: 1, arbitrary: numberTricks },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 500 }) },
    { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => '['.repeat(n) + ']'.repeat(n)) },
  );
}

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
);

function tokenFor(as: Route['as']): string | null {
  return as === 'admin' ? admin.token : as === 'subscriber' ? subscriber.token : null;
}

async function send(method: string, path: string, body: string | null, type: string, token: string | null) {
  requests++;
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(type ? { 'content-type': type } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = path.startsWith('/api/stream') && res.status === 200 ? '' : await res.text();
  if (path.startsWith('/api/stream')) await res.body?.cancel().catch(() => {});
  return { status: res.status, text };
}

function assertErrorShape(status: number, text: string, context: string) {
  assert.ok(status < 500, `${context}: ${status} ${text.slice(0, 300)}`);
  if (status >= 400) {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    assert.equal(typeof body.error?.code, 'string', `${context}: error code`);
    assert.equal(typeof body.error?.message, 'string', `${context}: error message`);
  }
}

before(async () => {
  await server.start();
  admin = await setupAdmin(server);
  await createChannels(admin, ['fx']);
  subscriber = await createSubscriber(server.url, admin, 'subscriber@example.test', ['fx']);
  await createSubscriber(server.url, admin, 'victim@example.test', ['fx']);
  const res = await admin.api.post('/api/signals', VALID.signal);
  signalId = res.body.id as string;
  reader = openSqliteStore(file, { readonly: true });
  watcher = connect(server, { token: subscriber.token, lastSeq: 0 });
  await watcher.waitLive();
});

after(async () => {
  report('hostile-input', {
    requests,
    rejected,
    accepted,
    frames,
    serverRestarts: server.starts - 1,
    anomalies: failures.count,
  });
  watcher?.close();
  await reader?.close();
  await server.stop();
  dir.remove();
});

describe('hostile input', () => {
  test('HTTP bodies: never a 5xx, rejected requests store nothing', async () => {
    for (const route of ROUTES) {
      await fc.assert(
        fc.asyncProperty(bodyFor(route), contentType, async (body, type) => {
          const before = fingerprint();
          const { status, text } = await send(route.method, route.path(), body, type, tokenFor(route.as));
          const context = `${route.method} ${route.path()} as ${route.as} [${type}] ${body.slice(0, 200)}`;
          assertErrorShape(status, text, context);
          if (status >= 400) {
            rejected++;
            assert.equal(fingerprint(), before, `${context}: a rejected request changed the database`);
          } else accepted++;
        }),
        { numRuns: RUNS },
      );
    }
  });

  test('an oversized body is refused with 413 and stores nothing', async () => {
    const before = fingerprint();
    const big = JSON.stringify({ ...VALID.signal, notes: 'x'.repeat(70 * 1024) });
    const { status, text } = await send('POST', '/api/signals', big, 'application/json', admin.token);
    assert.equal(status, 413, text);
    assert.equal(JSON.parse(text).error.code, 'payload_too_large');
    assert.equal(fingerprint(), before);
  });

  test('query strings: never a 5xx on any read path', async () => {
    const query = fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 10 })),
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 40 }),
            fc.constantFrom('-1', '1e999', 'NaN', 'Infinity', '9007199254740993', '0x10', 'ndjson', 'csv', 'fx'),
          ),
        ),
        { maxLength: 4 },
      )
      .map((pairs) => new URLSearchParams(pairs).toString());
    for (const path of QUERY_ROUTES) {
      await fc.assert(
        fc.asyncProperty(
          query,
          fc.constantFrom('admin', 'subscriber', 'anonymous') as fc.Arbitrary<Route['as']>,
          async (q, as) => {
            const { status, text } = await send('GET', `${path}?${q}`, null, '', tokenFor(as));
            assertErrorShape(status, text, `GET ${path}?${q} as ${as}`);
            if (status >= 400) rejected++;
            else accepted++;
          },
        ),
        { numRuns: RUNS },
      );
    }
    // Raw, undecodable query bytes and path parameters.
    for (const path of [
      '/api/signals?%zz=1',
      '/api/events?after=%ff%fe',
      '/api/signals/%00',
      `/api/signals/${'a'.repeat(5000)}`,
    ]) {
      const { status, text } = await send('GET', path, null, '', admin.token);
      assertErrorShape(status, text, path);
    }
  });

  test('authorization headers and cookies: malformed credentials are a 401, never a 5xx', async () => {
    const header = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 200 }).filter((s) => /^[\t\x20-\x7e]*$/.test(s)),
      fc.string({ maxLength: 100 }).map((s) => `Bearer ${encodeURIComponent(s)}`),
      fc.constantFrom('Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', `Bearer ${'x'.repeat(8000)}`),
    );
    await fc.assert(
      fc.asyncProperty(header, fc.boolean(), async (value, asCookie) => {
        requests++;
        const res = await fetch(`${server.url}/api/me`, {
          headers: asCookie ? { cookie: `sd_session=${encodeURIComponent(value)}` } : { authorization: value },
        });
        const text = await res.text();
        assertErrorShape(res.status, text, `credentials ${value.slice(0, 80)}`);
        assert.ok(res.status === 401 || res.status === 431, `credentials ${value.slice(0, 80)}: ${res.status}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('Engine.IO / Socket.IO: malformed packets and oversized frames never crash the server', async () => {
    const packet = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ maxLength: 200 }).map((s) => `42${s}`),
      fc.jsonValue({ maxDepth: 3 }).map((v) => `42${JSON.stringify(['position', v])}`),
      fc.jsonValue({ maxDepth: 2 }).map((v) => `40${JSON.stringify(v)}`),
      fc.constantFrom(
        '',
        '4',
        '40',
        '41',
        '42',
        '43',
        '44',
        '45',
        '451-["position",{"_placeholder":true,"num":0}]',
        '42["position"',
        '42[]',
        '42["__proto__",{}]',
        '42["disconnect"]',
        '42/other,["x"]',
        '2probe',
        '5',
        '6',
        '1',
        '9',
        '42' + '['.repeat(5000) + ']'.repeat(5000),
      ),
    );
    const kind = fc.constantFrom('text', 'binary', 'oversized') as fc.Arbitrary<'text' | 'binary' | 'oversized'>;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(packet, kind), { minLength: 1, maxLength: 5 }), async (sequence) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
        ws.on('error', () => {});
        ws.send(`40${JSON.stringify({ token: subscriber.token })}`);
        for (const [data, how] of sequence) {
          if (ws.readyState !== WebSocket.OPEN) break;
          frames++;
          if (how === 'binary') ws.send(Buffer.from(data));
          else if (how === 'oversized') ws.send(`42["position",${JSON.stringify('x'.repeat(20 * 1024))}]`);
          else ws.send(data);
        }
        await Promise.race([closed, sleep(30)]);
        ws.terminate();
      }),
      { numRuns: RUNS },
    );
    // An oversized frame is refused by closing that connection.
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('4' + 'x'.repeat(64 * 1024));
    assert.ok([1009, 1006, 1005].includes(await closed), 'oversized frame closes the connection');
    // Polling transport with junk.
    for (const [method, path, body] of [
      ['GET', '/socket.io/?EIO=3&transport=polling', null],
      ['GET', '/socket.io/?EIO=4&transport=carrier-pigeon', null],
      ['POST', '/socket.io/?EIO=4&transport=polling&sid=nope', '4junk'],
      ['GET', '/socket.io/?EIO=4&transport=polling&sid=%00', null],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method, body });
      assert.ok(res.status < 500, `${method} ${path}: ${res.status}`);
      await res.body?.cancel();
    }
  });

  test('afterwards the same process still serves: it publishes and delivers, and logged no error', async () => {
    assert.ok(server.running, 'the server process is alive');
    const before = watcher.events.length;
    const res = await admin.api.post('/api/signals', { ...VALID.signal, notes: 'after the storm' });
    assert.equal(res.status, 201);
    await watcher.waitFor((e) => e.some((x) => x.seq === res.body.seq));
    const delivered = watcher.events.slice(before);
    assert.equal(delivered.at(-1)?.seq, res.body.seq);
    const seqs = watcher.events.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...new Set(seqs)].sort((a, b) => a - b),
      'the watcher saw no gap, duplicate or reorder',
    );
    const errors = server.logs.filter((l) => /"level":(50|60)/.test(l));
    assert.deepEqual(errors, [], 'the server logged errors');
    assert.equal(server.starts, 1, 'the process never restarted');
    // And the victim account was only throttled, never broken: its owner, at another address
    // than the fuzzer's (which may well be refused by now), still signs in.
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
      body: JSON.stringify({ email: 'subscriber@example.test', password: PASSWORD }),
    });
    assert.equal(login.status, 200);
  });
});
