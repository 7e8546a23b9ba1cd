/**
 * One signed-in session's view of the log: the signal store, its IndexedDB copy, the live
 * connection and the user's positions. Start order matters for "nothing missed, nothing
 * twice": the cache renders at once; then the server's head seq is read, then its newest
 * page (which is at least that new), and the socket resumes after the store's `lastSeq`
 * — events the page already reflects are recognised and skipped by the store.
 */
import type { SignalView, StoredEvent } from '../../shared/events.js';
import { LIMITS } from '../../shared/limits.js';
import { get, query, setCsrfToken } from '../api/client.js';
import type { Me, SignalPage, Unread } from '../api/types.js';
import { Connection } from '../realtime/connection.js';
import { CACHE_MAX, clearCache, loadCache, saveCache } from './cache.js';
import { SignalStore } from './signal-store.js';

/** The first screen wants a small, fast answer; scrolling back wants few, large ones. */
export const PAGE_SIZE = 100;
const HISTORY_PAGE_SIZE = LIMITS.pageSizeMax;
/** Further behind than this, a fresh first page is cheaper than replaying every event. */
const MAX_REPLAY = 2000;
/** Writes are batched this long (a replay is many events); a page being left writes at once. */
const SAVE_DELAY_MS = 50;
const UNREAD_POLL_MS = 15_000;

export interface FeedListeners {
  /** A signal arrived live (not from a replay), for sound and desktop alerts. */
  onArrival?(view: SignalView): void;
}

export class Feed {
  readonly store = new SignalStore();
  readonly connection: Connection;
  private me: Omit<Me, 'csrfToken'>;
  private dirty = new Map<string, SignalView>();
  private replaceCache = false;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private unreadTimer: ReturnType<typeof setInterval> | null = null;
  private readSeq = 0;
  private unread = 0;
  private unreadListeners = new Set<() => void>();
  private reading = false;
  private loadingPage: Promise<void> | null = null;
  private stopped = false;
  /** Whether the store has been checked against the server since this feed started. */
  private reconciled = false;
  listeners: FeedListeners = {};

  constructor(
    me: Me,
    private readonly onSignedOut: () => Promise<boolean>,
  ) {
    const { csrfToken: _csrf, ...rest } = me;
    this.me = rest;
    this.readSeq = me.positions.read;
    this.connection = new Connection({
      lastSeq: () => this.store.headSeq,
      onEvent: (event, live) => this.onEvent(event, live),
      onLive: () => {
        this.markRead();
        // Started offline (or the server was down): check the cache against the server now;
        // a cache that disagrees is dropped.
        if (!this.reconciled) void this.resync(true);
      },
      onEntitlements: (info) => {
        // A newly granted channel has history before our lastSeq: start from the server again.
        if (info.granted.length > 0 || info.revoked.length > 0) void this.rebuild();
      },
      onUnauthorized: this.onSignedOut,
    });
  }

  /**
   * Shows the cache (if it is this user's), then reconciles with the server and goes live.
   * `meIsFresh` says the `/api/me` this feed was made with was just read from the server,
   * so its head seq can order the first page without asking again.
   */
  async start(offline: boolean, meIsFresh: boolean): Promise<void> {
    // The cache and the first page travel at the same time; the cache usually wins the race.
    const cachedLoad = loadCache();
    const firstPage = offline || !meIsFresh ? null : this.fetchFirstPage();
    firstPage?.catch(() => undefined);
    const cached = await cachedLoad;
    const usableCache = cached && cached.me.user.id === this.me.user.id ? cached : null;
    if (this.stopped) return;
    if (usableCache) this.store.reset(usableCache);
    else if (cached) await clearCache();
    if (!offline) {
      try {
        const me = meIsFresh ? null : await this.fetchMe();
        const page = (await firstPage) ?? (await this.fetchFirstPage());
        this.reconcile(me ?? this.me, page, usableCache?.lastSeq ?? null);
      } catch {
        // Unreachable now: the connection's retries will catch up when the server is back.
      }
    }
    if (this.stopped) return;
    this.connection.start();
    this.unreadTimer = setInterval(() => void this.refreshUnread(), UNREAD_POLL_MS);
    document.addEventListener('visibilitychange', this.onVisibility);
    window.addEventListener('pagehide', this.flushSave);
    void this.refreshUnread();
  }

  stop(): void {
    this.stopped = true;
    this.connection.stop();
    if (this.unreadTimer) clearInterval(this.unreadTimer);
    if (this.saveTimer) clearTimeout(this.saveTimer);
    document.removeEventListener('visibilitychange', this.onVisibility);
    window.removeEventListener('pagehide', this.flushSave);
  }

  /** Stops and forgets everything this browser kept (logout). */
  async discard(): Promise<void> {
    this.stop();
    this.dirty.clear();
    await clearCache();
  }

  private async fetchMe(): Promise<Omit<Me, 'csrfToken'>> {
    const { csrfToken, ...me } = await get<Me>('/api/me');
    setCsrfToken(csrfToken);
    this.me = me;
    return me;
  }

  private fetchFirstPage(): Promise<SignalPage> {
    return get<SignalPage>(`/api/signals${query({ limit: PAGE_SIZE })}`);
  }

  /**
   * Keeps the cache when the server's newest page agrees with it (the socket replays what
   * is missing), otherwise starts again from that page. `me.headSeq` was read before `page`.
   */
  private reconcile(me: Omit<Me, 'csrfToken'>, page: SignalPage, cachedLastSeq: number | null): void {
    const usable =
      cachedLastSeq !== null &&
      cachedLastSeq <= me.headSeq &&
      me.headSeq - cachedLastSeq <= MAX_REPLAY &&
      this.agrees(page.items, cachedLastSeq);
    if (usable) {
      this.store.addPage(page.items, this.store.getSnapshot().cursor);
    } else {
      this.store.reset({ views: page.items, lastSeq: me.headSeq, cursor: page.nextCursor });
      this.replaceCache = true;
    }
    this.reconciled = true;
    for (const view of page.items) this.dirty.set(view.id, view);
    this.scheduleSave();
  }

