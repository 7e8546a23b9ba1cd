/**
 * The plain baseline: stock Socket.IO the way the prototype used it — signals in an
 * in-memory array, `io.emit('new_signal', …)` to everyone, no storage, no auth. A client
 * that sends `lastSeq` in its handshake is given the array after it (the prototype's
 * history). Announces `{"msg":"serving","port":…}` on stdout.
 */
import { createServer, type ServerResponse } from 'node:http';
import { Server } from 'socket.io';
import { readJson } from '../lib/http-body.js';
import { serve } from './serve.js';
import { benchSignal, wireEvent, type BenchSignal } from '../lib/payload.js';

const signals: Array<Record<string, unknown>> = [];

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://x');
  if (request.method === 'POST' && url.pathname === '/publish') {
    readJson(request).then(
      (body) => {
        const event = wireEvent(body as BenchSignal, signals.length + 1);
        signals.push(event);
        io.emit('new_signal', event);
        json(response, 201, { seq: event.seq });
      },
      () => response.writeHead(400).end(),
    );
    return;
  }
  if (request.method === 'POST' && url.pathname === '/seed') {
    // History baseline: fill the array without broadcasting.
    const count = Number(url.searchParams.get('count') ?? 0);
    for (let i = 0; i < count; i++) signals.push(wireEvent(benchSignal(i), signals.length + 1));
    json(response, 201, { headSeq: signals.length });
    return;
  }
  if (request.method === 'GET' && url.pathname === '/api/signals') {
    const limit = Number(url.searchParams.get('limit') ?? 50);
    json(response, 200, { items: signals.slice(-limit).reverse() });
    return;
  }
  if (request.method === 'GET' && url.pathname === '/api/events') {
    const after = Number(url.searchParams.get('after') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 100);
    json(response, 200, { events: signals.slice(after, after + limit), headSeq: signals.length });
    return;
  }
  response.writeHead(404).end();
});

const io = new Server(server, { serveClient: false });
io.on('connection', (socket) => {
  const lastSeq = (socket.handshake.auth as { lastSeq?: unknown }).lastSeq;
  if (typeof lastSeq === 'number') for (const event of signals.slice(lastSeq)) socket.emit('new_signal', event);
});

serve(server);
