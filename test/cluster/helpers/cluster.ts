/**
 * A signal-desk cluster for tests: N real server processes on one fresh PostgreSQL
 * database, subscribers that fail over between nodes and resume from their last seq, and a
 * direct view of the log to compare what every subscriber received against.
 */
import assert from 'node:assert/strict';
import { io as ioClient, type Socket } from 'socket.io-client';
import { openPostgresStore, type PostgresStore } from '../../../server/store/postgres/postgres-store.js';
import type { StoredEvent } from '../../../shared/events.js';
import { postgresDatabase, type TestDatabase } from '../../helpers/databases.js';
import { startServerProcess, type ServerProcess } from '../../helpers/process.js';
import { Api, PASSWORD, signalBody, type Account } from '../../helpers/server.js';
import type { SignalInput } from '../../../shared/schemas.js';

/** Makes idempotency keys unique per run (and long enough for the schema). */
const RUN = `run${process.pid}${Date.now().toString(36)}`;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Cluster {
  database: TestDatabase;
  nodes: ServerProcess[];
  /** The log as the database holds it (not as any node sees it). */
  store: PostgresStore;
  admin: Account;
  close(): Promise<void>;
}

/** Starts `size` nodes at once on a fresh database (they race to migrate), then the first admin. */
export async function startCluster(size: number, env: Record<string, string> = {}): Promise<Cluster> {
  const database = await postgresDatabase();
  const nodes = await Promise.all(
    Array.from({ length: size }, () => startServerProcess({ env: { DATABASE_URL: database.url, PORT: '0', ...env } })),
  );
  const store = openPostgresStore(database.url);
  const setup = await new Api(nodes[0]!.url).post('/api/setup', {
    email: 'admin@example.test',
    password: PASSWORD,
    name: 'Admin',
    setupCode: nodes[1]?.setupCode() ?? nodes[0]!.setupCode(),
  });
  if (setup.status !== 201) throw new Error(`setup: ${setup.status} ${JSON.stringify(setup.body)}`);
  const admin = { api: new Api(nodes[0]!.url, setup.body.token), token: setup.body.token, user: setup.body.user };
  return {
    database,
    nodes,
    store,
    admin,
    async close() {
      await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
      await store.close().catch(() => {});
      await database.drop().catch(() => {});
    },
  };
}

/** The same account, speaking to another node. */
export const via = (account: Account, url: string): Account => ({ ...account, api: new Api(url, account.token) });

