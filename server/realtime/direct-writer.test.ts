/** `wsTextFrame` builds RFC 6455 frames that a real WebSocket client reads back intact. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { wsTextFrame } from './socket-gateway.js';

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
