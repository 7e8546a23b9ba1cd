/**
 * What one client can hold, against a real server process: a request sent a byte a second
 * is cut off at the request timeout; one address cannot open more than its share of
 * connections; one user cannot open endless event streams; a session that expires closes
 * its live socket and stream; a client that aborts its request is not an outage; positions
 * cannot be forged past the head; `/readyz` tells strangers nothing about the log.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect as tcpConnect, type Socket as TcpSocket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { newToken, tokenHash } from '../../server/auth/tokens.js';
import { openSqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import { Api, type Account } from '../helpers/server.js';
import { createChannels, createSubscriber, setupAdmin, signalBody, sleep } from '../reliability/support.js';

const PER_ADDRESS = 40;
const dir = tempDir('signal-desk-connections-');
const file = join(dir.path, 'connections.db');
const server = new ServerProcess({
  env: {
    DATABASE_URL: `sqlite:${file}`,
    PORT: '0',
    AUTH_RATE_LIMIT: '0',
    REQUEST_TIMEOUT_SECONDS: '2',
    MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
  },
});
let admin: Account;
let member: Account & { email: string };

/** A raw TCP connection to the server; `closed` resolves when the server ends it. */
function raw(): Promise<{ socket: TcpSocket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(server.port, '127.0.0.1');
    const opened = Date.now();
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - opened)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, sleep(ms).then(() => 'timeout' as const)]);

before(async () => {
  await server.start();
  admin = await setupAdmin(server);
  await createChannels(admin, ['fx']);
  member = await createSubscriber(server.url, admin, 'member@example.test', ['fx']);
});

after(async () => {
  await server.stop();
  dir.remove();
});

describe('connections', () => {
  test('a request sent a byte a second is cut off at the request timeout', async () => {
    const slow = await Promise.all(Array.from({ length: 20 }, () => raw()));
    const drip = setInterval(() => {
      for (const { socket } of slow) if (!socket.destroyed) socket.write('x');
    }, 1000);
    try {
      for (const { socket } of slow) {
        socket.write(
          'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n',
        );
      }
      const lifetimes = await Promise.all(slow.map(({ closed }) => within(closed, 15_000)));
      for (const ms of lifetimes) assert.ok(ms !== 'timeout' && ms < 8000, `held for ${String(ms)}`);
    } finally {
      clearInterval(drip);
      for (const { socket } of slow) socket.destroy();
    }
  });

  test(`one address holds at most ${PER_ADDRESS} connections; freed places are given again`, async () => {
    await sleep(300); // the connections of the test before are gone
    const held = await Promise.all(Array.from({ length: PER_ADDRESS + 5 }, () => raw()));
    const outcomes = await Promise.all(held.map(({ closed }) => within(closed, 1500)));
    const refused = outcomes.filter((o) => o !== 'timeout').length;
    // The test's own keep-alive connections may hold a place or two.
    assert.ok(refused >= 5 && refused <= 8, `refused ${refused}`);
    for (const { socket } of held.slice(0, 10)) socket.destroy();
    await sleep(200);
    const again = await raw();
    assert.equal(await within(again.closed, 1000), 'timeout', 'a freed place is given to the next connection');
    again.socket.destroy();
    for (const { socket } of held) socket.destroy();
    await sleep(300);
  });

  test('a user may hold 20 event streams; the 21st is refused with 429', async () => {
    const controllers: AbortController[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const controller = new AbortController();
        controllers.push(controller);
        const res = await fetch(`${server.url}/api/stream`, {
          headers: { authorization: `Bearer ${member.token}` },
          signal: controller.signal,
        });
        assert.equal(res.status, 200);
      }
      const refused = await fetch(`${server.url}/api/stream`, { headers: { authorization: `Bearer ${member.token}` } });
      assert.equal(refused.status, 429);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'too_many_connections');
    } finally {
      for (const c of controllers) c.abort();
      await sleep(300);
    }
  });

  test('a session that expires closes its socket and its event stream', async () => {
    // A session of three seconds, written as the server writes them.
    const store = openSqliteStore(file);
    const token = newToken();
    try {
      await store.createSession({
        id: randomUUID(),
        tokenHash: tokenHash(token),
        userId: member.user.id,
        expiresAt: new Date(Date.now() + 3000).toISOString(),
      });
    } finally {
      await store.close();
    }
    const socket = io(server.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    const expired = new Promise<string>((resolve) => socket.on('session_expired', (info) => resolve(info.message)));
    const disconnected = new Promise<void>((resolve) => socket.on('disconnect', () => resolve()));
    await new Promise<void>((resolve, reject) => socket.once('live', () => resolve()).once('connect_error', reject));
    const stream = await fetch(`${server.url}/api/stream`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(stream.status, 200);
    const ended = stream.text().then(() => 'ended');
    assert.match(String(await within(expired, 8000)), /expired/);
    assert.notEqual(await within(disconnected, 3000), 'timeout', 'the socket was closed at expiry');
    assert.equal(await within(ended, 3000), 'ended', 'the stream was ended at expiry');
    assert.equal((await new Api(server.url, token).get('/api/me')).status, 401);
  });

  test('a client that aborts its request is logged as such, not as an outage', async () => {
    const before = server.logs.length;
    const { socket, closed } = await raw();
    socket.write(
      `POST /api/signals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin.token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"channel":',
    );
    await sleep(200);
    socket.destroy();
    await closed;
    await sleep(300);
    const aborted = server.logs.slice(before).filter((line) => line.includes('client closed the request'));
    assert.equal(aborted.length, 1);
    assert.ok(!aborted[0]!.includes('"level":50'), 'not an error');
    assert.deepEqual(
      server.logs.filter((line) => /"level":(50|60)/.test(line)),
      [],
      'nothing logged at error level',
    );
  });

  test('positions cannot be reported past what the log holds', async () => {
    const { status, body } = await admin.api.post('/api/signals', signalBody('fx'));
    assert.equal(status, 201);
    const head = body.seq as number;
    const put = await member.api.request('PUT', '/api/me/position', {
      delivered: Number.MAX_SAFE_INTEGER,
      read: Number.MAX_SAFE_INTEGER,
    });
    assert.equal(put.status, 200);
    assert.ok(put.body.delivered <= head && put.body.read <= head, JSON.stringify(put.body));
    // Over the socket too: a connection can only have been sent what exists.
    const socket = io(server.url, {
      auth: { token: member.token, lastSeq: 0 },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    await new Promise<void>((resolve) => socket.once('live', () => resolve()));
    socket.emit('position', { delivered: 2 ** 53, read: 2 ** 40 });
    await sleep(1500);
    socket.close();
    const me = await member.api.get('/api/me');
    assert.ok(me.body.positions.delivered <= head, JSON.stringify(me.body.positions));
  });

  test('/readyz tells strangers nothing about the log', async () => {
    const ready = (await fetch(`${server.url}/readyz`).then((r) => r.json())) as Record<string, unknown>;
    assert.equal(ready.ready, true);
    assert.equal('headSeq' in ready, false);
  });
});
