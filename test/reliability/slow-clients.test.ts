/**
 * Slow and greedy clients against a real server process:
 * - clients (Socket.IO and SSE) that stop reading while 5,000 large signals go out are cut off once their
 *   backlog passes the budget, the server's memory stays bounded, a well-behaved subscriber
 *   gets every event in order, and each slow client resumes from its lastSeq with no gap;
 * - a client opening connections in a loop hits a clear per-user limit and frees its slots;
 * - a client flooding events is disconnected while others keep receiving.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import WebSocket from 'ws';
import { LIMITS } from '../../shared/limits.js';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import { readSseUntilLive } from '../helpers/sse.js';
import { connect, type Account, type Subscriber } from '../helpers/server.js';
import {
  createChannels,
  createSubscriber,
  report,
  scaled,
  setupAdmin,
  signalBody,
  sleep,
  failures,
  test,
} from './support.js';

const SIGNALS = scaled(5000);
const SLOW_CLIENTS = 20;
const SLOW_STREAMS = 5;
const NOTES = 'n'.repeat(LIMITS.notesMaxChars);

const dir = tempDir('signal-desk-slow-');
const server = new ServerProcess({ env: { DATABASE_URL: `sqlite:${join(dir.path, 'slow.db')}`, PORT: '0' } });
let admin: Account;
let reader: Account;
let slowUser: Account;
let greedy: Account;
const figures: Record<string, number> = {};

/** The seqs an SSE stream resumed with Last-Event-ID sends before `live`. */
async function resumeSse(token: string, lastEventId: number): Promise<number[]> {
  const { messages } = await readSseUntilLive(`${server.url}/api/stream`, {
    authorization: `Bearer ${token}`,
    'last-event-id': String(lastEventId),
  });
  return messages.filter((m) => m.id !== undefined).map((m) => Number(m.id));
}

function rssBytes(): number {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** A raw Engine.IO/Socket.IO client whose reading can be switched off at the TCP level. */
class RawClient {
  readonly seqs: number[] = [];
  live = false;
  closed = false;
  private readonly ws: WebSocket;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(token: string, lastSeq: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    this.ws.on('error', () => {});
    this.ws.on('close', () => (this.closed = true));
    this.ws.on('message', (data) => {
      const text = data.toString();
      if (text === '2') this.ws.send('3');
      else if (text.startsWith('0')) this.ws.send(`40${JSON.stringify({ token, lastSeq })}`);
      else if (text.startsWith('42["live"')) this.live = true;
      else if (text.startsWith('42["new_signal"') || text.startsWith('42["signal_update"')) {
        const seq = /"seq":(\d+)/.exec(text)?.[1];
        if (seq) this.seqs.push(Number(seq));
      }
    });
  }

  async waitLive(): Promise<void> {
    for (let i = 0; i < 500 && !this.live; i++) await sleep(10);
    assert.ok(this.live, 'raw client never went live');
  }

  /**
   * Stops reading from the socket: the kernel buffers fill, then the server's queue grows.
   * It still writes keep-alives, as a client whose reader is stuck would, so only the
   * backlog budget — not the ping timeout — can end it, however slowly the signals go out.
   */
  stopReading(): void {
    this.ws.pause();
    this.keepAlive = setInterval(() => this.ws.readyState === WebSocket.OPEN && this.ws.send('3'), 5_000);
  }

  /** Reads whatever arrived before the server cut the connection, until it is closed. */
  async drain(timeoutMs = 15_000): Promise<void> {
    clearInterval(this.keepAlive);
    this.ws.resume();
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await sleep(20);
  }

  close(): void {
    clearInterval(this.keepAlive);
    this.ws.terminate();
  }
}

/** An SSE reader (plain HTTP) that can stop reading; collects `id:` lines. */
class SseReader {
  readonly seqs: number[] = [];
  ended = false;
  private response: IncomingMessage | undefined;
  private text = '';
  readonly ready: Promise<void>;

  constructor(token: string) {
    this.ready = new Promise((resolve, reject) => {
      const request = httpGet(
        `${server.url}/api/stream?after=0`,
        { headers: { authorization: `Bearer ${token}` } },
        (res) => {
          this.response = res;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            this.text += chunk;
            if (this.text.includes('event: live')) resolve();
            let cut: number;
            while ((cut = this.text.indexOf('\n\n')) >= 0) {
              const id = /^id: (\d+)$/m.exec(this.text.slice(0, cut))?.[1];
              if (id) this.seqs.push(Number(id));
              this.text = this.text.slice(cut + 2);
            }
          });
          const end = () => (this.ended = true);
          res.on('end', end).on('close', end).on('error', end);
        },
      );
      request.on('error', reject);
    });
  }

  stopReading(): void {
    this.response?.pause();
  }

  async drain(timeoutMs = 15_000): Promise<void> {
    this.response?.resume();
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) await sleep(20);
  }
}

