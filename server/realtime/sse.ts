/**
 * Server-Sent Events at /api/stream: the same log, the same entitlement filter and the
 * same replay-then-live hand-over as the socket, as `id: <seq>` frames, so a browser's
 * EventSource resumes with Last-Event-ID on its own.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { toWire, wireEventName, type StoredEvent } from '../../shared/events.js';
import { disconnects, type BusMessage } from '../bus/bus.js';
import { AppError } from '../core/errors.js';
import { replayFailure, type LiveSink } from '../core/hub.js';
import { LIMITS } from '../../shared/limits.js';
import { waitForDrain } from './backpressure.js';
import { isAdmin, type Actor } from '../core/policy.js';
import type { Runtime } from '../runtime.js';

interface SseConnection {
  actor: Actor;
  channels: Set<string>;
  res: ServerResponse;
  closed: boolean;
}

const HEARTBEAT_MS = 15_000;
/** How often streams are checked for a session that ended by its own expiry. */
const EXPIRY_CHECK_MS = 1000;
/** Bytes one stream may have unsent before it is closed (the client resumes with Last-Event-ID). */
const BUDGET_BYTES = 1024 * 1024;

export interface SseOptions {
  /** A replaying stream whose client reads nothing for this long is closed (default 30 s). */
  stallMs?: number;
}

export function sseFrame(event: StoredEvent): string {
  return `id: ${event.seq}\nevent: ${wireEventName(event)}\ndata: ${JSON.stringify(toWire(event))}\n\n`;
}

export class SseGateway implements LiveSink {
  /** Streams receiving live events. */
  private readonly live = new Set<SseConnection>();
  /** Every open stream, live or still replaying, by user: access changes apply to all of them. */
  private readonly streams = new Map<string, Set<SseConnection>>();
  private readonly removeSink: () => void;
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly expiry: NodeJS.Timeout;
  private readonly stallMs: number;