  /** Whether the cached feed matches the server's newest page, as far as the cache reaches. */
  private agrees(items: readonly SignalView[], cachedLastSeq: number): boolean {
    const { byId, feed } = this.store.getSnapshot();
    for (const item of items) {
      const cached = byId.get(item.id);
      if (!cached) {
        // Newer than the cache: the replay brings it. Older: the cache lost something.
        if (item.seq <= cachedLastSeq) return false;
        continue;
      }
      if (cached.lastSeq > item.lastSeq) return false;
      if (cached.lastSeq === item.lastSeq && cached.status !== item.status) return false;
    }
    const oldest = items.at(-1)?.seq ?? 0;
    const served = new Set(items.map((item) => item.id));
    // The cache shows a signal in the range the server answered for, which the server does not show.
    return !feed.some((view) => view.seq >= oldest && !served.has(view.id));
  }

  /** Starts from the server's newest page again, dropping the cache. */
  rebuild(): Promise<void> {
    return this.resync(false);
  }

  private async resync(keepCache: boolean): Promise<void> {
    // Read before any await: live events arriving meanwhile must not count as cached ones.
    const cachedLastSeq = keepCache ? this.store.headSeq : null;
    try {
      const me = await this.fetchMe();
      this.reconcile(me, await this.fetchFirstPage(), cachedLastSeq);
    } catch {
      // Tried again at the next `live` or reconnect.
    }
  }

  /** Loads the next page of history into the feed; concurrent calls share one request. */
  loadMore(): Promise<void> {
    const { cursor } = this.store.getSnapshot();
    if (cursor === null) return Promise.resolve();
    this.loadingPage ??= get<SignalPage>(`/api/signals${query({ before: cursor, limit: HISTORY_PAGE_SIZE })}`)
      .then((page) => {
        this.store.addPage(page.items, page.nextCursor);
        for (const view of page.items) this.dirty.set(view.id, view);
        this.scheduleSave();
      })
      .finally(() => {
        this.loadingPage = null;
      });
    return this.loadingPage;
  }

  private onEvent(event: StoredEvent, live: boolean): void {
    const result = this.store.apply(event, live);
    const view = this.store.get(event.signalId);
    if (result === 'applied' && view) {
      this.dirty.set(view.id, view);
      if (live && event.type === 'signal.created') this.listeners.onArrival?.(view);
    }
    if (result === 'unknown-signal') void this.fetchSignal(event.signalId);
    if (this.reading) this.markRead();
    else if (event.seq > this.readSeq) this.setUnread(this.unread + 1);
    this.connection.reportPosition({ delivered: this.store.headSeq });
    this.scheduleSave();
  }

  private async fetchSignal(id: string): Promise<void> {
    try {
      const { signal } = await get<{ signal: SignalView }>(`/api/signals/${encodeURIComponent(id)}`);
      this.store.remember([signal]);
    } catch {
      // Older than anything shown; it loads with its history page.
    }
  }

  // --- read position and unread count -------------------------------------------------

  subscribeUnread = (listener: () => void): (() => void) => {
    this.unreadListeners.add(listener);
    return () => this.unreadListeners.delete(listener);
  };

  getUnread = (): number => this.unread;

  /** While the feed is on screen and the tab visible, everything delivered counts as read. */
  setReading(reading: boolean): void {
    this.reading = reading;
    if (reading) this.markRead();
  }

  private markRead(): void {
    if (!this.reading || document.visibilityState !== 'visible') return;
    const head = this.store.headSeq;
    if (head > this.readSeq) {
      this.readSeq = head;
      this.connection.reportPosition({ delivered: head, read: head });
    }
    this.setUnread(0);
  }

  private onVisibility = (): void => {
    if (document.visibilityState === 'visible') {
      this.markRead();
      void this.refreshUnread();
    }
  };

  /** The server keeps the read position, so another device's reading shows up here. */
  private async refreshUnread(): Promise<void> {
    try {
      const answer = await get<Unread>('/api/me/unread');
      // An answer older than what this tab already reported would bring back read signals.
      if (answer.read >= this.readSeq) {
        this.readSeq = answer.read;
        this.setUnread(answer.unread);
      }
    } catch {
      // Offline: keep the local count.
    }
  }

  private setUnread(count: number): void {
    if (count === this.unread) return;
    this.unread = count;
    for (const listener of this.unreadListeners) listener();
  }

  // --- cache ------------------------------------------------------------------------

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.save();
    }, SAVE_DELAY_MS);
  }

  private flushSave = (): void => {
    if (!this.saveTimer) return;
    clearTimeout(this.saveTimer);
    this.saveTimer = null;
    void this.save();
  };

  private async save(): Promise<void> {
    const { feed, lastSeq, cursor } = this.store.getSnapshot();
    // Only the newest CACHE_MAX signals are kept; the rest reload from the server.
    const floor = feed.length > CACHE_MAX ? (feed[CACHE_MAX - 1]?.seq ?? 0) : 0;
    const changed = [...this.dirty.values()].filter((view) => view.seq >= floor && this.store.inFeedHas(view.id));
    const replaceAll = this.replaceCache;
    this.dirty.clear();
    this.replaceCache = false;
    await saveCache(this.me, changed, lastSeq, floor > 0 ? floor : cursor, replaceAll);
  }
}
