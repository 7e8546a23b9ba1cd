/**
 * The IndexedDB copy of what this browser has seen, so a reload or an offline start shows
 * signals at once. It is only ever a copy: the server's answer wins whenever the two
 * disagree, and logout deletes it. It keeps the newest `CACHE_MAX` signals of the feed.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { SignalView } from '../../shared/events.js';
import type { Me } from '../api/types.js';
import type { FeedSeed } from './signal-store.js';

export const CACHE_MAX = 5000;

interface CacheMeta {
  userId: string;
  lastSeq: number;
  cursor: number | null;
  /** The last `/api/me` answer (without the CSRF token), for starting while offline. */
  me: Omit<Me, 'csrfToken'>;
}

interface CacheSchema extends DBSchema {
  signals: { key: string; value: SignalView; indexes: { seq: number } };
  meta: { key: 'state'; value: CacheMeta };
}

const DB_NAME = 'signal-desk';
let db: Promise<IDBPDatabase<CacheSchema>> | null = null;

function open(): Promise<IDBPDatabase<CacheSchema>> {
  db ??= openDB<CacheSchema>(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore('signals', { keyPath: 'id' }).createIndex('seq', 'seq');
      database.createObjectStore('meta');
    },
  });
  return db;
}

export interface CachedFeed extends FeedSeed {
  me: Omit<Me, 'csrfToken'>;
}

/** The cached feed, or null when there is none (or it is unreadable). */
export async function loadCache(): Promise<CachedFeed | null> {
  try {
    const database = await open();
    const meta = await database.get('meta', 'state');
    if (!meta) return null;
    const views: SignalView[] = [];
    let cursor = await database.transaction('signals').store.index('seq').openCursor(null, 'prev');
    while (cursor && views.length < CACHE_MAX) {
      views.push(cursor.value);
      cursor = await cursor.continue();
    }
    return { views, lastSeq: meta.lastSeq, cursor: meta.cursor, me: meta.me };
  } catch {
    return null;
  }
}

/** Writes the changed views and the feed position in one transaction. */
export async function saveCache(
  me: Omit<Me, 'csrfToken'>,
  changed: readonly SignalView[],
  lastSeq: number,
  cursor: number | null,
  replaceAll: boolean,
): Promise<void> {
  try {
    const database = await open();
    const tx = database.transaction(['signals', 'meta'], 'readwrite');
    const signals = tx.objectStore('signals');
    if (replaceAll) await signals.clear();
    for (const view of changed) void signals.put(view);
    void tx.objectStore('meta').put({ userId: me.user.id, lastSeq, cursor, me }, 'state');
    await tx.done;
  } catch {
    // A full or unavailable disk only costs the instant start; the server still has everything.
  }
}

export async function clearCache(): Promise<void> {
  try {
    const database = await open();
    const tx = database.transaction(['signals', 'meta'], 'readwrite');
    await Promise.all([tx.objectStore('signals').clear(), tx.objectStore('meta').clear(), tx.done]);
  } catch {
    // Nothing to clear.
  }
}