  constructor(
    private readonly runtime: Runtime,
    private readonly logger: Logger,
    options: SseOptions = {},
  ) {
    this.stallMs = options.stallMs ?? 30_000;
    this.removeSink = runtime.hub.addSink(this);
    this.unsubscribe = runtime.bus.subscribe((message) => this.onBus(message));
    this.heartbeat = setInterval(() => {
      for (const conn of this.live) conn.res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    this.expiry = setInterval(() => {
      const now = Date.now();
      for (const conn of this.all()) if (conn.actor.sessionExpiresAt <= now) this.end(conn);
    }, EXPIRY_CHECK_MS);
    this.expiry.unref();
  }

  /** Every open stream on this node. */
  private *all(): Iterable<SseConnection> {
    for (const conns of this.streams.values()) yield* conns;
  }

  private ofUser(userId: string): ReadonlySet<SseConnection> {
    return this.streams.get(userId) ?? new Set();
  }

  private forget(conn: SseConnection): void {
    this.live.delete(conn);
    const conns = this.streams.get(conn.actor.user.id);
    conns?.delete(conn);
    if (conns?.size === 0) this.streams.delete(conn.actor.user.id);
  }

  async open(actor: Actor, request: FastifyRequest, reply: FastifyReply, after: number | undefined): Promise<void> {
    if (this.ofUser(actor.user.id).size >= LIMITS.streamsPerUserMax) {
      this.runtime.metrics.refusals.inc({ limit: 'streams_per_user' });
      throw new AppError(429, 'too_many_connections', `at most ${LIMITS.streamsPerUserMax} event streams per user`);
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    res.write('retry: 2000\n\n');
    const conn: SseConnection = { actor, channels: new Set(actor.channels), res, closed: false };
    const admin = isAdmin(actor);
    const conns = this.streams.get(actor.user.id);
    if (conns) conns.add(conn);
    else this.streams.set(actor.user.id, new Set([conn]));
    request.raw.on('close', () => {
      conn.closed = true;
      this.forget(conn);
    });
    try {
      await this.runtime.hub.replayThenLive({
        after: after ?? this.runtime.hub.headSeq,
        owner: actor.user.id,
        scope: () => (admin ? 'all' : [...conn.channels]),
        canSee: (channel) => admin || conn.channels.has(channel),
        // Written at once; the wait that follows holds no event (see Hub.replayPage).
        sendReplay: (events) => {
          this.runtime.metrics.deliveries.sse += events.length;
          if (res.write(events.map(sseFrame).join('')) || conn.closed) return Promise.resolve();
          return waitForDrain(res, this.stallMs).then(() => undefined);
        },
        goLive: (pending, headSeq) => {
          this.runtime.metrics.deliveries.sse += pending.length;
          if (pending.length > 0) res.write(pending.map(sseFrame).join(''));
          res.write(`event: live\ndata: ${JSON.stringify({ headSeq })}\n\n`);
          this.live.add(conn);
        },
        isClosed: () => conn.closed,
      });
      this.runtime.metrics.replays.inc({ outcome: this.live.has(conn) ? 'live' : 'closed' });
    } catch (error) {
      const outcome = replayFailure(error);
      this.runtime.metrics.replays.inc({ outcome });
      if (outcome === 'failed') this.logger.warn({ err: error }, 'sse replay failed; closing the stream');
      else this.logger.info({ userId: actor.user.id, reason: outcome }, 'sse stream closed during its replay');
      res.destroy();
    }
  }

  deliver(event: StoredEvent): void {
    if (this.live.size === 0) return;
    let frame: string | undefined;
    let sent = 0;
    for (const conn of this.live) {
      if (!isAdmin(conn.actor) && !conn.channels.has(event.channel)) continue;
      frame ??= sseFrame(event);
      conn.res.write(frame);
      sent++;
      if (conn.res.writableLength > BUDGET_BYTES) {
        this.live.delete(conn);
        conn.res.destroy();
      }
    }
    this.runtime.metrics.deliveries.sse += sent;
  }

  private onBus(message: BusMessage): void {
    if (message.kind === 'access' && message.change === 'revoked') {
      for (const conn of this.ofUser(message.userId)) conn.channels.delete(message.channel);
    } else if (message.kind === 'access' && message.change === 'granted') {
      for (const conn of this.ofUser(message.userId)) conn.channels.add(message.channel);
    } else if (message.kind === 'disconnect') {
      for (const conn of [...this.all()]) {
        if (disconnects(message, { userId: conn.actor.user.id, sessionId: conn.actor.sessionId })) this.end(conn);
      }
    } else if (message.kind === 'resync') {
      void this.resync();
    }
  }

  /**
   * Access may have changed with no message for it (the CLI on SQLite, a lost notification):
   * re-read it once per user and apply it — the same check as the socket gateway's.
   */
  private async resync(): Promise<void> {
    for (const userId of [...this.streams.keys()]) {
      try {
        const access = await this.runtime.accounts.currentAccess(userId);
        for (const conn of [...this.ofUser(userId)]) {
          if (conn.closed) continue;
          if (!access?.sessionIds.has(conn.actor.sessionId)) {
            this.end(conn);
            continue;
          }
          for (const channel of [...conn.channels]) if (!access.channels.has(channel)) conn.channels.delete(channel);
          for (const channel of access.channels) conn.channels.add(channel);
        }
      } catch (error) {
        this.logger.warn({ err: error, userId }, 'sse: resync failed; will retry on the next one');
      }
    }
  }

  /** Ends a stream for good (logout, revoked or expired session): the client must sign in again. */
  private end(conn: SseConnection): void {
    conn.closed = true;
    this.forget(conn);
    conn.res.end();
  }

  /** Open event streams on this node. */
  get streamCount(): number {
    let n = 0;
    for (const conns of this.streams.values()) n += conns.size;
    return n;
  }

  close(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.expiry);
    this.removeSink();
    this.unsubscribe();
    for (const conn of this.all()) conn.res.end();
    this.live.clear();
    this.streams.clear();
  }
}