export async function createChannels(admin: Account, slugs: readonly string[]): Promise<void> {
  for (const slug of slugs) {
    const res = await admin.api.post('/api/channels', { slug, name: slug });
    if (res.status !== 201) throw new Error(`channel ${slug}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

let emails = 0;
export async function createSubscriber(
  admin: Account,
  channels: readonly string[],
  loginUrl: string,
): Promise<Account & { channels: readonly string[] }> {
  const email = `sub-${++emails}-${Date.now().toString(36)}@example.test`;
  const res = await admin.api.post('/api/users', { email, password: PASSWORD, role: 'subscriber', channels });
  if (res.status !== 201) throw new Error(`create ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  const login = await new Api(loginUrl).post('/api/auth/login', { email, password: PASSWORD });
  if (login.status !== 200) throw new Error(`login ${email}: ${login.status}`);
  return { api: new Api(loginUrl, login.body.token), token: login.body.token, user: login.body.user, channels };
}

/** The whole log, read from the database. */
export async function readLog(store: PostgresStore): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (;;) {
    const page = await store.readEvents({ after: out.at(-1)?.seq ?? 0, limit: 1000, channels: 'all' });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

/** What a subscriber entitled to `channels` must have received: the log, filtered. */
const entitledPart = (log: readonly StoredEvent[], channels: readonly string[] | 'all') =>
  log.filter((e) => channels === 'all' || channels.includes(e.channel)).map((e) => `${e.seq}:${e.id}`);

const received = (events: readonly StoredEvent[]) => events.map((e) => `${e.seq}:${e.id}`);

/** One publish attempt and what the node answered. */
export interface Attempt {
  key: string;
  node: string;
  body: SignalInput;
  /** 0 when the request itself failed (connection refused or reset). */
  status: number;
  code?: string;
  seq?: number;
  id?: string;
}

/** Sends `body` to `url` as a publish and records the answer. */
export async function postSignal(admin: Account, url: string, body: SignalInput): Promise<Attempt> {
  const key = body.idempotencyKey ?? '';
  try {
    const res = await new Api(url, admin.token).post('/api/signals', body);
    return {
      key,
      node: url,
      body,
      status: res.status,
      code: res.body?.error?.code,
      seq: res.status === 201 ? res.body.seq : undefined,
      id: res.status === 201 ? res.body.id : undefined,
    };
  } catch {
    return { key, node: url, body, status: 0 };
  }
}

/**
 * Publishes through `url` with an idempotency key (also written into `notes`, so the log
 * shows which attempt an event came from). Repeat `attempt.body` to retry it.
 */
export function attemptPublish(
  admin: Account,
  url: string,
  channel: string,
  name: string,
  overrides: Partial<SignalInput> = {},
): Promise<Attempt> {
  const key = `${RUN}-${name}`;
  return postSignal(admin, url, signalBody(channel, { notes: key, idempotencyKey: key, ...overrides }));
}

/**
 * A subscriber that stays connected to the cluster: when its node dies or refuses it, it
 * reconnects to the next node with `lastSeq` = the last seq it holds, as the web app does.
 * It records every event and any duplicate or out-of-order arrival.
 */
const open = new Set<FailoverSubscriber>();

/** Closes every FailoverSubscriber still open (call from `after`). */
export function closeAllSubscribers(): void {
  for (const s of open) s.close();
}

export class FailoverSubscriber {
  readonly events: StoredEvent[] = [];
  readonly problems: string[] = [];
  readonly entitlementChanges: Array<{ at: number; revoked: string[]; granted: string[] }> = [];
  connections = 0;
  disconnectedAt = 0;
  /** URL of the node currently serving this subscriber. */
  node = '';
  private socket: Socket | null = null;
  private closed = false;
  private index: number;

  constructor(
    private readonly urls: () => readonly string[],
    private readonly token: string,
    startAt = 0,
    private readonly options: { transports?: ('websocket' | 'polling')[]; lastSeq?: number } = {},
  ) {
    this.index = startAt;
    open.add(this);
    this.connect();
  }

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? this.options.lastSeq ?? 0;
  }

  private connect(): void {
    if (this.closed) return;
    const urls = this.urls();
    const url = urls[this.index % urls.length]!;
    this.node = url;
    const socket = ioClient(url, {
      auth: { token: this.token, lastSeq: this.lastSeq },
      transports: this.options.transports ?? ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 3000,
    });
    this.socket = socket;
    const onEvent = (event: StoredEvent) => {
      if (event.seq <= this.lastSeq) this.problems.push(`seq ${event.seq} arrived after ${this.lastSeq}`);
      else this.events.push(event);
    };
    socket.on('new_signal', onEvent);
    socket.on('signal_update', onEvent);
    socket.on('connect', () => this.connections++);
    socket.on('entitlements', (info) =>
      this.entitlementChanges.push({ at: Date.now(), revoked: info.revoked, granted: info.granted }),
    );
    const retry = () => {
      if (this.socket !== socket) return;
      this.disconnectedAt = Date.now();
      socket.removeAllListeners();
      socket.close();
      this.socket = null;
      this.index++;
      setTimeout(() => this.connect(), 100);
    };
    socket.on('disconnect', retry);
    socket.on('connect_error', retry);
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const tick = () => {
        if (predicate()) return resolve();
        if (Date.now() - started > timeoutMs) {
          return reject(new Error(`timed out waiting for ${what}: ${this.events.length} events, last ${this.lastSeq}`));
        }
        setTimeout(tick, 20);
      };
      tick();
    });
  }

  close(): void {
    open.delete(this);
    this.closed = true;
    this.socket?.removeAllListeners();
    this.socket?.close();
    this.socket = null;
  }
}

export interface ClusterSubscriber {
  client: FailoverSubscriber;
  channels: readonly string[] | 'all';
}

/** A subscriber per entitlement mix on every node (and the admin, seeing all, with `withAdmin`), all connected. */
export async function subscribeEverywhere(
  cluster: Cluster,
  urls: () => string[],
  entitlements: ReadonlyArray<readonly string[]>,
  options: { withAdmin?: boolean } = {},
): Promise<ClusterSubscriber[]> {
  const subs: ClusterSubscriber[] = [];
  for (const [i, node] of cluster.nodes.entries()) {
    for (const channels of entitlements) {
      const account = await createSubscriber(cluster.admin, channels, node.url);
      subs.push({ client: new FailoverSubscriber(urls, account.token, i), channels });
    }
    if (options.withAdmin) subs.push({ client: new FailoverSubscriber(urls, cluster.admin.token, i), channels: 'all' });
  }
  await Promise.all(subs.map((s) => s.client.waitFor(() => s.client.connected, 'connected')));
  return subs;
}

/** Every subscriber ends with exactly its part of `log`: nothing missing, nothing twice, in order. */
export async function expectEachHasItsPart(
  subs: readonly ClusterSubscriber[],
  log: readonly StoredEvent[],
  timeoutMs?: number,
): Promise<void> {
  await Promise.all(
    subs.map(({ client, channels }) => {
      const want = entitledPart(log, channels);
      return client.waitFor(
        () => client.events.length >= want.length,
        `${want.length} events on ${client.node}`,
        timeoutMs,
      );
    }),
  );
  await sleep(300); // anything extra (a duplicate) would arrive now
  for (const { client, channels } of subs) {
    assert.deepEqual(client.problems, []);
    assert.deepEqual(received(client.events), entitledPart(log, channels), `subscriber of ${String(channels)}`);
  }
}
