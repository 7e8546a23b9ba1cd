/**
 * The hub delivers the log to this node's live subscribers: every event exactly once, in
 * strictly ascending seq, whatever order (or whether) the bus announced it. Out-of-order
 * arrivals wait for their predecessors; a gap is read from the log; a periodic check of the
 * log head is the safety net for a lost announcement.
 *
 * A subscriber joins through `replayThenLive`: it is registered for live events first
 * (buffering), the log is read up to the hub's head at that moment, and then the buffer is
 * drained, skipping what was already sent — so the hand-over has no gap and no duplicate.
 */
import type { StoredEvent } from '../../shared/events.js';
import type { Bus, BusMessage } from '../bus/bus.js';
import type { ChannelScope, Store } from '../store/store.js';

/** Receives every event once, in seq order, synchronously. */
export interface LiveSink {
  deliver(event: StoredEvent): void;
}

export interface CatchUp {
  /** Seq the subscriber already has. */
  after: number;
  /** Channels to read from the log (checked again per event through `canSee`). */
  scope(): ChannelScope;
  canSee(channel: string): boolean;
  /** Sends a page of replayed events; resolves when the transport can take more. */
  sendReplay(events: StoredEvent[]): Promise<void>;
  /**
   * Called synchronously with the buffered events still to send: send them and become
   * live (join the sink) before returning.
   */
  goLive(pending: StoredEvent[], headSeq: number): void;
  isClosed(): boolean;
}

export class CatchUpOverflow extends Error {
  constructor() {
    super('too many live events arrived while replaying; reconnect to resume');
  }
}

interface Pending {
  canSee(channel: string): boolean;
  buffer: StoredEvent[];
  overflow: boolean;
}

export interface HubOptions {
  /** How often the log head is checked for events the bus did not announce. */
  pollMs?: number;
  replayPageSize?: number;
  /** Live events one catching-up subscriber may buffer before it is told to reconnect. */
  maxBuffered?: number;
  onError?: (error: unknown, context: string) => void;
}

export class Hub {
  private head = 0;
  private readonly held = new Map<number, StoredEvent>();
  private readonly sinks = new Set<LiveSink>();
  private readonly pending = new Set<Pending>();
  private fetching: Promise<void> | null = null;
  private refetch = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly pollMs: number;
  private readonly pageSize: number;
  private readonly maxBuffered: number;
  private readonly onError: (error: unknown, context: string) => void;

  constructor(
    private readonly store: Store,
    options: HubOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.pageSize = options.replayPageSize ?? 500;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.onError = options.onError ?? (() => {});
  }

  /** Highest seq delivered to this node's live subscribers. */
  get headSeq(): number {
    return this.head;
  }

  async start(bus: Bus): Promise<void> {
    this.head = await this.store.headSeq();
    this.unsubscribe = bus.subscribe((message) => this.onBus(message));
    this.timer = setInterval(() => void this.catchUpFromLog(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.fetching;
  }

  addSink(sink: LiveSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  private onBus(message: BusMessage): void {
    if (message.kind === 'events') this.offer(message.events);
    else if ((message.kind === 'head' && message.seq > this.head) || message.kind === 'resync')
      void this.catchUpFromLog();
  }

  /** Hands committed events to the hub, in any order; duplicates and old ones are ignored. */
  offer(events: readonly StoredEvent[]): void {
    for (const event of events) if (event.seq > this.head) this.held.set(event.seq, event);
    this.drainHeld();
    if (this.held.size > 0) void this.catchUpFromLog();
  }

  private drainHeld(): void {
    for (let next = this.held.get(this.head + 1); next; next = this.held.get(this.head + 1)) {
      this.held.delete(next.seq);
      this.deliver(next);
    }
  }

  private deliver(event: StoredEvent): void {
    this.head = event.seq;
    for (const p of this.pending) {
      if (!p.canSee(event.channel)) continue;
      if (p.buffer.length >= this.maxBuffered) p.overflow = true;
      else p.buffer.push(event);
    }
    for (const sink of this.sinks) {
      try {
        sink.deliver(event);
      } catch (error) {
        this.onError(error, `delivering seq ${event.seq}`);
      }
    }
  }

  /** Reads and delivers everything after the head that the log holds. One read at a time. */
  catchUpFromLog(): Promise<void> {
    if (this.fetching) {
      this.refetch = true;
      return this.fetching;
    }
    this.fetching = (async () => {
      try {
        do {
          this.refetch = false;
          for (;;) {
            const page = await this.store.readEvents({ after: this.head, limit: this.pageSize, channels: 'all' });
            for (const event of page) {
              this.held.delete(event.seq);
              if (event.seq === this.head + 1) this.deliver(event);
            }
            this.drainHeld();
            if (page.length < this.pageSize) break;
          }
        } while (this.refetch);
      } catch (error) {
        this.onError(error, 'reading the log');
      } finally {
        this.fetching = null;
      }
    })();
    return this.fetching;
  }

  /** Replays the log after `sub.after`, then makes the subscriber live with no gap or duplicate. */
  async replayThenLive(sub: CatchUp): Promise<void> {
    const pending: Pending = { canSee: (c) => sub.canSee(c), buffer: [], overflow: false };
    this.pending.add(pending);
    try {
      // Everything up to `target` was delivered before we registered, so it must come from
      // the log; everything after it reaches `pending.buffer`.
      const target = this.head;
      let last = sub.after;
      while (last < target && !sub.isClosed()) {
        const page = await this.store.readEvents({
          after: last,
          upTo: target,
          limit: this.pageSize,
          channels: sub.scope(),
        });
        const visible = page.filter((e) => sub.canSee(e.channel));
        if (visible.length > 0) await sub.sendReplay(visible);
        if (page.length < this.pageSize) break;
        last = page[page.length - 1]!.seq;
      }
      if (sub.isClosed()) return;
      if (pending.overflow) throw new CatchUpOverflow();
      const cutoff = Math.max(sub.after, target);
      const rest = pending.buffer.filter((e) => e.seq > cutoff && sub.canSee(e.channel));
      this.pending.delete(pending);
      sub.goLive(rest, this.head);
    } finally {
      this.pending.delete(pending);
    }
  }
}
