/**
 * Chaos resume: 200 Socket.IO subscribers on five channels with different grants receive
 * 5,000 signals and lifecycle events while the test drops random sockets, SIGKILLs and
 * restarts the server on the same file, and freezes the network of half the subscribers
 * (a TCP proxy in this process stops forwarding for a while). Each subscriber resumes
 * with the last seq it received. At the end each one's received list must equal the log
 * filtered by its grants: 0 gaps, 0 duplicates, 0 out of order, 0 foreign events.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, connect as tcpConnect, type Server, type Socket as TcpSocket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { newToken, tokenHash } from '../../server/auth/tokens.js';
import { ChainVerifier } from '../../server/core/hash-chain.js';
import { openSqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import type { StoredEvent } from '../../shared/events.js';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import { random, report, scaled, signalBody, sleep } from './support.js';

const EVENTS = scaled(5000);
const SUBSCRIBERS = 200;
const CHANNELS = ['c1', 'c2', 'c3', 'c4', 'c5'];
const RESTART_EVERY = Math.ceil(EVENTS / 5);
const PAUSE_EVERY = Math.ceil(EVENTS / 7);
const DROP_EVERY = 20;
const NO_PASSWORD = '!chaos-user-without-password';
const FAR_FUTURE = '2999-01-01T00:00:00.000Z';

const dir = tempDir('signal-desk-chaos-');
const file = join(dir.path, 'chaos.db');
const server = new ServerProcess({ env: { DATABASE_URL: `sqlite:${file}`, PORT: '0' } });
const rng = random();

/** A TCP proxy that can stop forwarding in both directions, as a frozen network would. */
class PausableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<TcpSocket>();
  private paused = false;
  port = 0;

  constructor(private readonly upstreamPort: () => number) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  private accept(client: TcpSocket): void {
    const upstream = tcpConnect(this.upstreamPort(), '127.0.0.1');
    const pair = [client, upstream] as const;
    for (const [from, to] of [pair, [upstream, client] as const]) {
      this.sockets.add(from);
      if (this.paused) from.pause();
      from.on('data', (chunk) => {
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => !this.paused && from.resume());
        }
      });
      from.on('error', () => {});
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }

  pause(): void {
    this.paused = true;
    for (const socket of this.sockets) socket.pause();
  }

  resume(): void {
    this.paused = false;
    for (const socket of this.sockets) socket.resume();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Sub {
  channels: Set<string>;
  socket: Socket;
  seqs: number[];
  viaProxy: boolean;
}

let adminToken = '';
const subs: Sub[] = [];
const proxy = new PausableProxy(() => server.port);

before(async () => {
  // Accounts straight into the file: 200 argon2 logins would dominate the run.
  const store = openSqliteStore(file);
  await store.migrate();
  const session = async (userId: string) => {
    const token = newToken();
    await store.createSession({ id: randomUUID(), tokenHash: tokenHash(token), userId, expiresAt: FAR_FUTURE });
    return token;
  };
  const admin = await store.createUser({
    email: 'admin@chaos.test',
    name: null,
    role: 'admin',
    passwordHash: NO_PASSWORD,
  });
  adminToken = await session(admin.id);
  for (const slug of CHANNELS) await store.createChannel({ slug, name: slug, description: null });
  const tokens: Array<{ token: string; channels: string[] }> = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const user = await store.createUser({
      email: `sub${i}@chaos.test`,
      name: null,
      role: 'subscriber',
      passwordHash: NO_PASSWORD,
    });
    // Every non-empty subset of the five channels, round robin: 31 different grant sets.
    const mask = (i % 31) + 1;
    const channels = CHANNELS.filter((_, bit) => mask & (1 << bit));
    for (const channel of channels) await store.grant(user.id, channel);
    tokens.push({ token: await session(user.id), channels });
  }
  await store.close();
  await server.start();
  await proxy.listen();

  for (const [i, { token, channels }] of tokens.entries()) {
    const viaProxy = i % 2 === 0;
    const sub: Sub = { channels: new Set(channels), seqs: [], viaProxy, socket: undefined as never };
    sub.socket = io(`http://127.0.0.1:${viaProxy ? proxy.port : server.port}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 1000,
      timeout: 5000,
      // Read at every (re)connect: resume after the last seq received.
      auth: (cb) => cb({ token, lastSeq: sub.seqs.at(-1) ?? 0 }),
    });
    const record = (event: { seq: number }) => sub.seqs.push(event.seq);
    sub.socket.on('new_signal', record);
    sub.socket.on('signal_update', record);
    subs.push(sub);
  }
  await Promise.all(subs.map((s) => new Promise((resolve) => s.socket.once('live', resolve))));
});

after(async () => {
  for (const sub of subs) sub.socket.close();
  await proxy.close();
  await server.stop();
  dir.remove();
});

test(`chaos resume: ${SUBSCRIBERS} subscribers, ${EVENTS} events, drops, restarts and network pauses`, async () => {
  const faults = { socketDrops: 0, serverRestarts: 0, networkPauses: 0 };
  let acked = 0;
  let conflicts = 0;
  const signals: Array<{ id: string; tp: boolean }> = [];
  let restarting: Promise<void> | null = null;

  /** POST with retries across crashes; the idempotency key makes a retry safe. */
  const post = async (path: string, body: Record<string, unknown>): Promise<{ status: number; body: any }> => {
    for (let attempt = 0; ; attempt++) {
      try {
        if (restarting) await restarting;
        const res = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const parsed = (await res.json()) as unknown;
        if (res.status === 201 || res.status === 409) return { status: res.status, body: parsed };
        throw new Error(`${res.status} ${JSON.stringify(parsed)}`);
      } catch (error) {
        if (attempt > 200) throw error;
        await sleep(50);
      }
    }
  };

  const publisher = async () => {
    while (acked < EVENTS) {
      const key = randomUUID();
      const target = signals.length > 0 && rng.next() < 0.4 ? rng.pick(signals) : null;
      if (!target) {
        const res = await post('/api/signals', { ...signalBody(rng.pick(CHANNELS)), idempotencyKey: key });
        signals.push({ id: res.body.id as string, tp: false });
      } else {
        const tp = !target.tp && rng.next() < 0.3;
        target.tp ||= tp;
        const body = tp ? { type: 'tp_hit', level: 1 } : { type: 'note', notes: `update ${key}` };
        const res = await post(`/api/signals/${target.id}/updates`, { ...body, idempotencyKey: key });
        if (res.status === 409) {
          conflicts++;
          continue;
        }
      }
      acked++;
      if (acked % RESTART_EVERY === 0 && acked < EVENTS) {
        if (!restarting) faults.serverRestarts++;
        restarting ??= (async () => {
          await server.kill('SIGKILL');
          await sleep(rng.int(0, 500));
          await server.start();
          restarting = null;
        })();
      }
      if (acked % DROP_EVERY === 0) {
        for (let i = rng.int(1, 4); i > 0; i--) {
          // A client-side transport drop, as a flaky mobile network would cause; it reconnects on its own.
          rng.pick(subs).socket.io.engine?.close();
          faults.socketDrops++;
        }
      }
      if (acked % PAUSE_EVERY === 0) {
        faults.networkPauses++;
        proxy.pause();
        setTimeout(() => proxy.resume(), rng.int(1000, 3000));
      }
    }
  };

  await Promise.all(Array.from({ length: 8 }, publisher));
  if (restarting) await restarting;
  proxy.resume();

  // The whole log, checked, then each subscriber's expected view of it.
  const log: StoredEvent[] = [];
  for (;;) {
    const res = await fetch(`${server.url}/api/events?after=${log.at(-1)?.seq ?? 0}&limit=1000`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const page = ((await res.json()) as { events: StoredEvent[] }).events;
    log.push(...page);
    if (page.length < 1000) break;
  }
  const verifier = new ChainVerifier(true);
  const chainProblems = log.map((e) => verifier.check(e)).filter(Boolean);
  const channelOf = new Map(log.map((e) => [e.seq, e.channel]));

  const expectedOf = (sub: Sub) => log.filter((e) => sub.channels.has(e.channel)).map((e) => e.seq);
  const deadline = Date.now() + 90_000;
  for (const sub of subs) {
    const last = expectedOf(sub).at(-1);
    while ((sub.seqs.at(-1) ?? 0) < (last ?? 0) && Date.now() < deadline) await sleep(50);
  }

  const totals = { gaps: 0, duplicates: 0, outOfOrder: 0, foreign: 0, mismatched: 0, eventsChecked: 0 };
  for (const sub of subs) {
    const expected = expectedOf(sub);
    const got = sub.seqs;
    totals.eventsChecked += got.length;
    const seen = new Set<number>();
    for (let i = 0; i < got.length; i++) {
      const seq = got[i]!;
      if (seen.has(seq)) totals.duplicates++;
      seen.add(seq);
      if (i > 0 && seq <= got[i - 1]!) totals.outOfOrder++;
      if (!sub.channels.has(channelOf.get(seq) ?? '')) totals.foreign++;
    }
    totals.gaps += expected.filter((seq) => !seen.has(seq)).length;
    if (JSON.stringify(got) !== JSON.stringify(expected)) totals.mismatched++;
  }

  report('chaos-resume', {
    subscribers: SUBSCRIBERS,
    logEvents: log.length,
    acknowledged: acked,
    conflictsRefused: conflicts,
    ...faults,
    proxiedSubscribers: subs.filter((s) => s.viaProxy).length,
    ...totals,
    chainProblems: chainProblems.length,
    lost: totals.gaps,
    anomalies:
      totals.gaps + totals.duplicates + totals.outOfOrder + totals.foreign + totals.mismatched + chainProblems.length,
    seed: rng.seed,
  });
  assert.equal(log.length, acked, 'the log holds exactly the acknowledged events');
  assert.deepEqual(chainProblems, []);
  assert.ok(faults.serverRestarts >= 3 && faults.networkPauses >= 3 && faults.socketDrops >= 10, 'faults injected');
  assert.deepEqual(
    {
      gaps: totals.gaps,
      duplicates: totals.duplicates,
      outOfOrder: totals.outOfOrder,
      foreign: totals.foreign,
      mismatched: totals.mismatched,
    },
    { gaps: 0, duplicates: 0, outOfOrder: 0, foreign: 0, mismatched: 0 },
  );
});
