/**
 * The hub delivers the log to this node's live subscribers: every event exactly once, in
 * strictly ascending seq, whatever order (or whether) the bus announced it. Out-of-order
 * arrivals wait for their predecessors; a gap is read from the log; a periodic check of the
 * log head is the safety net for a lost announcement.
 *
 * A subscriber joins through `replayThenLive`: it is registered for live events first
 * (buffering), the log is read up to the hub's head at that moment, and then the buffer is
 * drained, skipping what was already sent — so the hand-over has no gap and no duplicate.
 *
 * The hub keeps the most recent events it delivered, a contiguous run ending at its head. A
 * subscriber who was away for less than that window replays from memory: when thousands
 * reconnect at once after an outage, the log is not read and parsed once per subscriber.
 */
import type { StoredEvent } from '../../shared/events.js';
import type { Bus, BusMessage } from '../bus/bus.js';
import type { ChannelScope, Store } from '../store/store.js';
import { Backlog } from './backlog.js';
import { GateFull } from './gate.js';

/** Receives every event once, in seq order, synchronously. */
export interface LiveSink {
  deliver(event: StoredEvent): void;
}

export interface CatchUp {
  /** Seq the subscriber already has. */
  after: number;
  /** Whose replay this is (a user id): a replay from the database is a long read of theirs. */
  owner: string;
  /** Channels to read from the log (checked again per event through `canSee`). */
  scope(): ChannelScope;
  canSee(channel: string): boolean;
  /**
   * Sends a page of replayed events; resolves when the transport can take more. The wait
   * should not hold on to `events` (write them first, then wait): see `Hub.replayPage`.
   */
  sendReplay(events: StoredEvent[]): Promise<void>;
  /**
   * Called synchronously with the buffered events still to send: send them and become
   * live (join the sink) before returning.
   */
  goLive(pending: StoredEvent[], headSeq: number): void;
  isClosed(): boolean;
}

/** About a minute of a busy provider's signals; older gaps are read from the log. */
const DEFAULT_RECENT_EVENTS = 5000;

export class CatchUpOverflow extends Error {
  constructor() {
    super('too many live events arrived while replaying; reconnect to resume');
  }
}

/** How a replay that threw ended, as the replay metric counts it. */
export function replayFailure(error: unknown): 'busy' | 'overflow' | 'failed' {
  return error instanceof GateFull ? 'busy' : error instanceof CatchUpOverflow ? 'overflow' : 'failed';
}

interface Pending {
  canSee(channel: string): boolean;
  buffer: StoredEvent[];
  overflow: boolean;
}

export interface HubOptions {
  /** How often the log head is checked for events the bus did not announce. */
  pollMs?: number;
  /** Events per page of a replay served from memory. */
  replayPageSize?: number;
  /** Events per page of a replay read from the database: one page is one event-loop turn. */
  logPageSize?: number;
  /** Shares the event loop between long reads, and bounds how many run (see backlog.ts). */
  backlog?: Backlog;
  /** Live events one catching-up subscriber may buffer before it is told to reconnect. */
  maxBuffered?: number;
  /** How many of the latest delivered events are kept for replays. */
  recentEvents?: number;
  onError?: (error: unknown, context: string) => void;
  /** Sees each event as it is delivered to this node (metrics); must be cheap. */
  observe?: (event: StoredEvent) => void;
}

/** One page of a replay, handed to the transport: `sent` resolves when it can take more. */
interface ReplayStep {
  sent: Promise<void>;
  /** The last seq read (whether or not the subscriber may see it). */
  last: number;
  /** The page was the last one. */
  end: boolean;
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
  private readonly logPageSize: number;
  readonly backlog: Backlog;
  private readonly maxBuffered: number;
  /** The latest delivered events, contiguous: recent[i].seq === recentFrom + i, the last is the head. */
  private recent: StoredEvent[] = [];
  private recentFrom = 1;
  private readonly recentCapacity: number;
  private readonly onError: (error: unknown, context: string) => void;
  private readonly observe: ((event: StoredEvent) => void) | undefined;

  constructor(
    private readonly store: Store,
    options: HubOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.pageSize = options.replayPageSize ?? 500;
    this.logPageSize = options.logPageSize ?? 50;
    this.backlog = options.backlog ?? new Backlog();
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.recentCapacity = options.recentEvents ?? DEFAULT_RECENT_EVENTS;
    this.onError = options.onError ?? (() => {});
    this.observe = options.observe;
  }

