/**
 * A real signal-desk server on a real database, listening on a free port, and role
 * factories to act as an admin or a subscriber against it.
 */
import { io as ioClient, type Socket } from 'socket.io-client';
import { buildApp, type BuiltApp } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime, type Runtime } from '../../server/runtime.js';
import type { StoredEvent } from '../../shared/events.js';
import type { SignalInput } from '../../shared/schemas.js';
import { sqliteDatabase, type TestDatabase } from './databases.js';

export interface TestServer {
  url: string;
  port: number;
  runtime: Runtime;
  built: BuiltApp;
  database: TestDatabase;
  close(): Promise<void>;
}

export async function startServer(
  options: {
    database?: TestDatabase;
    env?: Record<string, string>;
    socketBudgetBytes?: number;
    /** Folder of the built web app to serve (default: none). */
    webRoot?: string | null;
  } = {},
): Promise<TestServer> {
  const database = options.database ?? sqliteDatabase();
  const config = loadConfig({ DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', ...options.env });
  const logger = createLogger(process.env.LOG_LEVEL ?? 'silent');
  const runtime = await createRuntime(config, logger);
  const built = await buildApp(runtime, {
    logger,
    webRoot: options.webRoot ?? null,
    socketBudgetBytes: options.socketBudgetBytes,
  });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const address = built.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    runtime,
    built,
    database,
    async close() {
      await built.app.close();
      await runtime.close();
      if (!options.database) await database.drop();
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A JSON API client bound to one server and (optionally) one bearer token. */
export class Api {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {});
  }
}

export interface Account {
  api: Api;
  token: string;
  user: { id: string; email: string; role: string };
}

let counter = 0;
const uniqueEmail = (role: string) => `${role}-${process.pid}-${++counter}-${Date.now().toString(36)}@example.test`;
export const PASSWORD = 'correct horse battery';

/** The first admin, through the one-time setup endpoint (or a login when it already ran). */
export async function buildAdmin(server: TestServer): Promise<Account> {
  const anon = new Api(server.url);
  const setup = await anon.get('/api/setup');
  if (setup.body.needed) {
    const res = await anon.post('/api/setup', {
      email: 'admin@example.test',
      password: PASSWORD,
      name: 'Admin',
      setupCode: await server.runtime.accounts.setupCode(),
    });
    if (res.status !== 201) throw new Error(`setup failed: ${JSON.stringify(res.body)}`);
    return { api: new Api(server.url, res.body.token), token: res.body.token, user: res.body.user };
  }
  return login(server, 'admin@example.test');
}

export async function login(server: TestServer, email: string, password = PASSWORD): Promise<Account> {
  const res = await new Api(server.url).post('/api/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`login failed for ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return { api: new Api(server.url, res.body.token), token: res.body.token, user: res.body.user };
}

export async function buildChannel(admin: Account, slug: string, name = slug): Promise<void> {
  const res = await admin.api.post('/api/channels', { slug, name });
  if (res.status !== 201 && res.status !== 409) throw new Error(`channel ${slug}: ${JSON.stringify(res.body)}`);
}

export async function buildSubscriber(
  server: TestServer,
  admin: Account,
  options: { channels?: string[]; email?: string } = {},
): Promise<Account> {
  const email = options.email ?? uniqueEmail('subscriber');
  const res = await admin.api.post('/api/users', {
    email,
    password: PASSWORD,
    role: 'subscriber',
    channels: options.channels ?? [],
  });
  if (res.status !== 201) throw new Error(`create subscriber: ${JSON.stringify(res.body)}`);
  return login(server, email);
}

let symbolCounter = 0;
/** A valid signal body; override any field. */
export function signalBody(channel: string, overrides: Partial<SignalInput> = {}): SignalInput {
  symbolCounter++;
  return {
    channel,
    symbol: `SYM${symbolCounter % 1000}`,
    market: 'crypto',
    side: 'buy',
    entry: 100,
    stopLoss: 95,
    takeProfits: [105, 110, 120],
    ...overrides,
  };
}

export async function publish(admin: Account, channel: string, overrides: Partial<SignalInput> = {}) {
  const res = await admin.api.post('/api/signals', signalBody(channel, overrides));
  if (res.status !== 201) throw new Error(`publish failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; seq: number; hash: string; channel: string };
}

/** A Socket.IO client that records every log event it receives, in arrival order. */
export interface Subscriber {
  socket: Socket;
  events: StoredEvent[];
  lastSeq(): number;
  waitFor(predicate: (events: StoredEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  waitLive(): Promise<void>;
  close(): void;
}

/** 'connected', or the connect_error message; the socket is closed either way. */
export function handshakeOutcome(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.once('connect_error', (error) => {
      socket.close();
      resolve(error.message);
    });
  });
}

export function connect(
  server: { url: string },
  auth: { token?: string; lastSeq?: number },
  options: { reconnection?: boolean; extraHeaders?: Record<string, string> } = {},
): Subscriber {
  const socket = ioClient(server.url, {
    auth,
    transports: ['websocket'],
    reconnection: options.reconnection ?? false,
    forceNew: true,
    extraHeaders: options.extraHeaders,
  });
  const events: StoredEvent[] = [];
  let live = false;
  const onEvent = (e: StoredEvent) => events.push(e);
  socket.on('new_signal', onEvent);
  socket.on('signal_update', onEvent);
  socket.on('live', () => (live = true));
  socket.on('disconnect', () => (live = false));
  const waitFor = (predicate: (events: StoredEvent[]) => boolean, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const tick = () => {
        if (predicate(events)) return resolve();
        if (Date.now() - started > timeoutMs) {
          return reject(
            new Error(
              `timed out after ${timeoutMs} ms with ${events.length} events (last seq ${events.at(-1)?.seq ?? 0})`,
            ),
          );
        }
        setTimeout(tick, 10);
      };
      tick();
    });
  return {
    socket,
    events,
    lastSeq: () => events.at(-1)?.seq ?? auth.lastSeq ?? 0,
    waitFor,
    waitLive: () =>
      new Promise<void>((resolve, reject) => {
        if (live) return resolve();
        const timer = setTimeout(() => reject(new Error('never went live')), 10_000);
        socket.once('live', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('connect_error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      }),
    close: () => socket.close(),
  };
}

/** Asserts-friendly view: seqs in arrival order. */
export const seqs = (events: readonly StoredEvent[]) => events.map((e) => e.seq);
