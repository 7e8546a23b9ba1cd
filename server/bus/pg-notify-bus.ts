/**
 * The cluster bus: PostgreSQL LISTEN/NOTIFY on one channel. Committed events travel whole
 * when small enough, otherwise as a head hint; a node that missed a notification (or the
 * listening connection dropped) is told to resync, and the hub reads the gap from the log.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Bus, BusMessage } from './bus.js';

const CHANNEL = 'signal_desk';
/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7500;

export class PgNotifyBus implements Bus {
  readonly kind = 'postgres';
  private readonly handlers = new Set<(message: BusMessage) => void>();
  private readonly pool: pg.Pool;
  private listener: pg.Client | null = null;
  private closed = false;
  private retryMs = 250;
  private ready: Promise<void>;

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {
    this.pool = new pg.Pool({
      connectionString,
      max: 2,
      connectionTimeoutMillis: 5000,
      application_name: 'signal-desk-bus',
    });
    this.pool.on('error', () => {});
    this.ready = this.listen();
  }

  /** Resolves once the first LISTEN is in place (or failed and a retry is scheduled). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.connectionString, application_name: 'signal-desk-listen' });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'bus: listening connection lost');
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
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
      this.listener = client;
      this.retryMs = 250;
      // Anything may have happened while we were not listening.
      this.dispatch({ kind: 'resync' });
    } catch (err) {
      this.logger.warn({ err }, 'bus: cannot listen yet; retrying');
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      this.reconnect(null);
    }
  }

  private reconnect(client: pg.Client | null): void {
    if (client && this.listener !== client) return;
    this.listener = null;
    if (this.closed) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 5000);
    setTimeout(() => void this.listen(), delay).unref();
  }

  private dispatch(message: BusMessage): void {
    for (const handler of this.handlers) handler(message);
  }

  async publish(message: BusMessage): Promise<void> {
    let payload = JSON.stringify(message);
    if (payload.length > MAX_PAYLOAD) {
      if (message.kind !== 'events') throw new Error(`bus message of ${payload.length} bytes is too large`);
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
