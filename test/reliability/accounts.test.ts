/**
 * Account security against a real server process logging at trace level: brute-force
 * throttling per account, the Origin check against cross-site WebSocket hijacking, CSRF on
 * cookie-authenticated writes, no credential in URLs or in the logs, security headers,
 * and no privilege escalation by a subscriber.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { io } from 'socket.io-client';
import { openSqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import { connect, handshakeOutcome, PASSWORD, type Account } from '../helpers/server.js';
import { createChannels, createSubscriber, report, setupAdmin, signalBody, failures, test } from './support.js';

const dir = tempDir('signal-desk-accounts-');
const file = join(dir.path, 'accounts.db');
const TRUSTED_ORIGIN = 'https://desk.example.com';
const server = new ServerProcess({
  env: { DATABASE_URL: `sqlite:${file}`, PORT: '0', LOG_LEVEL: 'trace', ALLOWED_ORIGINS: TRUSTED_ORIGIN },
});
let admin: Account;
let subscriber: Account & { email: string };
const secrets = new Set<string>([PASSWORD]);
let checks = 0;

async function login(email: string, password: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { token?: string; csrfToken?: string; error?: { code: string; message: string } };
  if (body.token) secrets.add(body.token);
  if (body.csrfToken) secrets.add(body.csrfToken);
  return { status: res.status, body, headers: res.headers };
}

/** Tries a Socket.IO handshake; resolves 'connected' or the connect_error message. */
function handshake(options: { origin?: string; cookie?: string; token?: string }): Promise<string> {
  const socket = io(server.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth: options.token ? { token: options.token } : {},
    extraHeaders: {
      ...(options.origin ? { origin: options.origin } : {}),
      ...(options.cookie ? { cookie: options.cookie } : {}),
    },
  });
  return handshakeOutcome(socket);
}

before(async () => {
  await server.start();
  admin = await setupAdmin(server);
  secrets.add(admin.token);
  await createChannels(admin, ['fx']);
  subscriber = await createSubscriber(server.url, admin, 'member@example.test', ['fx']);
  secrets.add(subscriber.token);
});

after(async () => {
  report('accounts', { checks, secretsGrepped: secrets.size, logLines: server.logs.length, anomalies: failures.count });
  await server.stop();
  dir.remove();
});