before(async () => {
  await server.start();
  admin = await setupAdmin(server);
  await createChannels(admin, ['fx', 'other']);
  reader = await createSubscriber(server.url, admin, 'reader@example.test', ['fx']);
  slowUser = await createSubscriber(server.url, admin, 'slow@example.test', ['fx']);
  greedy = await createSubscriber(server.url, admin, 'greedy@example.test', ['fx']);
});

after(async () => {
  report('slow-and-greedy-clients', { ...figures, anomalies: failures.count });
  await server.stop();
  dir.remove();
});

describe('slow and greedy clients', () => {
  test(`${SLOW_CLIENTS} clients that never read while ${SIGNALS} large signals go out`, async () => {
    const fast = connect(server, { token: reader.token, lastSeq: 0 });
    await fast.waitLive();
    const slow = Array.from({ length: SLOW_CLIENTS }, () => new RawClient(slowUser.token, 0));
    await Promise.all(slow.map((c) => c.waitLive()));
    for (const client of slow) client.stopReading();
    const streams = Array.from({ length: SLOW_STREAMS }, () => new SseReader(slowUser.token));
    await Promise.all(streams.map((s) => s.ready));
    for (const stream of streams) stream.stopReading();
    const baseline = rssBytes();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes())), 50);

    const published: number[] = [];
    let next = 0;
    const publisher = async () => {
      while (next < SIGNALS) {
        next++;
        const res = await admin.api.post('/api/signals', {
          ...signalBody('fx'),
          notes: NOTES,
          source: 's'.repeat(100),
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        published.push(res.body.seq as number);
      }
    };
    await Promise.all(Array.from({ length: 8 }, publisher));
    published.sort((a, b) => a - b);
    await fast.waitFor((e) => e.length >= SIGNALS, 60_000);
    clearInterval(sampler);

    // The reading subscriber was unaffected: everything, in order, once.
    assert.deepEqual(
      fast.events.map((e) => e.seq),
      published,
    );
    fast.close();

    const cutOff = () =>
      server.logs.filter((l) => l.includes('socket disconnected') && l.includes('"reason":"stopped reading')).length;
    for (let i = 0; i < 100 && cutOff() < SLOW_CLIENTS; i++) await sleep(50);
    const cut = cutOff();
    assert.ok(cut >= SLOW_CLIENTS, `only ${cut} of ${SLOW_CLIENTS} slow clients were disconnected`);
    const growth = peak - baseline;
    const unbounded = (SLOW_CLIENTS + SLOW_STREAMS) * SIGNALS * (NOTES.length + 400);
    // Each slow socket may hold its budget (1 MiB) plus what was in flight; holding the
    // stream for every slow client would need `unbounded` bytes.
    assert.ok(
      growth < Math.min(unbounded / 2, 128 * 2 ** 20),
      `server RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB; holding everything would take ${(unbounded / 2 ** 20).toFixed(0)} MiB`,
    );

    // Each slow client resumes from what it actually got, and ends with the whole stream.
    let resumed = 0;
    for (const client of slow) {
      await client.drain();
      assert.ok(client.closed, 'a slow client was left connected');
      const got = client.seqs;
      assert.deepEqual(got, published.slice(0, got.length), 'what a slow client got is a gap-free prefix');
      const again = connect(server, { token: slowUser.token, lastSeq: got.at(-1) ?? 0 });
      await again.waitLive();
      again.close();
      assert.deepEqual([...got, ...again.events.map((e) => e.seq)], published, 'resume without gap or duplicate');
      resumed++;
    }
    // Slow SSE streams are closed the same way and resume with Last-Event-ID.
    let streamsResumed = 0;
    for (const stream of streams) {
      await stream.drain();
      assert.ok(stream.ended, 'a slow SSE stream was left open');
      const got = stream.seqs;
      assert.ok(got.length < published.length, 'the slow SSE stream was cut before the end');
      assert.deepEqual(got, published.slice(0, got.length), 'what a slow SSE stream got is a gap-free prefix');
      const again = await resumeSse(slowUser.token, got.at(-1) ?? 0);
      assert.deepEqual([...got, ...again], published, 'SSE resume without gap or duplicate');
      streamsResumed++;
    }
    Object.assign(figures, {
      slowSseStreams: SLOW_STREAMS,
      sseResumedWithoutGap: streamsResumed,
      signals: published.length,
      slowClients: SLOW_CLIENTS,
      slowDisconnects: cut,
      resumedWithoutGap: resumed,
      rssGrowthMiB: Number((growth / 2 ** 20).toFixed(1)),
      unboundedWouldBeMiB: Math.round(unbounded / 2 ** 20),
      fastSubscriberEvents: fast.events.length,
    });
  });

  test('a client opening connections in a loop meets a clear per-user limit and frees its slots', async () => {
    const watcher = connect(server, { token: reader.token });
    await watcher.waitLive();
    const held: Subscriber[] = [];
    let refused = 0;
    let refusal = '';
    for (let i = 0; i < LIMITS.socketsPerUserMax + 20; i++) {
      const sub = connect(server, { token: greedy.token });
      try {
        await sub.waitLive();
        held.push(sub);
      } catch (error) {
        refused++;
        refusal = String((error as { data?: { code?: string } }).data?.code ?? (error as Error).message);
        sub.close();
      }
    }
    assert.equal(held.length, LIMITS.socketsPerUserMax, 'exactly the limit was accepted');
    assert.equal(refused, 20);
    assert.equal(refusal, 'too_many_connections');
    // Others are unaffected while the greedy user holds its maximum.
    const signal = await admin.api.post('/api/signals', signalBody('fx'));
    await watcher.waitFor((e) => e.some((x) => x.seq === signal.body.seq));
    for (const sub of held) sub.close();
    // Closed sockets free their slots.
    let freed = false;
    for (let i = 0; i < 100 && !freed; i++) {
      const sub = connect(server, { token: greedy.token });
      try {
        await sub.waitLive();
        freed = true;
      } catch {
        await sleep(50);
      }
      sub.close();
    }
    assert.ok(freed, 'slots were not freed after the sockets closed');

    // Opening and closing in a tight loop, and unauthenticated attempts, leave the server serving.
    const churn = scaled(300);
    for (let i = 0; i < churn; i++) {
      const sub = connect(server, i % 3 === 0 ? {} : { token: greedy.token });
      await new Promise<void>((resolve) => {
        sub.socket.once('connect', () => resolve());
        sub.socket.once('connect_error', () => resolve());
      });
      sub.close();
    }
    const after = await admin.api.post('/api/signals', signalBody('fx'));
    await watcher.waitFor((e) => e.some((x) => x.seq === after.body.seq));
    watcher.close();
    Object.assign(figures, {
      connectionLimit: LIMITS.socketsPerUserMax,
      refusedOverLimit: refused,
      churnConnections: churn,
    });
  });

  test('a client flooding events is disconnected; a well-behaved one keeps receiving', async () => {
    const watcher = connect(server, { token: reader.token });
    await watcher.waitLive();
    const flooder = connect(server, { token: greedy.token });
    await flooder.waitLive();
    const reason = new Promise<string>((resolve) => flooder.socket.once('disconnect', (r) => resolve(r)));
    for (let i = 0; i < 200; i++) flooder.socket.emit('position', { delivered: i });
    assert.equal(await reason, 'io server disconnect');
    const signal = await admin.api.post('/api/signals', signalBody('fx'));
    await watcher.waitFor((e) => e.some((x) => x.seq === signal.body.seq));
    assert.ok(watcher.socket.connected);
    // The log line travels through a pipe; give it a moment.
    const flooded = () => server.logs.some((l) => l.includes('"reason":"flooded events'));
    for (let i = 0; i < 100 && !flooded(); i++) await sleep(50);
    assert.ok(flooded(), 'the server logs why it closed the socket');
    watcher.close();
    figures.floodDisconnects = 1;
  });
});
