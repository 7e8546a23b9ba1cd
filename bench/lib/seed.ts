/**
 * Builds signal-desk databases for the benchmark through the store interface, fast:
 * sessions are written directly (thousands of argon2 logins would dominate the run) and
 * the seeding connection skips fsync — the server reopens the file with synchronous=FULL.
 */
import { randomUUID } from 'node:crypto';
import { GENESIS_HASH, type StoredEvent } from '../../shared/events.js';
import { eventHash } from '../../server/core/hash-chain.js';
import { newToken, tokenHash } from '../../server/auth/tokens.js';
import { openSqliteStore, type SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { benchSignal, CHANNEL } from './payload.js';

export interface Seeded {
  adminToken: string;
  /** One session token per subscriber, each a distinct user granted the bench channel. */
  tokens: string[];
}

const FAR_FUTURE = '2999-01-01T00:00:00.000Z';
/** Not an argon2 hash: nobody can log in with it, and the benchmark never needs to. */
const NO_PASSWORD = '!benchmark-user-without-password';

async function session(store: SqliteStore, userId: string): Promise<string> {
  const token = newToken();
  await store.createSession({ id: randomUUID(), tokenHash: tokenHash(token), userId, expiresAt: FAR_FUTURE });
  return token;
}

async function openForSeeding(file: string): Promise<SqliteStore> {
  const store = openSqliteStore(file);
  await store.migrate();
  store.raw.pragma('synchronous = OFF');
  return store;
}

/** An admin, the bench channel and `subscribers` users holding it, with a session each. */
export async function seedAccounts(file: string, subscribers: number): Promise<Seeded> {
  const store = await openForSeeding(file);
  try {
    const admin = await store.createUser({
      email: 'admin@bench.test',
      name: 'Bench admin',
      role: 'admin',
      passwordHash: NO_PASSWORD,
    });
    const adminToken = await session(store, admin.id);
    if (!(await store.getChannel(CHANNEL)))
      await store.createChannel({ slug: CHANNEL, name: 'Benchmark', description: null });
    const tokens: string[] = [];
    const BATCH = 2000;
    for (let start = 0; start < subscribers; start += BATCH) {
      // One transaction per batch: these store calls run on the same connection and use none of their own.
      store.raw.exec('BEGIN');
      for (let i = start; i < Math.min(subscribers, start + BATCH); i++) {
        const user = await store.createUser({
          email: `sub${i}@bench.test`,
          name: null,
          role: 'subscriber',
          passwordHash: NO_PASSWORD,
        });
        await store.grant(user.id, CHANNEL);
        tokens.push(await session(store, user.id));
      }
      store.raw.exec('COMMIT');
    }
    return { adminToken, tokens };
  } finally {
    await store.close();
  }
}

/**
 * Appends `total` signal.created events (a valid hash chain over `channels` channels) with
 * `importEvents`, in large transactions. Returns the head seq.
 */
export async function seedHistory(
  file: string,
  total: number,
  channels = 4,
  onProgress?: (done: number) => void,
): Promise<number> {
  const store = await openForSeeding(file);
  try {
    const author = randomUUID();
    let seq = await store.headSeq();
    const heads = new Map((await store.channelHeads()).map((h) => [h.channel, h.hash]));
    const start = Date.parse('2024-01-01T00:00:00Z');
    const CHUNK = 20_000;
    for (let done = 0; done < total;) {
      const events: StoredEvent[] = [];
      for (const end = Math.min(total, done + CHUNK); done < end; done++) {
        seq++;
        const channel = done % channels === 0 ? CHANNEL : `${CHANNEL}-${done % channels}`;
        const { channel: _, ...data } = benchSignal(done);
        const id = randomUUID();
        const base = {
          seq,
          id,
          type: 'signal.created' as const,
          channel,
          signalId: id,
          author,
          createdAt: new Date(start + seq * 1000).toISOString(),
          data,
          prevHash: heads.get(channel) ?? GENESIS_HASH,
        };
        const event = { ...base, hash: eventHash(base) };
        heads.set(channel, event.hash);
        events.push(event);
      }
      await store.importEvents(events);
      onProgress?.(done);
    }
    return seq;
  } finally {
    await store.close();
  }
}