describe('accounts', () => {
  test('login brute force is throttled per account: 429 after 5 failures, even for the right password', async () => {
    await createSubscriber(server.url, admin, 'victim@example.test', ['fx']);
    const wrong = [];
    for (let i = 0; i < 5; i++)
      wrong.push(await login(i % 2 ? 'VICTIM@example.test' : 'victim@example.test', 'guess-' + i));
    assert.deepEqual(
      wrong.map((r) => r.status),
      [401, 401, 401, 401, 401],
    );
    const locked = await login('victim@example.test', PASSWORD);
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error?.code, 'too_many_attempts');
    assert.ok(Number(locked.headers.get('retry-after')) > 0, 'Retry-After is set');
    // Another account is unaffected: the throttle is per account.
    assert.equal((await login('member@example.test', PASSWORD)).status, 200);
    // An unknown account fails exactly like a wrong password: no enumeration.
    const unknown = await login('nobody@example.test', 'whatever-password');
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.body, wrong[0]!.body);
    checks += 4;
  });

  test('the Origin check stops cross-site WebSocket hijacking with the session cookie', async () => {
    const session = await login('member@example.test', PASSWORD);
    const cookie = `sd_session=${session.body.token}`;
    assert.equal(await handshake({ cookie, origin: 'https://evil.example' }), 'websocket error');
    assert.equal(await handshake({ cookie, origin: `http://127.0.0.1:${server.port + 1}` }), 'websocket error');
    assert.equal(await handshake({ cookie, origin: 'null' }), 'websocket error');
    // Same origin, a configured origin, and non-browser clients (no Origin) pass.
    assert.equal(await handshake({ cookie, origin: server.url }), 'connected');
    assert.equal(await handshake({ cookie, origin: TRUSTED_ORIGIN }), 'connected');
    assert.equal(await handshake({ token: subscriber.token }), 'connected');
    assert.equal(await handshake({}), 'unauthorized');
    // The polling transport is refused the same way.
    const polling = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin: 'https://evil.example', cookie },
    });
    assert.equal(polling.status, 403);
    await polling.body?.cancel();
    // CORS never reflects a foreign origin on the API.
    const api = await fetch(`${server.url}/api/me`, { headers: { origin: 'https://evil.example', cookie } });
    assert.equal(api.headers.get('access-control-allow-origin'), null);
    checks += 9;
  });

  test('cookie-authenticated state changes need x-csrf-token; nothing is stored without it', async () => {
    const session = await login('admin@example.test', PASSWORD);
    const cookie = `sd_session=${session.body.token}`;
    const setCookie = session.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Strict/i);
    const reader = openSqliteStore(file, { readonly: true });
    const count = () => (reader.raw.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    try {
      const before = count();
      const writes: Array<[string, string, unknown]> = [
        ['POST', '/api/signals', signalBody('fx')],
        ['POST', '/api/channels', { slug: 'csrf-made', name: 'x' }],
        ['PUT', `/api/users/${subscriber.user.id}/channels/fx`, undefined],
        ['DELETE', `/api/users/${subscriber.user.id}/channels/fx`, undefined],
        ['PATCH', `/api/users/${subscriber.user.id}`, { disabled: true }],
        ['POST', '/api/auth/logout', undefined],
      ];
      for (const [method, path, body] of writes) {
        for (const csrf of [undefined, 'wrong', session.body.token!]) {
          const res = await fetch(`${server.url}${path}`, {
            method,
            headers: {
              cookie,
              ...(body ? { 'content-type': 'application/json' } : {}),
              ...(csrf ? { 'x-csrf-token': csrf } : {}),
            },
            body: body ? JSON.stringify(body) : undefined,
          });
          const parsed = (await res.json()) as { error?: { code: string } };
          assert.equal(res.status, 403, `${method} ${path} with csrf=${csrf}`);
          assert.equal(parsed.error?.code, 'csrf_failed');
          checks++;
        }
      }
      assert.equal(count(), before, 'nothing stored');
      const channels = (await admin.api.get('/api/channels')).body.items as { slug: string }[];
      assert.ok(!channels.some((c) => c.slug === 'csrf-made'));
      const member = (await admin.api.get(`/api/users/${subscriber.user.id}`)).body;
      assert.equal(member.disabled, false);
      assert.deepEqual(member.channels, ['fx']);
      // With the token the same cookie request goes through.
      const ok = await fetch(`${server.url}/api/signals`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': session.body.csrfToken! },
        body: JSON.stringify(signalBody('fx')),
      });
      assert.equal(ok.status, 201);
      assert.equal(count(), before + 1);
    } finally {
      await reader.close();
    }
  });

  test('a subscriber cannot escalate: no admin writes, no other user, no setup re-run', async () => {
    const api = subscriber.api;
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/api/users', { email: 'x@example.test', password: 'long enough pw', role: 'admin' }],
      ['PATCH', `/api/users/${admin.user.id}`, { disabled: true }],
      ['PUT', `/api/users/${subscriber.user.id}/channels/fx`, undefined],
      ['POST', '/api/channels', { slug: 'mine', name: 'mine' }],
      ['POST', '/api/signals', signalBody('fx')],
      ['GET', '/api/users', undefined],
      ['GET', `/api/users/${admin.user.id}`, undefined],
    ];
    for (const [method, path, body] of attempts) {
      const res = await api.request(method, path, body);
      assert.equal(res.status, 403, `${method} ${path}: ${res.status}`);
      checks++;
    }
    const setup = await fetch(`${server.url}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'takeover@example.test',
        password: 'long enough password',
        setupCode: 'AAAA-BBBB-CCCC-DDDD',
      }),
    });
    assert.equal(setup.status, 409);
    checks++;
  });

  test('tokens are never accepted from URLs, and no token or password reaches the logs', async () => {
    for (const path of [`/api/me?token=${subscriber.token}`, `/api/stream?token=${subscriber.token}`]) {
      const res = await fetch(`${server.url}${path}`);
      assert.ok(res.status === 401 || res.status === 400, `${path}: ${res.status}`);
      await res.body?.cancel();
      checks++;
    }
    const query = await handshakeWithQueryToken(subscriber.token);
    assert.equal(query, 'unauthorized');
    // Exercise the paths that handle credentials, including failures, then grep the logs.
    const sub = connect(server, { token: subscriber.token, lastSeq: 0 });
    await sub.waitLive();
    sub.close();
    await fetch(`${server.url}/api/me`, { headers: { authorization: 'Bearer not-a-real-token' } });
    await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${subscriber.token}x` } });
    const leaving = await login('member@example.test', PASSWORD);
    await fetch(`${server.url}/api/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${leaving.body.token}` },
    });
    const stored = openSqliteStore(file, { readonly: true });
    try {
      const hashes = stored.raw.prepare('SELECT password_hash AS h FROM users').all() as { h: string }[];
      assert.ok(
        hashes.every((r) => r.h.startsWith('$argon2')),
        'passwords are stored as argon2 hashes',
      );
      const raw = stored.raw
        .prepare('SELECT count(*) AS n FROM sessions WHERE token_hash = ?')
        .get(subscriber.token) as {
        n: number;
      };
      assert.equal(raw.n, 0, 'session tokens are stored only as hashes');
    } finally {
      await stored.close();
    }
    // Request logging is off, so the log holds lifecycle lines and warnings; any of them must be clean.
    assert.ok(server.logs.some((line) => line.includes('signal-desk is serving')));
    const leaks = server.logs.filter((line) => [...secrets].some((secret) => line.includes(secret)));
    assert.deepEqual(leaks, [], 'a credential appeared in the logs');
    checks += 4;
  });

  test('security headers are present on the API and pages', async () => {
    for (const path of ['/api/me', '/healthz', '/api/nothing-here']) {
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${admin.token}` } });
      await res.body?.cancel();
      const h = res.headers;
      assert.match(h.get('content-security-policy') ?? '', /default-src 'self'/, path);
      assert.match(h.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
      assert.equal(h.get('x-content-type-options'), 'nosniff', path);
      assert.ok(h.get('x-frame-options'), path);
      assert.ok(h.get('strict-transport-security'), path);
      assert.equal(h.get('referrer-policy'), 'no-referrer', path);
      assert.equal(h.get('x-powered-by'), null, path);
      checks++;
    }
  });
});

/** A handshake that puts the token in the URL query instead of the auth packet. */
function handshakeWithQueryToken(token: string): Promise<string> {
  return handshakeOutcome(
    io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false, query: { token } }),
  );
}
