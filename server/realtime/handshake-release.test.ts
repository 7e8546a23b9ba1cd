/**
 * `releaseUpgradeRequests` and `releaseHandshake` let the requests a connection was opened and upgraded with be collected
 * while the connection stays usable — checked on a real Socket.IO server and client with the
 * garbage collector, on every transport, so a change in where Engine.IO keeps a request
 * shows here.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Server, type Socket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { releaseHandshake, releaseUpgradeRequests } from './handshake-release.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collected(ref: WeakRef<IncomingMessage>): Promise<boolean> {
  for (let i = 0; i < 5 && ref.deref(); i++) {
    await tick();
    gc();
  }
  return ref.deref() === undefined;
}

type Transports = Array<'websocket' | 'polling'>;

/**
 * A server (releasing its upgrade requests unless `release` is false) and a client sending a token
 * and a large header, as a subscriber would. `onConnection` runs in the server's connection
 * handler. Resolves once the client is connected — and, if it started on polling and may
 * upgrade, upgraded — with the server's socket and weak references to the opening request
 * and to the upgrade request, if any.
 */
async function connection(transports: Transports, onConnection: (socket: Socket) => void, { release = true } = {}) {
  const http = createServer();
  const io = new Server(http, { perMessageDeflate: false });
  if (release) releaseUpgradeRequests(io);
  let upgrade: WeakRef<IncomingMessage> | undefined;
  type EngineRequest = IncomingMessage & { _query: { sid?: string; transport?: string } };
  io.engine.on('headers', (_headers: unknown, req: EngineRequest) => {
    // A WebSocket request for a connection that already has an id: an upgrade from polling.
    if (req._query.sid && req._query.transport === 'websocket') upgrade = new WeakRef(req);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const accepted = new Promise<{ socket: Socket; opening: WeakRef<IncomingMessage> }>((resolve) => {
    io.on('connection', (socket) => {
      const opening = new WeakRef(socket.request);
      onConnection(socket);
      resolve({ socket, opening });
    });
  });
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
    transports,
    auth: { token: 'secret-token', lastSeq: 7 },
    extraHeaders: { cookie: 'sd_session=secret-cookie', 'x-padding': 'x'.repeat(4096) },
  });
  const { socket, opening } = await accepted;
  if (transports[0] === 'polling' && transports.includes('websocket')) await once(socket.conn, 'upgrade');
  return {
    socket,
    client,
    opening,
    upgrade: () => upgrade,
    close() {
      client.close();
      void io.close();
    },
  };
}

async function worksBothWays(socket: Socket, client: ClientSocket): Promise<void> {
  const reply = once(socket, 'ping-server');
  client.emit('ping-server', 1);
  assert.deepEqual(await reply, [1]);
  const received = new Promise((resolve) => client.once('hello', (...args: unknown[]) => resolve(args)));
  socket.emit('hello', 'after release');
  assert.deepEqual(await received, ['after release']);
}

for (const transports of [['websocket'], ['polling'], ['polling', 'websocket']] as Transports[]) {
  test(`${transports.join(' then ')}: after release the requests, their headers and the token can be collected, and the connection still works both ways`, async () => {
    let lastSeq: unknown;
    const { socket, client, opening, upgrade, close } = await connection(transports, (s) => {
      lastSeq = s.handshake.auth.lastSeq;
      releaseHandshake(s);
    });
    try {
      assert.equal(lastSeq, 7, 'the handshake is whole until released');
      assert.equal(socket.request, null);
      assert.deepEqual(socket.handshake.headers, {});
      assert.deepEqual(socket.handshake.query, {});
      assert.deepEqual(socket.handshake.auth, {}, 'the token is not kept');
      assert.ok(await collected(opening), 'the opening request is still reachable');
      if (transports.length === 2) {
        assert.equal(socket.conn.transport.name, 'websocket');
        assert.ok(upgrade(), 'the upgrade request was seen');
        assert.ok(await collected(upgrade()!), 'the upgrade request is still reachable');
      }
      await worksBothWays(socket, client);
    } finally {
      close();
    }
  });
}

test('without releaseUpgradeRequests, dropping conn.request leaves a WebSocket connection’s request reachable through its upgrade response', async () => {
  // If this fails, Engine.IO no longer keeps the request in its upgrade response, and the
  // 'headers' hook in releaseUpgradeRequests can go.
  const { opening, close } = await connection(
    ['websocket'],
    (s) => {
      (s.conn as unknown as { request: unknown }).request = null;
      Object.assign(s.handshake, { headers: {}, query: {}, auth: {} });
    },
    { release: false },
  );
  try {
    assert.equal(await collected(opening), false);
  } finally {
    close();
  }
});