  /** Highest seq delivered to this node's live subscribers. */
  get headSeq(): number {
    return this.head;
  }

  async start(bus: Bus): Promise<void> {
    this.head = await this.store.headSeq();
    this.recentFrom = this.head + 1;
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
    this.remember(event);
    this.observe?.(event);
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

  private remember(event: StoredEvent): void {
    this.recent.push(event);
    // Trim in batches, so the array is not shifted on every event.
    if (this.recent.length >= this.recentCapacity * 2) {
      const drop = this.recent.length - this.recentCapacity;
      this.recent = this.recent.slice(drop);
      this.recentFrom += drop;
    }
  }

  /** Whether the events after `after`, up to `upTo`, are all still in the recent window. */
  private inWindow(after: number, upTo: number): boolean {
    return after + 1 >= this.recentFrom && upTo <= this.head;
  }

  /**
   * Up to `limit` events after `after`, no further than `upTo`, from memory when the window
   * still holds them all (it always reaches the head, and `upTo` is never past the head).
   */
  private async readPage(after: number, upTo: number, channels: ChannelScope, limit?: number): Promise<StoredEvent[]> {
    if (this.inWindow(after, upTo)) {
      // The same contract as the log's read: the first `limit` events in scope.
      const page: StoredEvent[] = [];
      const most = limit ?? this.pageSize;
      const last = upTo - this.recentFrom;
      for (let i = after + 1 - this.recentFrom; i <= last && page.length < most; i++) {
        const event = this.recent[i]!;
        if (channels === 'all' || channels.includes(event.channel)) page.push(event);
      }
      return page;
    }
    return this.store.readEvents({ after, upTo, limit: limit ?? this.logPageSize, channels });
  }

  /**
   * The first `limit` events in `channels` after `after`, up to what this node has delivered
   * live: from memory while the recent window holds them, else from the log, a page per turn
   * of the event loop (see backlog.ts). For readers that follow the log at their own pace.
   */
  async readAfter(after: number, limit: number, channels: ChannelScope): Promise<StoredEvent[]> {
    const upTo = this.head;
    if (after >= upTo || (channels !== 'all' && channels.length === 0)) return [];
    if (!this.inWindow(after, upTo)) await this.backlog.turn();
    return this.readPage(after, upTo, channels, limit);
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

  /**
   * Reads one page after `after` and hands what the subscriber may see to its transport.
   * What it returns holds no event: while a slow reader's transport drains, the page it
   * wrote is already garbage, not kept alive by the replay waiting on it.
   */
  private async replayPage(sub: CatchUp, after: number, target: number, fromLog: boolean): Promise<ReplayStep> {
    const page = await this.readPage(after, target, sub.scope());
    const visible = page.filter((e) => sub.canSee(e.channel));
    return {
      sent: visible.length > 0 ? sub.sendReplay(visible) : Promise.resolve(),
      last: page.at(-1)?.seq ?? after,
      end: page.length < (fromLog ? this.logPageSize : this.pageSize),
    };
  }

  /**
   * Replays the log after `sub.after`, then makes the subscriber live with no gap or
   * duplicate. A replay that must read the database first waits for admission (see
   * backlog.ts) and reads a page per turn; it rejects with GateFull when too many wait.
   */
  async replayThenLive(sub: CatchUp): Promise<void> {
    const lease = this.inWindow(sub.after, this.head) ? undefined : await this.backlog.admit(sub.owner);
    const pending: Pending = { canSee: (c) => sub.canSee(c), buffer: [], overflow: false };
    this.pending.add(pending);
    try {
      // Everything up to `target` was delivered before we registered, so it must come from
      // the log; everything after it reaches `pending.buffer`.
      const target = this.head;
      let last = sub.after;
      while (last < target && !sub.isClosed()) {
        const fromLog = !this.inWindow(last, target);
        if (fromLog) await (lease ?? this.backlog).turn();
        const step = await this.replayPage(sub, last, target, fromLog);
        await step.sent;
        if (step.end) break;
        last = step.last;
      }
      if (sub.isClosed()) return;
      if (pending.overflow) throw new CatchUpOverflow();
      const cutoff = Math.max(sub.after, target);
      const rest = pending.buffer.filter((e) => e.seq > cutoff && sub.canSee(e.channel));
      this.pending.delete(pending);
      sub.goLive(rest, this.head);
    } finally {
      this.pending.delete(pending);
      lease?.release();
    }
  }
}
