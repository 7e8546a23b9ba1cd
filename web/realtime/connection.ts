/**
 * The live connection to the server. It resumes from the last `seq` this browser applied
 * (the server replays everything after it, then says `live`), reconnects with exponential
 * backoff and jitter after any loss, waits quietly while the browser is offline, and can
 * be told to try again at once. Reconnection is driven here rather than by socket.io's own
 * manager so that every attempt carries the current `lastSeq` and the UI can show when the
 * next attempt is due.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, StoredEvent } from '../../shared/events.js';
import { backoffDelay } from './backoff.js';

export type ConnectionState =
  | { status: 'connecting'; attempt: number }
  | { status: 'live'; headSeq: number }
  | { status: 'reconnecting'; attempt: number; nextAttemptAt: number | null; reason: string }
  | { status: 'offline' }
  | { status: 'stopped' };

export interface ConnectionHandlers {
  /** The highest seq applied, read at every (re)connect. */
  lastSeq(): number;
  onEvent(event: StoredEvent, live: boolean): void;
  onLive(headSeq: number): void;
  onEntitlements(info: { channels: string[]; granted: string[]; revoked: string[] }): void;
  /** The server refused the credentials; resolves true when the session is really gone. */
  onUnauthorized(): Promise<boolean>;
}

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const POSITION_INTERVAL_MS = 1000;

export class Connection {
  private socket: ClientSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private state: ConnectionState = { status: 'connecting', attempt: 0 };
  private listeners = new Set<() => void>();
  private live = false;
  private pendingPosition: { delivered?: number; read?: number } | null = null;
  private lastPositionAt = 0;
  private positionTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly handlers: ConnectionHandlers) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ConnectionState => this.state;

  start(): void {
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    if (navigator.onLine) this.open();
    else this.setState({ status: 'offline' });
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.clearTimer();
    if (this.positionTimer) clearTimeout(this.positionTimer);
    this.close();
    this.setState({ status: 'stopped' });
  }

  /** The user asked to reconnect now: skip the wait and start the backoff afresh. */
  reconnectNow(): void {
    if (this.stopped) return;
    this.clearTimer();
    this.close();
    this.attempt = 0;
    this.open();
  }

  /** Reports positions to the server at most once a second; the newest values win. */
  reportPosition(position: { delivered?: number; read?: number }): void {
    this.pendingPosition = { ...this.pendingPosition, ...position };
    if (this.positionTimer) return;
    const wait = Math.max(0, this.lastPositionAt + POSITION_INTERVAL_MS - Date.now());
    this.positionTimer = setTimeout(() => {
      this.positionTimer = null;
      this.flushPosition();
    }, wait);
  }

  private flushPosition(): void {
    if (!this.pendingPosition || !this.socket?.connected) return;
    this.socket.emit('position', this.pendingPosition);
    this.pendingPosition = null;
    this.lastPositionAt = Date.now();
  }

  private open(): void {
    this.close();
    this.setState(
      this.attempt === 0
        ? { status: 'connecting', attempt: 0 }
        : { status: 'reconnecting', attempt: this.attempt, nextAttemptAt: null, reason: 'connecting' },
    );
    const socket: ClientSocket = io({
      path: '/socket.io',
      auth: { lastSeq: this.handlers.lastSeq() },
      reconnection: false,
      forceNew: true,
      transports: ['websocket', 'polling'],
      timeout: 10_000,
    });
    this.socket = socket;
    this.live = false;
    socket.on('new_signal', (payload) => this.handlers.onEvent(payload, this.live));
    socket.on('signal_update', (payload) => this.handlers.onEvent(payload, this.live));
    socket.on('live', ({ headSeq }) => {
      this.live = true;
      this.attempt = 0;
      this.setState({ status: 'live', headSeq });
      this.handlers.onLive(headSeq);
      this.flushPosition();
    });
    socket.on('entitlements', (info) => this.handlers.onEntitlements(info));
    socket.on('connect_error', (error) => {
      if (socket !== this.socket) return;
      if (error.message === 'unauthorized') {
        void this.handlers.onUnauthorized().then((gone) => {
          if (gone) this.stop();
          else this.retry('the server refused the connection');
        });
        return;
      }
      this.retry('cannot reach the server');
    });
    socket.on('disconnect', (reason) => {
      if (socket !== this.socket || reason === 'io client disconnect') return;
      // The server closing the socket may mean the session ended (logout elsewhere, disabled).
      this.retry(reason === 'io server disconnect' ? 'the server closed the connection' : 'connection lost');
    });
  }

  private retry(reason: string): void {
    if (this.stopped) return;
    this.close();
    if (!navigator.onLine) {
      this.setState({ status: 'offline' });
      return;
    }
    this.attempt++;
    const delay = backoffDelay(this.attempt);
    this.setState({ status: 'reconnecting', attempt: this.attempt, nextAttemptAt: Date.now() + delay, reason });
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }

  private onOnline = (): void => {
    if (this.stopped) return;
    this.clearTimer();
    this.attempt = Math.max(1, this.attempt);
    this.open();
  };

  private onOffline = (): void => {
    if (this.stopped) return;
    // The socket may not notice for a long while; the browser already knows.
    this.clearTimer();
    this.close();
    this.setState({ status: 'offline' });
  };

  private close(): void {
    const socket = this.socket;
    this.socket = null;
    this.live = false;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}
