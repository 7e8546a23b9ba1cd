/**
 * The floor: the least a Node server can do to broadcast. It speaks just enough Engine.IO v4
 * and Socket.IO to look like a server to the benchmark clients, keeps no storage and checks
 * no credentials, and for every publish builds one WebSocket frame of the packet and writes
 * that same buffer to every connected socket. Announces `{"msg":"serving","port":…}` on stdout.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import * as wsExports from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { readJson } from '../lib/http-body.js';
import { serve } from './serve.js';
import { wireEvent, type BenchSignal } from '../lib/payload.js';

const HANDSHAKE = JSON.stringify({ upgrades: [], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1e6 });

const live = new Set<WebSocket>();
/** Every frame ever sent, so a reconnecting client can be given what it missed (index = seq - 1). */
const frames: Buffer[] = [];

/** ws's frame builder; its type definitions do not declare it. */
const { Sender } = wsExports as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, boolean | number>): Buffer[] };
};

function frameOf(packet: string): Buffer {
  const parts = Sender.frame(Buffer.from(packet), {
    fin: true,
    opcode: 1,
    mask: false,
    readOnly: false,
    rsv1: false,
  });
  return Buffer.concat(parts);
}

const rawSocket = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/publish') {
    readJson(request).then(
      (body) => {
        const seq = frames.length + 1;
        const frame = frameOf(`42${JSON.stringify(['new_signal', wireEvent(body as BenchSignal, seq)])}`);
        frames.push(frame);
        for (const ws of live) rawSocket(ws).write(frame);
        response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ seq }));
      },
      () => response.writeHead(400).end(),
    );
    return;
  }
  response.writeHead(404).end();
});

const wss = new WebSocketServer({ server, path: '/socket.io/', perMessageDeflate: false, skipUTF8Validation: true });
wss.on('connection', (ws) => {
  const sid = randomUUID();
  ws.send(`0${HANDSHAKE.replace('{', `{"sid":"${sid}",`)}`);
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (text === '3') return; // pong
    if (text.startsWith('40')) {
      let lastSeq: unknown;
      try {
        lastSeq = text.length > 2 ? (JSON.parse(text.slice(2)) as { lastSeq?: unknown }).lastSeq : undefined;
      } catch {
        lastSeq = undefined;
      }
      ws.send(`40{"sid":"${randomUUID()}"}`);
      if (typeof lastSeq === 'number') for (let s = lastSeq; s < frames.length; s++) rawSocket(ws).write(frames[s]!);
      live.add(ws);
    }
  });
  ws.on('close', () => live.delete(ws));
});

serve(server);
