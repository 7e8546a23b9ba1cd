/**
 * Long reads of the log share the event loop: 35 replays and exports of a 30,000-event log at
 * once (SSE streams, Socket.IO sockets, downloads, by five users) leave `/healthz` answering
 * within a fraction of a second, and every reader still gets the whole log, in order, once.
 * A client that stops reading in the middle of its replay is dropped, and resumes later.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { openSqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/databases.js';
import { EventLog } from '../helpers/event-log.js';
import { ServerProcess } from '../helpers/process.js';
import { createSubscriber, setupAdmin, sleep } from '../reliability/support.js';
import type { Account } from '../helpers/server.js';

const EVENTS = 30_000;
const dir = tempDir('signal-desk-starvation-');
const file = join(dir.path, 'starvation.db');
const server = new ServerProcess({
  env: { DATABASE_URL: `sqlite:${file}`, PORT: '0', AUTH_RATE_LIMIT: '0', SLOW_CLIENT_TIMEOUT_SECONDS: '1' },
});
const users: Account[] = [];

/** A log of EVENTS signals over two channels, written before the server starts. */
async function seed(): Promise<void> {
  const store = openSqliteStore(file);
  try {
    await store.migrate();
    const log = new EventLog();
    const notes = 'Range breakout, volume confirms; scale out at each target. '.repeat(8);
    for (let i = 0; i < EVENTS; i++) {
      const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
      log.create(
        i % 3 ? 'fx' : 'gold',
        {
          symbol: `SYM${i % 50}`,
          market: 'crypto',
          side: 'buy',
          entry: 100,
          stopLoss: 95,
          takeProfits: [105, 110],
          notes,
        },
        at,
      );
    }
    for (let i = 0; i < EVENTS; i += 2000) await store.importEvents(log.events.slice(i, i + 2000));
  } finally {
    await store.close();
  }
}

/**
 * A raw Socket.IO client (Engine.IO over WebSocket) that keeps every seq and can stop reading.
 * With `resume`, it does what the app does when the server drops it for falling behind (this
 * test's own thread can be too busy to read for a second): reconnects from the last seq it got.
 */
class RawClient {
  readonly seqs: number[] = [];
  live = false;
  closed = false;
  resumes = 0;
  ws!: WebSocket;
  private stopped = false;

  constructor(
    private readonly token: string,
    lastSeq: number,
    private readonly resume = false,
  ) {
    this.open(lastSeq);
  }

  private open(lastSeq: number): void {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    this.ws = ws;
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.resume && !this.live && !this.stopped) {
        this.resumes++;
        this.open(this.seqs.at(-1) ?? lastSeq);
      } else this.closed = true;
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === '2') ws.send('3');
      else if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token: this.token, lastSeq })}`);
      else if (text.startsWith('42["live"')) this.live = true;
      else if (text.startsWith('42["new_signal"')) this.seqs.push(Number(/"seq":(\d+)/.exec(text)?.[1]));
    });
  }

  close(): void {
    this.stopped = true;
    this.ws.terminate();
  }
}

/** Reads an SSE stream from `after` until `event: live`, keeping the ids. */
async function sseReplay(token: string): Promise<number[]> {
  const res = await fetch(`${server.url}/api/stream?after=0`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ids: number[] = [];
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    let cut: number;
    while ((cut = text.indexOf('\n\n')) >= 0) {
      const frame = text.slice(0, cut);
      text = text.slice(cut + 2);
      const id = /^id: (\d+)$/m.exec(frame)?.[1];
      if (id) ids.push(Number(id));
      if (frame.startsWith('event: live')) {
        await reader.cancel();
        return ids;
      }
    }
  }
  return ids;
}

async function exportSeqs(token: string): Promise<number[]> {
  const res = await fetch(`${server.url}/api/export`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const text = await res.text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { seq: number }).seq);
}

/**
 * Polls `/healthz` every 20 ms from a worker thread; resolves once the worker has made its
 * first (warm-up) request, and `stop()` resolves with the slowest answer after that (ms).
 */
async function healthProbe(url: string): Promise<{ stop(): Promise<number> }> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
    let slowest = 0, stopped = false, first = true;
    parentPort.on('message', () => (stopped = true));
    (async () => {
      while (!stopped) {
        const started = performance.now();
        const res = await fetch(workerData + '/healthz');
        await res.text();
        if (res.status !== 200) throw new Error('/healthz answered ' + res.status);
        if (first) parentPort.postMessage('ready');
        else slowest = Math.max(slowest, performance.now() - started);
        first = false;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      parentPort.postMessage(slowest);
    })();`,
    { eval: true, workerData: url },
  );
  await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        worker.once('message', (slowest: number) => void worker.terminate().then(() => resolve(slowest)));
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}

