/**
 * Socket.IO at /socket.io. A connection authenticates in the handshake (token or session
 * cookie), replays the log after its `lastSeq`, then joins the audience of each channel it
 * is entitled to (admins: one audience for all). Live events go out through `LiveFanout`:
 * each is encoded once into a complete WebSocket frame, and every member of its audiences
 * gets one write of the frames it may see — no per-socket encoding, callback or engine
 * queue on that path (see `DirectWriter`). Control messages from the bus (revoke,
 * logout, disable) act on this node's sockets; a sweep disconnects clients that stop
 * reading before their backlog grows past a budget — they resume from `lastSeq`.
 */
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import {
  toWire,
  wireEventName,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type StoredEvent,
} from '../../shared/events.js';
import { LIMITS } from '../../shared/limits.js';
import { SESSION_COOKIE } from '../auth/tokens.js';
import { disconnects, type BusMessage } from '../bus/bus.js';
import { AppError } from '../core/errors.js';
import { replayFailure, type LiveSink } from '../core/hub.js';
import { isAdmin } from '../core/policy.js';
import type { Runtime } from '../runtime.js';
import { isDatabaseUnavailable } from '../store/unavailable.js';
import { originAllowed } from '../http/origin.js';
import { DirectWriter } from './direct-writer.js';
import { FrameCache, type Frame } from './frame-cache.js';
import { releaseHandshake, releaseUpgradeRequests } from './handshake-release.js';
import { LiveFanout, type FanoutMember } from './live-fanout.js';

/**
 * What a connection keeps of its authentication: who it is, not the whole user record.
 * `channels` is its own copy of the grants, kept current by access messages.
 */
interface SocketData {
  userId: string;
  sessionId: string;
  /** Epoch ms the session ends; the sweep closes the socket then. */
  expiresAt: number;
  /** Highest seq written to this socket: a position report beyond it is not believed. */
  sentThrough: number;
  admin: boolean;
  channels: Set<string>;
  writer: DirectWriter;
  /** Set once the socket is live: its place in the audiences. */
  member?: Member;
  /** Incoming packets in the current one-second window (flood guard). */
  inbound: { windowStart: number; count: number };
  /** Why the server closed it, when it did (for the log line of the disconnect). */
  closeReason?: string;
}

/**
 * A live socket in the audiences the fan-out walks: `channels` is the socket's own set
 * (null for an admin), and `sentThrough` starts at the head seq it went live at — it was
 * sent everything up to there during the hand-over.
 */
interface Member extends FanoutMember {
  readonly socket: IoSocket;
  readonly writer: DirectWriter;
}

type IoServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface GatewayOptions {
  allowedOrigins: readonly string[];
  /** Outgoing bytes a socket may have queued before it is disconnected (default 1 MiB). */
  budgetBytes?: number | undefined;
  /** A replaying socket whose client reads nothing for this long is disconnected (default 30 s). */
  stallMs?: number | undefined;
  logger: Logger;
}

const INBOUND_PER_SECOND = 20;
const TOO_MANY = 'too_many_connections';
/**
 * How often every socket's backlog is checked. A direct write checks its own socket at once;
 * the sweep catches backlogs that grew in Socket.IO's queue.
 */
const SWEEP_MS = 1000;
/** Replayed frames are written in chunks of about this size. */
const REPLAY_WRITE_BYTES = 64 * 1024;
/** Why a socket whose replay ended badly is closed, by how it ended. */
const REPLAY_CLOSE_REASONS = {
  busy: 'too many replays waiting on this node; the client retries',
  overflow: 'too many live events arrived during the replay; the client resumes',
  failed: 'replay failed',
} as const;

function cookieToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export class SocketGateway implements LiveSink {
  readonly io: IoServer;
  private readonly byUser = new Map<string, Set<IoSocket>>();
  private readonly removeSink: () => void;
  private readonly unsubscribe: () => void;
  private readonly sweep: NodeJS.Timeout;
  private readonly budget: number;
  private readonly stallMs: number;
  private readonly log: Logger;

  constructor(
    private readonly runtime: Runtime,
    server: HttpServer,
    options: GatewayOptions,
  ) {
    this.log = options.logger.child({ component: 'socket' });
    this.budget = options.budgetBytes ?? 1024 * 1024;
    this.stallMs = options.stallMs ?? 30_000;
    const allowed = new Set(options.allowedOrigins);
    this.io = new Server(server, {
      path: '/socket.io',
      serveClient: false,
      maxHttpBufferSize: LIMITS.socketFrameMaxBytes,
      perMessageDeflate: false,
      httpCompression: false,
      connectTimeout: 10_000,
      cors: options.allowedOrigins.length > 0 ? { origin: [...allowed], credentials: true } : undefined,
      allowRequest: (request, callback) =>
        callback(null, originAllowed(request.headers, allowed, runtime.config.trustProxy)),
    });
    releaseUpgradeRequests(this.io);
    this.io.use((socket, next) => {
      this.authenticate(socket).then(
        () => next(),
        (error: unknown) => {
          // A database outage is not a bad credential: say so, and the client just retries.
          const code =
            error instanceof AppError ? error.code : isDatabaseUnavailable(error) ? 'unavailable' : 'unauthorized';
          const message = code === TOO_MANY || code === 'unavailable' ? code : 'unauthorized';
          const err = new Error(message) as Error & { data?: unknown };
          err.data = { code };
          next(err);
        },
      );
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
    this.removeSink = runtime.hub.addSink(this);
    this.unsubscribe = runtime.bus.subscribe((message) => this.onBus(message));
    this.sweep = setInterval(() => this.disconnectSlowClients(), SWEEP_MS);
    this.sweep.unref();
  }

  private async authenticate(socket: IoSocket): Promise<void> {
    const auth = socket.handshake.auth as { token?: unknown };
    const token =
      typeof auth.token === 'string' && auth.token ? auth.token : cookieToken(socket.handshake.headers.cookie);
    if (!token) throw new AppError(401, 'unauthorized', 'no credentials');
    const actor = await this.runtime.accounts.authenticate(token);
    if ((this.byUser.get(actor.user.id)?.size ?? 0) >= LIMITS.socketsPerUserMax) {
      this.runtime.metrics.refusals.inc({ limit: 'sockets_per_user' });
      throw new AppError(429, TOO_MANY, `at most ${LIMITS.socketsPerUserMax} live connections per user`);
    }
    socket.data = {
      userId: actor.user.id,
      sessionId: actor.sessionId,
      expiresAt: actor.sessionExpiresAt,
      sentThrough: 0,
      admin: isAdmin(actor),
      channels: new Set(actor.channels),
      writer: new DirectWriter(socket),
      inbound: { windowStart: Date.now(), count: 0 },
    };
  }

  private onConnection(socket: IoSocket): void {
    const raw = (socket.handshake.auth as { lastSeq?: unknown }).lastSeq;
    const lastSeq = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    // Without lastSeq a client gets live events only, as the prototype's clients expect.
    const after =
      Number.isSafeInteger(lastSeq) && (lastSeq as number) >= 0 ? (lastSeq as number) : this.runtime.hub.headSeq;
    // Nothing reads the handshake after this: its request, headers and token are let go.
    releaseHandshake(socket);
    const { userId, admin } = socket.data;
    let sockets = this.byUser.get(userId);
    if (!sockets) this.byUser.set(userId, (sockets = new Set()));
    sockets.add(socket);
    socket.on('disconnect', (reason) => {
      // A reason of the server's own is worth a line at info; a client going away is not news.
      const why = socket.data.closeReason;
      if (why) this.log.info({ userId, reason: why }, 'socket disconnected');
      else this.log.debug({ userId, reason }, 'socket disconnected');
      const set = this.byUser.get(userId);
      set?.delete(socket);
      if (set?.size === 0) this.byUser.delete(userId);
      const { member } = socket.data;
      if (member) this.fanout.remove(member);
    });
    // Handshakes authenticated concurrently may all have passed the check in authenticate().
    if (sockets.size > LIMITS.socketsPerUserMax) {
      this.runtime.metrics.refusals.inc({ limit: 'sockets_per_user' });
      this.closeSocket(socket, 'too many connections for one user');
      return;
    }

    socket.use((_packet, next) => {
      const now = Date.now();
      const inbound = socket.data.inbound;
      if (now - inbound.windowStart >= 1000) {
        inbound.windowStart = now;
        inbound.count = 0;
      }
      if (++inbound.count > INBOUND_PER_SECOND) {
        this.closeSocket(socket, 'flooded events: more than 20 packets a second');
        return;
      }
      next();
    });
    socket.on('position', (position) => {
      if (typeof position !== 'object' || position === null) return;
      // A client can only have received and shown what this connection sent it, or what it
      // had when it connected (its lastSeq, never past the head): nothing beyond counts.
      const ceiling = Math.max(socket.data.sentThrough, Math.min(after, this.runtime.hub.headSeq));
      const valid = (n: unknown) =>
        Number.isSafeInteger(n) && (n as number) >= 0 ? Math.min(n as number, ceiling) : undefined;
      const delivered = valid(position.delivered);
      const read = valid(position.read);
      this.runtime.positions.report(userId, {
        ...(delivered !== undefined ? { delivered } : {}),
        ...(read !== undefined ? { read } : {}),
      });
    });

    this.runtime.hub
      .replayThenLive({
        after,
        owner: userId,
        scope: () => (admin ? 'all' : [...socket.data.channels]),
        canSee: (channel) => admin || socket.data.channels.has(channel),
        sendReplay: (events) => this.replay(socket, events),
        goLive: (pending, headSeq) => {
          for (const event of pending) socket.emit(wireEventName(event), toWire(event) as never);
          socket.data.sentThrough = Math.max(socket.data.sentThrough, headSeq);
          const { channels, writer } = socket.data;
          const member: Member = { socket, writer, channels: admin ? null : channels, sentThrough: headSeq };
          socket.data.member = member;
          this.fanout.add(member);
          socket.emit('live', { headSeq });
        },
        isClosed: () => socket.disconnected,
      })
      .then(
        () => this.runtime.metrics.replays.inc({ outcome: socket.data.member ? 'live' : 'closed' }),
        (error: unknown) => {
          const outcome = replayFailure(error);
          this.runtime.metrics.replays.inc({ outcome });
          if (outcome === 'failed') this.log.error({ err: error, userId }, 'replay failed');
          socket.data.closeReason = REPLAY_CLOSE_REASONS[outcome];
          this.forceDisconnect(socket);
        },
      );
  }

  /**
   * Writes a page of replayed events and resolves when the socket can take more. Frames are
   * shared by every socket replaying the same events (a reconnect storm) and written a few
   * at a time; the writing pauses at half the budget, so a reader that keeps up never looks
   * like a slow one. Only the part of a page not yet written is held while waiting.
   */
  private replay(socket: IoSocket, events: readonly StoredEvent[]): Promise<void> {
    const { writer } = socket.data;
    let chunk: Frame[] = [];
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const payload = this.frames.frame(event);
      chunk.push({ event, payload });
      bytes += payload.length;
      if (bytes < REPLAY_WRITE_BYTES && i < events.length - 1) continue;
      this.send(socket, writer, chunk);
      chunk = [];
      bytes = 0;
      if (i < events.length - 1 && writer.queuedBytes() > this.budget / 2) {
        const rest = events.slice(i + 1);
        return this.drained(socket).then(() => (socket.disconnected ? undefined : this.replay(socket, rest)));
      }
    }
    return this.drained(socket);
  }

  /**
   * Resolves once the socket's backlog is down to a quarter of the budget (or it closed).
   * The engine's own 'drain' fires when its queue is handed to the WebSocket, before the
   * kernel took it, so the queued bytes themselves are watched. A client that takes nothing
   * for `stallMs` is disconnected as slow: it resumes from its lastSeq when it reads again.
   */
  private drained(socket: IoSocket): Promise<void> {
    const lowWater = this.budget / 4;
    const queued = () => socket.data.writer.queuedBytes();
    const done = () => socket.disconnected || queued() <= lowWater;
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const conn = socket.conn;
      let lowest = queued();
      let progressAt = Date.now();
      const finish = () => {
        clearInterval(poll);
        conn.off('close', finish);
        resolve();
      };
      const poll = setInterval(() => {
        if (done()) return finish();
        const now = queued();
        if (now < lowest) {
          lowest = now;
          progressAt = Date.now();
        } else if (Date.now() - progressAt >= this.stallMs) {
          this.disconnectSlow(socket);
          finish();
        }
      }, 5);
      conn.on('close', finish);
    });
  }

  /** Live events, written after the publish that made them is acknowledged (see `LiveFanout`). */
  private readonly fanout = new LiveFanout<Member, Buffer>({
    encode: (event) => this.frames.frame(event),
    write: (member, batch) => this.send(member.socket, member.writer, batch),
    // One broken connection must not stop the fan-out to the others; it resumes from its lastSeq.
    failed: ({ socket }, error) => {
      this.log.warn({ err: error, userId: socket.data.userId }, 'write to a socket failed; disconnecting it');
      socket.data.closeReason = 'a write to it failed';
      this.forceDisconnect(socket);
    },
    walked: (batch, ms) =>
      this.runtime.metrics.walked(
        ms / 1000,
        batch.map(({ event }) => Date.parse(event.createdAt)),
      ),
  });

  deliver(event: StoredEvent): void {
    this.fanout.deliver(event);
  }

  /** Live and replayed events are encoded once (and runs of them joined once). */
  private readonly frames = new FrameCache();

  /**
   * Writes pre-encoded frames straight to the socket when nothing is queued ahead of them
   * in the engine or the WebSocket sender (so order is kept); otherwise emits through
   * Socket.IO, which queues behind what is already waiting.
   */
  private send(socket: IoSocket, writer: DirectWriter, batch: readonly Frame[]): void {
    socket.data.sentThrough = batch[batch.length - 1]!.event.seq;
    this.runtime.metrics.deliveries.socketio += batch.length;
    const raw = writer.socket();
    if (!raw) {
      for (const { event } of batch) socket.emit(wireEventName(event), toWire(event) as never);
      return;
    }
    // A client that stopped reading is caught before its backlog grows further. What one
    // write leaves in the buffer does not count against it: a large batch is not slowness.
    if (raw.writableLength > this.budget) {
      this.disconnectSlow(socket);
      return;
    }
    raw.write(this.frames.joined(batch));
  }

  /** Once a second: sockets whose session expired are closed, and clients that stopped reading. */
  private disconnectSlowClients(): void {
    const now = Date.now();
    for (const socket of this.io.of('/').sockets.values()) {
      if (socket.data.expiresAt <= now) {
        socket.emit('session_expired', { message: 'the session expired; sign in again' });
        this.closeSocket(socket, 'session expired');
        continue;
      }
      // Bytes, not packets: live frames written straight to the TCP socket never enter the
      // engine's queue, so a packet count would miss a client that stopped reading.
      if (socket.data.writer.queuedBytes() > this.budget) this.disconnectSlow(socket);
    }
  }

  private disconnectSlow(socket: IoSocket): void {
    this.runtime.metrics.slowDisconnects.inc();
    socket.data.closeReason = 'stopped reading: its backlog passed the budget or made no progress';
    this.forceDisconnect(socket);
  }

  /** Closes a socket for `reason` (logged with its disconnect); the client does not reconnect by itself. */
  private closeSocket(socket: IoSocket, reason: string): void {
    socket.data.closeReason = reason;
    socket.disconnect(true);
  }

  /** Drops the connection now, discarding its queue (a plain close would wait for it to drain). */
  private forceDisconnect(socket: IoSocket): void {
    socket.disconnect(true);
    (socket.conn as unknown as { close(discard: boolean): void }).close(true);
    socket.data.writer.tcpSocket()?.destroy();
  }

  private onBus(message: BusMessage): void {
    switch (message.kind) {
      case 'access':
        for (const socket of this.byUser.get(message.userId) ?? [])
          this.applyAccess(socket, message.channel, message.change);
        break;
      case 'disconnect':
        for (const sockets of this.byUser.values()) {
          for (const socket of sockets) if (disconnects(message, socket.data)) this.closeSocket(socket, message.reason);
        }
        break;
      case 'resync':
        void this.resync();
        break;
      default:
        break;
    }
  }

  private applyAccess(socket: IoSocket, channel: string, change: 'granted' | 'revoked'): void {
    if (socket.data.admin) return;
    const { channels, member } = socket.data;
    const had = channels.has(channel);
    if (change === 'revoked' && had) {
      channels.delete(channel);
      if (member) this.fanout.exit(member, channel);
    } else if (change === 'granted' && !had) {
      channels.add(channel);
      if (member) this.fanout.enter(member, channel);
    } else {
      return;
    }
    socket.emit('entitlements', {
      channels: [...socket.data.channels].sort(),
      granted: change === 'granted' ? [channel] : [],
      revoked: change === 'revoked' ? [channel] : [],
    });
  }

  /** Messages may have been lost: re-read every connected user's state (account, sessions, grants) and apply it. */
  private async resync(): Promise<void> {
    for (const [userId, sockets] of this.byUser) {
      try {
        const access = await this.runtime.accounts.currentAccess(userId);
        for (const socket of sockets) {
          if (!access?.sessionIds.has(socket.data.sessionId)) this.closeSocket(socket, 'its session ended');
        }
        if (!access) continue;
        const { channels } = access;
        for (const socket of sockets) {
          if (socket.disconnected) continue;
          for (const c of [...socket.data.channels]) if (!channels.has(c)) this.applyAccess(socket, c, 'revoked');
          for (const c of channels) if (!socket.data.channels.has(c)) this.applyAccess(socket, c, 'granted');
        }
      } catch (error) {
        this.log.warn({ err: error, userId }, 'resync failed; will retry on the next one');
      }
    }
  }

  /** How many of `userIds` have a live connection to this node. */
  connectedUsers(userIds: readonly string[]): number {
    return userIds.filter((id) => (this.byUser.get(id)?.size ?? 0) > 0).length;
  }

  get connectionCount(): number {
    return this.io.of('/').sockets.size;
  }

  /** Connected sockets by the transport they use now. */
  connectionsByTransport(): { websocket: number; polling: number } {
    let websocket = 0;
    let polling = 0;
    for (const socket of this.io.of('/').sockets.values()) {
      if (socket.conn.transport.name === 'websocket') websocket++;
      else polling++;
    }
    return { websocket, polling };
  }

  /**
   * Ends every connection. Not `io.close()`: that also closes the HTTP server and waits for
   * its keep-alive connections, which is Fastify's job once in-flight requests answered.
   */
  async close(): Promise<void> {
    clearInterval(this.sweep);
    this.fanout.close();
    this.removeSink();
    this.unsubscribe();
    this.io.disconnectSockets(true);
    this.io.engine.close();
  }
}
