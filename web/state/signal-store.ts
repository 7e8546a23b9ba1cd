/**
 * The signals this browser knows, kept as the server's views of them. Every path that
 * brings signals in (cache, history pages, filtered queries, live and replayed events)
 * goes through here, and applying the same event twice changes nothing: a created signal
 * is known by id, an update by the signal's `lastSeq`. The feed is the contiguous run of
 * newest signals (history cursor downwards), newest first.
 */
import type { SignalView, StoredEvent } from '../../shared/events.js';
import { applyUpdate, initialView } from '../../shared/signal-state.js';

export interface FeedSnapshot {
  /** Newest first. */
  feed: readonly SignalView[];
  byId: ReadonlyMap<string, SignalView>;
  /** Highest log seq applied (the delivered position). */
  lastSeq: number;
  /** `before` cursor for the next history page; null when the whole history is loaded. */
  cursor: number | null;
  /** Ids that arrived live in this session, with their arrival time (for highlighting). */
  fresh: ReadonlyMap<string, number>;
  version: number;
}

export interface FeedSeed {
  views: readonly SignalView[];
  lastSeq: number;
  cursor: number | null;
}

export type ApplyResult = 'applied' | 'duplicate' | 'unknown-signal';

export class SignalStore {
  private byId = new Map<string, SignalView>();
  /** Ids of the feed's signals, by descending seq; kept sorted on insertion. */
  private feedIds: string[] = [];
  private inFeed = new Set<string>();
  private lastSeq = 0;
  private cursor: number | null = null;
  private fresh = new Map<string, number>();
  private version = 0;
  private snapshot: FeedSnapshot | null = null;
  private listeners = new Set<() => void>();
  private notifyScheduled = false;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): FeedSnapshot => {
    if (!this.snapshot) {
      this.snapshot = {
        feed: this.feedIds.map((id) => this.byId.get(id) as SignalView),
        byId: this.byId,
        lastSeq: this.lastSeq,
        cursor: this.cursor,
        fresh: this.fresh,
        version: this.version,
      };
    }
    return this.snapshot;
  };

  get headSeq(): number {
    return this.lastSeq;
  }

  get(id: string): SignalView | undefined {
    return this.byId.get(id);
  }

  /** Whether `id` belongs to the contiguous feed (and so to the cache). */
  inFeedHas(id: string): boolean {
    return this.inFeed.has(id);
  }

  /** Replaces everything (a cache load or a rebuild from the server). */
  reset(seed: FeedSeed): void {
    this.byId = new Map();
    this.feedIds = [];
    this.inFeed = new Set();
    this.fresh = new Map();
    for (const view of seed.views) this.insert(view);
    this.lastSeq = seed.lastSeq;
    this.cursor = seed.cursor;
    this.changed();
  }

  /** A history page from `GET /api/signals?before=cursor`. */
  addPage(items: readonly SignalView[], nextCursor: number | null): void {
    for (const view of items) this.upsert(view, true);
    this.cursor = nextCursor;
    this.changed();
  }

  /** Views from a filtered query: known everywhere, but not part of the contiguous feed. */
  remember(items: readonly SignalView[]): void {
    for (const view of items) this.upsert(view, false);
    this.changed();
  }

  /** A live or replayed log event. */
  apply(event: StoredEvent, live: boolean): ApplyResult {
    this.lastSeq = Math.max(this.lastSeq, event.seq);
    let result: ApplyResult;
    if (event.type === 'signal.created') {
      if (this.byId.has(event.signalId) && this.inFeed.has(event.signalId)) {
        result = 'duplicate';
      } else {
        this.upsert(initialView(event), true);
        if (live) this.fresh.set(event.signalId, Date.now());
        result = 'applied';
      }
    } else {
      const view = this.byId.get(event.signalId);
      if (!view) result = 'unknown-signal';
      else if (event.seq <= view.lastSeq) result = 'duplicate';
      else {
        this.byId.set(view.id, applyUpdate(view, event));
        result = 'applied';
      }
    }
    this.changed();
    return result;
  }

  private upsert(view: SignalView, feed: boolean): void {
    const known = this.byId.get(view.id);
    if (!known || known.lastSeq < view.lastSeq) this.byId.set(view.id, view);
    if (feed && !this.inFeed.has(view.id)) this.insert(this.byId.get(view.id) ?? view);
  }

  private insert(view: SignalView): void {
    this.byId.set(view.id, view);
    if (this.inFeed.has(view.id)) return;
    this.inFeed.add(view.id);
    // Newest first; live arrivals land at index 0, history pages at the end.
    let lo = 0;
    let hi = this.feedIds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const seq = this.byId.get(this.feedIds[mid] as string)?.seq ?? 0;
      if (seq > view.seq) lo = mid + 1;
      else hi = mid;
    }
    this.feedIds.splice(lo, 0, view.id);
  }

  /** Coalesces notifications so a replay of many events renders once. */
  private changed(): void {
    this.version++;
    this.snapshot = null;
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    queueMicrotask(() => {
      this.notifyScheduled = false;
      for (const listener of this.listeners) listener();
    });
  }
}