const everySeq = Array.from({ length: EVENTS }, (_, i) => i + 1);

before(async () => {
  await seed();
  await server.start();
  const admin = await setupAdmin(server);
  for (let i = 0; i < 5; i++)
    users.push(await createSubscriber(server.url, admin, `reader-${i}@example.test`, ['fx', 'gold']));
});

after(async () => {
  await server.stop();
  dir.remove();
});

describe('long reads and the event loop', () => {
  test('35 replays and exports at once: /healthz keeps answering and every reader gets the whole log once, in order', async () => {
    // The probe runs on a thread of its own: this thread is busy parsing what the readers get.
    const probe = await healthProbe(server.url);
    const sockets: RawClient[] = [];
    const reads: Array<Promise<number[]>> = [];
    for (const user of users) {
      for (let i = 0; i < 4; i++) reads.push(sseReplay(user.token));
      reads.push(exportSeqs(user.token));
      for (let i = 0; i < 2; i++) sockets.push(new RawClient(user.token, 0, true));
    }
    const results = await Promise.all(reads);
    const deadline = Date.now() + 120_000;
    while (sockets.some((s) => !s.live) && Date.now() < deadline) await sleep(50);
    const slowest = await probe.stop();
    for (const seqs of results) assert.deepEqual(seqs, everySeq);
    for (const socket of sockets) {
      assert.ok(socket.live, `the socket replay finished (${socket.seqs.length} events, ${socket.resumes} resumes)`);
      assert.deepEqual(socket.seqs, everySeq);
      socket.close();
    }
    const resumes = sockets.reduce((n, s) => n + s.resumes, 0);
    console.log(
      `[security] 35 long reads of ${EVENTS} events: slowest /healthz ${slowest.toFixed(0)} ms; sockets resumed ${resumes} times`,
    );
    assert.ok(slowest < 250, `/healthz took ${slowest.toFixed(0)} ms while the log was read`);
  });

  test('a socket that stops reading mid-replay is dropped, and resumes from where it got to', async () => {
    const stuck = new RawClient(users[0]!.token, 0);
    await new Promise((resolve) => stuck.ws.once('open', resolve));
    // Stop reading once the replay has begun: the server's buffer for it stops draining.
    while (stuck.seqs.length === 0) await sleep(5);
    stuck.ws.pause();
    // Paused, it cannot even see the server close: look after longer than the stall timeout.
    await sleep(4000);
    stuck.ws.resume();
    const deadline = Date.now() + 20_000;
    while (!stuck.closed && Date.now() < deadline) await sleep(50);
    assert.ok(stuck.closed, 'the server dropped the client that stopped reading');
    const got = stuck.seqs.filter((seq) => Number.isFinite(seq));
    assert.ok(got.length < EVENTS, 'it had not received everything');
    const resumed = new RawClient(users[0]!.token, got.at(-1)!);
    while (!resumed.live && Date.now() < deadline + 60_000) await sleep(50);
    assert.ok(resumed.live);
    assert.deepEqual([...got, ...resumed.seqs], everySeq);
    resumed.close();
  });
});
