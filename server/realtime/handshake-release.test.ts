/**
 * `HandshakeRelease` lets a connection's opening request be collected while the connection
 * stays usable — checked on a real Socket.IO server and client with the garbage collector,
 * so a change in where Engine.IO keeps the request shows here.
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
import { io as connect } from 'socket.io-client';
import { HandshakeRelease } from './handshake-release.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collected(ref: WeakRef<IncomingMessage>): Promise<boolean> {
  for (let i = 0; i < 5 && ref.deref(); i++) {
    await tick();
    gc();
  }
  return ref.deref() === undefined;
}

/**
 * A server whose connections are handed to `onConnection`, and a WebSocket client sending
 * a token and custom header, as a subscriber would. Resolves with the server's socket and a
 * weak reference to its opening request.
 */
async function connection(onConnection: (socket: Socket, release: HandshakeRelease) => void) {
  const http = createServer();
  const io = new Server(http, { perMessageDeflate: false });
  const release = new HandshakeRelease(io);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const accepted = new Promise<{ socket: Socket; request: WeakRef<IncomingMessage> }>((resolve) => {
    io.on('connection', (socket) => {
      const request = new WeakRef(socket.request);
      onConnection(socket, release);
      resolve({ socket, request });
    });
  });
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
    transports: ['websocket'],
    auth: { token: 'secret-token', lastSeq: 7 },
    extraHeaders: { 'x-padding': 'x'.repeat(4096) },
  });
  const { socket, request } = await accepted;
  return {
    socket,
    client,
    request,
    close() {
      client.close();
      void io.close();
    },
  };
}

test('after release the request, its headers and the token can be collected, and the connection still works both ways', async () => {
  let lastSeq: unknown;
  const { socket, client, request, close } = await connection((s, release) => {
    lastSeq = s.handshake.auth.lastSeq;
    release.release(s);
  });
  try {
    assert.equal(lastSeq, 7, 'the handshake is whole until released');
    assert.equal(socket.request, null);
    assert.deepEqual(socket.handshake.headers, {});
    assert.deepEqual(socket.handshake.query, {});
    assert.deepEqual(socket.handshake.auth, {}, 'the token is not kept');
    assert.ok(await collected(request), 'the opening request is still reachable');

    const reply = once(socket, 'ping-server');
    client.emit('ping-server', 1);
    assert.deepEqual(await reply, [1]);
    const received = new Promise((resolve) => client.once('hello', (...args: unknown[]) => resolve(args)));
    socket.emit('hello', 'after release');
    assert.deepEqual(await received, ['after release']);
  } finally {
    close();
  }
});

test('dropping conn.request alone leaves the request reachable through the upgrade response', async () => {
  // If this fails, Engine.IO no longer keeps the request in its upgrade response, and the
  // middleware in HandshakeRelease can go.
  const { request, close } = await connection((s) => {
    (s.conn as unknown as { request: unknown }).request = null;
    Object.assign(s.handshake, { headers: {}, query: {}, auth: {} });
  });
  try {
    assert.equal(await collected(request), false);
  } finally {
    close();
  }
});
