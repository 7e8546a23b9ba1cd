/**
 * `wsTextFrame` builds RFC 6455 frames that a real WebSocket client reads back intact, and
 * `DirectWriter` allows a direct write exactly when nothing waits ahead of it — checked on a
 * real Socket.IO server and client, so a change in the engine's private fields shows here.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import { Server, type Socket as IoSocket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import WebSocket, { WebSocketServer } from 'ws';
import { DirectWriter, wsTextFrame } from './direct-writer.js';

test('frames of every header size arrive as the same text, in order', async () => {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const texts = ['42["x",1]', 'é'.repeat(100), 'a'.repeat(70_000), `42${JSON.stringify(['new_signal', { n: 'ü' }])}`];
  wss.on('connection', (ws) => {
    const raw = (ws as unknown as { _socket: Socket })._socket;
    // Two frames in one write, as a batched flush does, then the rest one by one.
    raw.write(Buffer.concat([wsTextFrame(texts[0]!), wsTextFrame(texts[1]!)]));
    for (const text of texts.slice(2)) raw.write(wsTextFrame(text));
  });
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const received: string[] = [];
  await new Promise<void>((resolve, reject) => {
    client.on('message', (data: Buffer) => {
      received.push(data.toString('utf8'));
      if (received.length === texts.length) resolve();
    });
    client.on('error', reject);
  });
  assert.deepEqual(received, texts);
  assert.equal(wsTextFrame('abc')[1], 3);
  assert.equal(wsTextFrame('a'.repeat(200))[1], 126);
  assert.equal(wsTextFrame('a'.repeat(70_000))[1], 127);
  client.close();
  wss.close();
  server.close();
});

async function socketIoPair(
  transports: Array<'websocket' | 'polling'>,
): Promise<{ server: IoSocket; client: ClientSocket; close(): void }> {
  const http: HttpServer = createServer();
  const io = new Server(http, { perMessageDeflate: false });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const connected = once(io, 'connection') as Promise<[IoSocket]>;
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports, upgrade: false });
  const [server] = await connected;
  if (!client.connected) await new Promise((resolve) => client.once('connect', () => resolve(undefined)));
  return {
    server,
    client,
    close() {
      client.close();
      void io.close();
    },
  };
}

/** Resolves with the next `count` events the client receives, as `[name, value]`. */
function nextEvents(client: ClientSocket, count: number): Promise<Array<[string, unknown]>> {
  const received: Array<[string, unknown]> = [];
  return new Promise((resolve) => {
    const listener = (name: string, value: unknown) => {
      received.push([name, value]);
      if (received.length < count) return;
      client.offAny(listener);
      resolve(received);
    };
    client.onAny(listener);
  });
}

const drained = (writer: DirectWriter) =>
  new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (writer.socket() === undefined) return;
      clearInterval(poll);
      resolve();
    }, 2);
  });

test('an idle WebSocket connection is written directly, and the frame arrives after what was emitted', async () => {
  const { server, client, close } = await socketIoPair(['websocket']);
  try {
    const writer = new DirectWriter(server);
    await drained(writer); // the connect packet's write completes
    assert.equal(writer.queuedBytes(), 0);
    const events = nextEvents(client, 3);
    server.emit('n', 1);
    server.emit('n', 2); // the transport waits on the first write: this one stays queued
    assert.equal(writer.socket(), undefined, 'a packet waits in the engine: a direct write would overtake it');
    assert.ok(writer.queuedBytes() > 0);
    await drained(writer);
    writer.socket()!.write(wsTextFrame(`42${JSON.stringify(['n', 3])}`));
    assert.deepEqual(await events, [
      ['n', 1],
      ['n', 2],
      ['n', 3],
    ]);
  } finally {
    close();
  }
});

test('a polling connection and a closed one are never written directly', async () => {
  const polling = await socketIoPair(['polling']);
  try {
    assert.equal(new DirectWriter(polling.server).socket(), undefined);
  } finally {
    polling.close();
  }
  const ws = await socketIoPair(['websocket']);
  try {
    const writer = new DirectWriter(ws.server);
    await drained(writer);
    const gone = once(ws.server, 'disconnect');
    ws.client.close();
    await gone;
    assert.equal(writer.socket(), undefined);
  } finally {
    ws.close();
  }
});
