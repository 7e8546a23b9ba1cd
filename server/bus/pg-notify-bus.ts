/**
 * The cluster bus: PostgreSQL LISTEN/NOTIFY on one channel. Committed events travel whole
 * when small enough, otherwise as a head hint; a node that missed a notification (or the
 * listening connection dropped) is told to resync, and the hub reads the gap from the log.
 *
 * Guarantees: every message published after a node's `resync` reaches that node once its
 * listening connection is up; while it is down nothing arrives, and the `resync` emitted
 * after each (re)connection tells the node to repair from the database. A listening
 * connection that stops answering (heartbeat) is dropped and replaced.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { resilientPool } from '../store/postgres/resilient-pool.js';
import type { Bus, BusMessage } from './bus.js';

const CHANNEL = 'signal_desk';
/** NOTIFY payloads must stay under 8000 bytes (of UTF-8, not characters). */
const MAX_PAYLOAD_BYTES = 7500;
const HEARTBEAT_MS = 5000;
const MAX_RETRY_MS = 2000;

export interface PgNotifyBusOptions {
  /** How often the listening connection is probed (default 5 s). */
  heartbeatMs?: number;
}

export class PgNotifyBus implements Bus {
  readonly kind = 'postgres';
  private readonly handlers = new Set<(message: BusMessage) => void>();
  private readonly pool: pg.Pool;
  private listener: pg.Client | null = null;
  private closed = false;
  private retryMs = 100;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private ready: Promise<void>;

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
    options: PgNotifyBusOptions = {},
  ) {
    this.pool = resilientPool({
      connectionString,
      max: 2,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      application_name: 'signal-desk-bus',
    });
    this.ready = this.listen();
    this.heartbeat = setInterval(() => void this.probe(), options.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Resolves once the first LISTEN is in place (or failed and a retry is scheduled). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** True while the listening connection is up. */
  get listening(): boolean {
    return this.listener !== null;
  }

  private async listen(): Promise<void> {
    this.retryTimer = undefined;
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: 'signal-desk-listen',
      keepAlive: true,
      connectionTimeoutMillis: 5000,
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'bus: listening connection lost');
      this.drop(client);
    });
    client.on('end', () => this.drop(client));
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      try {
        this.dispatch(JSON.parse(n.payload) as BusMessage);
      } catch (err) {
        this.logger.warn({ err }, 'bus: unreadable notification');
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      this.logger.warn({ err }, 'bus: cannot listen yet; retrying');
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      this.scheduleListen();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
    this.retryMs = 100;
    this.logger.info('bus: listening');
    // Anything may have happened while we were not listening.
    this.dispatch({ kind: 'resync' });
  }

  /** Forgets a failed listening connection and schedules a new one (once per connection). */
  private drop(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = null;
    client.removeAllListeners('end');
    void client.end().catch(() => {});
    this.scheduleListen();
  }

  private scheduleListen(): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => void this.listen(), delay);
    this.retryTimer.unref();
  }

  /** A half-open TCP connection raises no error; a query that fails or hangs reveals it. */
  private async probe(): Promise<void> {
    const client = this.listener;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('heartbeat timed out')), HEARTBEAT_MS);
    });
    try {
      await Promise.race([client.query('SELECT 1'), timeout]);
    } catch (err) {
      this.logger.warn({ err }, 'bus: listening connection failed its heartbeat');
      this.drop(client);
    } finally {
      clearTimeout(timer);
    }
  }

  private dispatch(message: BusMessage): void {
    for (const handler of this.handlers) {
      try {
        handler(message);
      } catch (err) {
        this.logger.error({ err }, 'bus: a handler failed');
      }
    }
  }

  async publish(message: BusMessage): Promise<void> {
    let payload = JSON.stringify(message);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      if (message.kind !== 'events') throw new Error(`bus message of ${Buffer.byteLength(payload)} bytes is too large`);
      // Too big to travel whole: announce the new head, every node reads the events from the log.
      const last = message.events[message.events.length - 1];
      payload = JSON.stringify({ kind: 'head', seq: last?.seq ?? 0 } satisfies BusMessage);
    }
    await this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
  }

  subscribe(handler: (message: BusMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    const listener = this.listener;
    this.listener = null;
    if (listener) {
      listener.removeAllListeners('end');
      await listener.end().catch(() => {});
    }
    await this.pool.end().catch(() => {});
    this.handlers.clear();
  }
}
