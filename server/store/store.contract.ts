/**
 * The contract every Store implementation passes (run by store.test.ts against SQLite and
 * PostgreSQL). It checks the guarantees `store.ts` promises, against a real database:
 * gap-free commit-ordered seq under concurrent appends from several connections, durable
 * all-or-nothing appends, idempotency, guards inside the transaction, immutability enforced
 * by the database itself, the hash chain, filtered reads, import, and account semantics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SignalData, StoredEvent } from '../../shared/events.js';
import { AppError, conflict } from '../core/errors.js';
import { ChainVerifier } from '../core/hash-chain.js';
import { SETUP_CODE_SETTING, TABLES, type EventDraft, type Store } from './store.js';

/** One fresh, migrated database and ways to reach it besides `store`. */
export interface StoreHarness {
  store: Store;
  /** Another store on the same database: another connection, as a second node would have. */
  openAnother(): Promise<Store>;
  /**
   * Whether writers on several connections may run in this one process. False for SQLite:
   * a second connection's write waits for the lock by blocking the thread (busy_timeout),
   * which also holds the first connection's commit; there, concurrent appends share one
   * connection (several writers are several processes, which the crash suites cover).
   */
  concurrentWriters: boolean;
  /** Runs raw SQL on the database, bypassing the store (to prove the database itself refuses). */
  execute(statement: string): Promise<void>;
  /** The names of the database's tables, as its catalogue lists them. */
  tables(): Promise<string[]>;
  /** Closes everything opened and drops the database. */
  destroy(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreHarness>;

const data = (overrides: Partial<SignalData> = {}): SignalData => ({
  symbol: 'BTCUSDT',
  market: 'crypto',
  side: 'buy',
  entry: 100,
  stopLoss: 95,
  takeProfits: [105, 110],
  ...overrides,
});

const created = (channel: string, author = 'admin-1', overrides: Partial<SignalData> = {}): EventDraft => ({
  type: 'signal.created',
  channel,
  author,
  data: data(overrides),
});

async function allEvents(store: Store): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (;;) {
    const page = await store.readEvents({ after: out.at(-1)?.seq ?? 0, limit: 500, channels: 'all' });
    out.push(...page);
    if (page.length < 500) return out;
  }
}

function verifyChain(events: readonly StoredEvent[]): void {
  const verifier = new ChainVerifier(true);
  for (const event of events) assert.equal(verifier.check(event), null, `event seq ${event.seq}`);
}

async function rejectsWith(promise: Promise<unknown>, status: number, code?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.status, status);
    if (code) assert.equal(error.code, code);
    return true;
  });
}

/** `n` stores to write through at once, beside `store`; `close()` closes what was opened. */
async function writersBeside(h: StoreHarness, n: number): Promise<{ others: Store[]; close(): Promise<void> }> {
  if (!h.concurrentWriters) return { others: Array.from({ length: n }, () => h.store), close: async () => {} };
  const others = await Promise.all(Array.from({ length: n }, () => h.openAnother()));
  return { others, close: async () => void (await Promise.all(others.map((s) => s.close()))) };
}

async function user(store: Store, role: 'admin' | 'subscriber', email: string) {
  return store.createUser({ email, name: null, role, passwordHash: 'x' });
}

export function runStoreContract(
  name: string,
  factory: StoreFactory,
  options: { skip?: () => Promise<string | false> } = {},
): void {
  describe(`store contract: ${name}`, async () => {
    const skip = options.skip ? await options.skip() : false;
    let h: StoreHarness;
    let store: Store;
    before(async () => {
      if (skip) return;
      h = await factory();
      store = h.store;
      await store.createChannel({ slug: 'gold', name: 'Gold', description: null });
      await store.createChannel({ slug: 'silver', name: 'Silver', description: null });
    });
    after(async () => {
      if (!skip) await h.destroy();
    });
    const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);

    it('migrate is idempotent', async () => {
      assert.equal(await store.migrate(), 0);
      await store.ping();
    });

    it('append assigns the next seq, hashes the chain and derives the signal', async () => {
      const head = await store.headSeq();
      const a = await store.append(created('gold'));
      const b = await store.append(created('gold', 'admin-1', { symbol: 'ETHUSDT' }));
      assert.equal(a.event.seq, head + 1);
      assert.equal(b.event.seq, head + 2);
      assert.equal(b.event.prevHash, a.event.hash);
      assert.equal(a.replayed, false);
      assert.equal(await store.headSeq(), head + 2);
      assert.equal(a.signal.status, 'open');
      assert.equal((await store.getSignal(b.event.id))?.symbol, 'ETHUSDT');
      const heads = await store.channelHeads();
      assert.deepEqual(
        heads.find((x) => x.channel === 'gold'),
        { channel: 'gold', seq: b.event.seq, hash: b.event.hash, createdAt: b.event.createdAt },
      );
      verifyChain(await allEvents(store));
    });

    it('concurrent appends from several connections get gap-free, commit-ordered seqs', async () => {
      const { others, close } = await writersBeside(h, 2);
      const observer = await h.openAnother();
      const writers = [store, ...others];
      const start = await store.headSeq();
      const total = 60;
      // A reader polling the log while the writers race must never observe a seq jump:
      // whatever it sees after `seen` starts at seen + 1 and is contiguous.
      let writing = true;
      let seen = start;
      const problems: string[] = [];
      const reader = (async () => {
        while (writing || seen < start + total) {
          // Only a read begun after every append was acknowledged must see them all.
          const finished = !writing;
          const page = await observer.readEvents({ after: seen, limit: 1000, channels: 'all' });
          for (const event of page) {
            if (event.seq !== seen + 1) problems.push(`saw seq ${event.seq} right after ${seen}`);
            seen = event.seq;
          }
          if (finished && page.length === 0 && seen < start + total) problems.push(`stopped at ${seen}`);
          if (finished && page.length === 0) break;
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      let results: Awaited<ReturnType<Store['append']>>[];
      try {
        results = await Promise.all(
          Array.from({ length: total }, (_, i) =>
            writers[i % writers.length]!.append(created(i % 2 ? 'gold' : 'silver', `admin-${i % 8}`)),
          ),
        );
      } finally {
        writing = false;
        await reader.catch(() => {});
        await close();
        await observer.close();
      }
      await reader;
      assert.deepEqual(problems, []);
      const seqs = results.map((r) => r.event.seq).sort((x, y) => x - y);
      assert.deepEqual(
        seqs,
        Array.from({ length: total }, (_, i) => start + 1 + i),
      );
      verifyChain(await allEvents(store));
    });

    it('an acknowledged append is durable: a new connection reads it', async () => {
      const { event } = await store.append(created('silver'));
      const another = await h.openAnother();
      try {
        const [read] = await another.readEvents({ after: event.seq - 1, upTo: event.seq, limit: 1, channels: 'all' });
        assert.deepEqual(read, event);
      } finally {
        await another.close();
      }
    });

    it('a failed append writes nothing: no seq is used, no signal changes', async () => {
      const { event } = await store.append(created('gold'));
      const head = await store.headSeq();
      await rejectsWith(
        store.append(
          { type: 'signal.updated', signalId: event.id, author: 'a', data: { type: 'closed' } },
          {
            guard: () => {
              throw conflict('nope', 'refused by the guard');
            },
          },
        ),
        409,
        'nope',
      );
      await rejectsWith(
        store.append({ type: 'signal.updated', signalId: 'missing', author: 'a', data: { type: 'note' } }),
        404,
      );
      assert.equal(await store.headSeq(), head);
      assert.equal((await store.getSignal(event.id))?.status, 'open');
      const next = await store.append(created('gold'));
      assert.equal(next.event.seq, head + 1);
    });

    it('an idempotency key returns the original; a different body with the same key is a 409', async () => {
      const idem = { actorId: 'admin-1', key: 'k-1', requestHash: 'h-1' };
      const first = await store.append(created('gold'), { idempotency: idem });
      const head = await store.headSeq();
      const again = await store.append(created('gold'), { idempotency: idem });
      assert.equal(again.replayed, true);
      assert.deepEqual(again.event, first.event);
      assert.equal(await store.headSeq(), head);
      await rejectsWith(
        store.append(created('gold'), { idempotency: { ...idem, requestHash: 'h-2' } }),
        409,
        'idempotency_conflict',
      );
      // The same key from another actor is another request.
      const other = await store.append(created('gold'), { idempotency: { ...idem, actorId: 'admin-2' } });
      assert.equal(other.replayed, false);

      // Concurrent retries of one request from several connections: one event, all agree.
      const { others, close } = await writersBeside(h, 2);
      const race = { actorId: 'admin-1', key: 'k-race', requestHash: 'h-race' };
      const results = await Promise.all(
        [store, ...others, store, ...others].map((s) => s.append(created('gold'), { idempotency: race })),
      );
      await close();
      assert.equal(new Set(results.map((r) => r.event.id)).size, 1);
      assert.equal(results.filter((r) => !r.replayed).length, 1);
    });

    it('the guard runs inside the transaction: two concurrent terminal updates cannot both pass', async () => {
      const { others, close } = await writersBeside(h, 2);
      try {
        for (let round = 0; round < 5; round++) {
          const { event } = await store.append(created('gold'));
          const guard = (current: { status: string }) => {
            if (current.status !== 'open') throw conflict('invalid_transition', `already ${current.status}`);
          };
          const attempts = await Promise.allSettled(
            [store, ...others].map((s, i) =>
              s.append(
                {
                  type: 'signal.updated',
                  signalId: event.id,
                  author: 'a',
                  data: { type: i % 2 ? 'closed' : 'cancelled' },
                },
                { guard },
              ),
            ),
          );
          assert.equal(attempts.filter((a) => a.status === 'fulfilled').length, 1, `round ${round}`);
          for (const a of attempts) {
            if (a.status === 'rejected') assert.equal((a.reason as AppError).status, 409);
          }
          const events = await store.eventsOfSignal(event.id);
          assert.equal(events.length, 2);
        }
      } finally {
        await close();
      }
    });

    it('the database itself refuses UPDATE and DELETE on events', async () => {
      const before = await allEvents(store);
      assert.ok(before.length > 0);
      await assert.rejects(h.execute(`UPDATE events SET author = 'mallory'`), /append-only/);
      await assert.rejects(h.execute(`UPDATE events SET data = '{}' WHERE seq = 1`), /append-only/);
      await assert.rejects(h.execute(`DELETE FROM events WHERE seq = 1`), /append-only/);
      await assert.rejects(h.execute(`DELETE FROM events`), /append-only/);
      assert.deepEqual(await allEvents(store), before);
    });

    it('readEvents filters by channel scope, after, upTo and limit, in seq order', async () => {
      const everything = await allEvents(store);
      const gold = await store.readEvents({ after: 0, limit: 10_000, channels: ['gold'] });
      assert.deepEqual(
        gold,
        everything.filter((e) => e.channel === 'gold'),
      );
      assert.deepEqual(await store.readEvents({ after: 0, limit: 10, channels: [] }), []);
      assert.deepEqual(await store.readEvents({ after: 0, limit: 10, channels: ['nowhere'] }), []);
      const both = await store.readEvents({ after: 0, limit: 10_000, channels: ['gold', 'silver'] });
      assert.deepEqual(both, everything);
      const window = await store.readEvents({ after: 3, upTo: 7, limit: 100, channels: 'all' });
      assert.deepEqual(
        window.map((e) => e.seq),
        [4, 5, 6, 7],
      );
      const limited = await store.readEvents({ after: 3, limit: 2, channels: 'all' });
      assert.deepEqual(
        limited.map((e) => e.seq),
        [4, 5],
      );
      const silverUpTo = await store.readEvents({ after: 0, upTo: 10, limit: 100, channels: ['silver'] });
      assert.deepEqual(
        silverUpTo,
        everything.filter((e) => e.channel === 'silver' && e.seq <= 10),
      );
    });

    it('countEvents counts in scope after a seq, up to a cap', async () => {
      const everything = await allEvents(store);
      const goldAfter3 = everything.filter((e) => e.channel === 'gold' && e.seq > 3).length;
      assert.ok(goldAfter3 > 1, 'the fixture has gold events to count');
      assert.equal(await store.countEvents({ after: 3, channels: ['gold'], cap: 10_000 }), goldAfter3);
      assert.equal(await store.countEvents({ after: 0, channels: 'all', cap: 10_000 }), everything.length);
      assert.equal(await store.countEvents({ after: 0, channels: 'all', cap: 2 }), 2);
      assert.equal(await store.countEvents({ after: 0, channels: [], cap: 10 }), 0);
    });

    it('signals: updates derive the state; listing honours the channel scope', async () => {
      const { event } = await store.append(created('silver', 'admin-1', { symbol: 'XAGUSD', market: 'commodities' }));
      await store.append({
        type: 'signal.updated',
        signalId: event.id,
        author: 'a',
        data: { type: 'tp_hit', level: 1 },
      });
      const signal = await store.getSignal(event.id);
      assert.equal(signal?.status, 'tp_hit');
      assert.equal(signal?.channel, 'silver');
      const timeline = await store.eventsOfSignal(event.id);
      assert.deepEqual(
        timeline.map((e) => e.type),
        ['signal.created', 'signal.updated'],
      );
      const query = { limit: 100 } as Parameters<Store['listSignals']>[0];
      const goldOnly = await store.listSignals(query, ['gold']);
      assert.ok(goldOnly.length > 0 && goldOnly.every((s) => s.channel === 'gold'));
      assert.deepEqual(await store.listSignals(query, []), []);
      const found = await store.listSignals({ ...query, symbol: 'xagusd' }, 'all');
      assert.deepEqual(
        found.map((s) => s.id),
        [event.id],
      );
    });

    it('search finds substrings whatever their case, takes % and _ literally, and stays in scope', async () => {
      const notes = ['Breakout above 100% of range', 'wedge_break on the daily', 'BTC/USDT Long setup', 'plain'];
      const ids: string[] = [];
      for (const [i, text] of notes.entries()) {
        const { event } = await store.append(
          created(i === 2 ? 'silver' : 'gold', 'admin-1', { notes: text, symbol: `SRCH${i}` }),
        );
        ids.push(event.id);
      }
      const search = async (q: string, scope: 'all' | string[] = 'all') =>
        (await store.listSignals({ limit: 500, q } as Parameters<Store['listSignals']>[0], scope))
          .map((s) => s.id)
          .filter((id) => ids.includes(id))
          .sort();
      assert.deepEqual(await search('BREAK'), [ids[0], ids[1]].sort());
      assert.deepEqual(await search('100%'), [ids[0]]);
      assert.deepEqual(await search('%'), [ids[0]], '% is a character, not a wildcard');
      assert.deepEqual(await search('e_b'), [ids[1]], '_ is a character, not a wildcard');
      assert.deepEqual(await search('c/usdt l'), [ids[2]]);
      assert.deepEqual(await search('c/usdt l', ['gold']), [], 'a match outside the scope is not found');
      assert.deepEqual(await search('zz'), []);
      assert.deepEqual(await search('la'), [ids[3]].sort(), 'two characters search too');
      assert.deepEqual(await search('"quoted'), []);
    });

    it('importEvents copies a log verbatim, chain intact, and refuses what does not extend it', async () => {
      const source = await allEvents(store);
      const target = await factory();
      try {
        await rejectsWith(target.store.importEvents(source.slice(1)), 409, 'import_out_of_order');
        const tampered = source.slice(0, 3).map((e, i) => (i === 2 ? { ...e, prevHash: 'f'.repeat(64) } : e));
        await rejectsWith(target.store.importEvents(tampered), 409, 'import_chain_mismatch');
        assert.equal(await target.store.headSeq(), 0, 'a refused import writes nothing');

        await target.store.importEvents(source.slice(0, 10));
        await target.store.importEvents(source.slice(10));
        const copied = await allEvents(target.store);
        assert.deepEqual(copied, source);
        verifyChain(copied);
        assert.deepEqual(await target.store.channelHeads(), await store.channelHeads());
        assert.equal(await target.store.headSeq(), source.at(-1)!.seq);
        const next = await target.store.append(created('gold'));
        assert.equal(next.event.seq, source.at(-1)!.seq + 1);
        verifyChain(await allEvents(target.store));
        const signalIds = new Set(source.filter((e) => e.type === 'signal.created').map((e) => e.signalId));
        for (const id of signalIds) assert.deepEqual(await target.store.getSignal(id), await store.getSignal(id));
      } finally {
        await target.destroy();
      }
    });

    it('users: unique email, roles, disabling, positions only move forward', async () => {
      const admin = await user(store, 'admin', 'boss@example.test');
      const sub = await user(store, 'subscriber', 'sub@example.test');
      await rejectsWith(user(store, 'subscriber', 'sub@example.test'), 409, 'email_taken');
      assert.equal((await store.findUserByEmail('SUB@example.test'))?.id, sub.id);
      assert.equal((await store.getUser(admin.id))?.role, 'admin');
      assert.equal(await store.countAdmins(), 1);
      assert.deepEqual(
        (await store.listUsers()).map((u) => u.id),
        [admin.id, sub.id],
      );

      await store.setUserName(sub.id, 'Sam');
      assert.equal((await store.getUser(sub.id))?.name, 'Sam');
      await store.setUserDisabled(sub.id, true);
      assert.ok((await store.getUser(sub.id))?.disabledAt);
      await store.setUserDisabled(sub.id, false);
      assert.equal((await store.getUser(sub.id))?.disabledAt, null);

      await store.advancePositions(sub.id, { delivered: 10, read: 5 });
      await store.advancePositions(sub.id, { delivered: 7, read: 8 });
      const moved = await store.getUser(sub.id);
      assert.equal(moved?.deliveredSeq, 10);
      assert.equal(moved?.readSeq, 8);
    });

    it('channels and grants: duplicates refused, grant/revoke report changes, entitlement follows', async () => {
      await rejectsWith(store.createChannel({ slug: 'gold', name: 'again', description: null }), 409, 'channel_exists');
      assert.equal((await store.getChannel('gold'))?.name, 'Gold');
      assert.equal(await store.getChannel('nowhere'), undefined);
      assert.deepEqual(
        (await store.listChannels()).map((c) => c.slug),
        ['gold', 'silver'],
      );
      const admin = (await store.findUserByEmail('boss@example.test'))!;
      const sub = await user(store, 'subscriber', 'granted@example.test');
      assert.equal(await store.grant(sub.id, 'silver'), true);
      assert.equal(await store.grant(sub.id, 'gold'), true);
      assert.equal(await store.grant(sub.id, 'gold'), false);
      assert.deepEqual(await store.channelsOf(sub.id), ['gold', 'silver']);
      const entitled = async (channel: string) => (await store.subscribersOf(channel)).map((u) => u.id).sort();
      // Admins see every channel; even holding a grant they are not counted as its subscribers.
      assert.equal(await store.grant(admin.id, 'gold'), true);
      assert.deepEqual(await entitled('gold'), [sub.id]);
      assert.equal(await store.revoke(sub.id, 'gold'), true);
      assert.equal(await store.revoke(sub.id, 'gold'), false);
      assert.deepEqual(await store.channelsOf(sub.id), ['silver']);
      assert.deepEqual(await entitled('gold'), []);
      await store.setUserDisabled(sub.id, true);
      assert.deepEqual(await entitled('silver'), [], 'disabled users are not counted');
    });

    it('sessions: found by token hash, revoked one by one or per user', async () => {
      const sub = await user(store, 'subscriber', 'sessions@example.test');
      const expiresAt = new Date(Date.now() + 60_000).toISOString();
      await store.createSession({ id: 's-1', tokenHash: 't-1', userId: sub.id, expiresAt });
      await store.createSession({ id: 's-2', tokenHash: 't-2', userId: sub.id, expiresAt });
      await store.createSession({ id: 's-3', tokenHash: 't-3', userId: sub.id, expiresAt });
      const found = await store.findSession('t-1');
      assert.equal(found?.id, 's-1');
      assert.equal(found?.userId, sub.id);
      assert.equal(found?.user.id, sub.id, 'the session comes with its user');
      assert.equal(found?.user.email, 'sessions@example.test');
      assert.equal(found?.revokedAt, null);
      assert.equal(await store.findSession('unknown'), undefined);
      await store.revokeSession('s-1');
      assert.ok((await store.findSession('t-1'))?.revokedAt);
      assert.deepEqual([...(await store.liveSessionIds(sub.id))].sort(), ['s-2', 's-3']);
      assert.equal((await store.findSession('t-2'))?.revokedAt, null);
      await store.revokeUserSessions(sub.id);
      assert.ok((await store.findSession('t-2'))?.revokedAt);
      assert.ok((await store.findSession('t-3'))?.revokedAt);
      assert.equal((await store.liveSessionIds(sub.id)).size, 0);
    });

    it('throttles: concurrent hits each get their own count; a lock stops counting and restarts it', async () => {
      const t0 = 1_900_000_000_000;
      const window = 60_000;
      const writers = await writersBeside(h, 4);
      try {
        const counts = await Promise.all(
          Array.from({ length: 40 }, (_, i) => writers.others[i % 4]!.hitThrottle('account:x', t0, window)),
        );
        assert.deepEqual(
          counts.map((c) => c.attempts).sort((a, b) => a - b),
          Array.from({ length: 40 }, (_, i) => i + 1),
          'every attempt is counted once, none lost to a race',
        );
      } finally {
        await writers.close();
      }
      await store.lockThrottle('account:x', t0, t0 + 5000);
      await store.lockThrottle('account:x', t0, t0 + 9000); // a lock already runs: no second strike
      const locked = await store.hitThrottle('account:x', t0 + 1000, window);
      assert.deepEqual(locked, { attempts: 0, windowStart: t0 + 5000, lockedUntil: t0 + 5000, strikes: 1 });
      const after = await store.hitThrottle('account:x', t0 + 6000, window);
      assert.equal(after.attempts, 1, 'the count starts again when the lock ends');
      assert.equal(after.strikes, 1, 'strikes are remembered for the next lock');
      const later = await store.hitThrottle('account:x', t0 + 5000 + window, window);
      assert.equal(later.attempts, 1, 'a window that ended starts again');
      await store.forgiveThrottle('account:x');
      assert.equal((await store.hitThrottle('account:x', t0 + 5000 + window, window)).attempts, 1);
      await store.clearThrottle('account:x');
      assert.equal((await store.hitThrottle('account:x', t0 + 5000 + window, window)).strikes, 0);
      await store.hitThrottle('address:old', t0 - 10 * window, window);
      assert.equal(await store.purgeThrottles(t0 - window, t0), 1, 'only counters whose window and lock ended go');
    });

    it('settings: the first value stored under a key stays; put overwrites; delete removes', async () => {
      assert.equal(await store.getSetting('k'), undefined);
      const stored = await Promise.all([store.ensureSetting('k', 'first'), store.ensureSetting('k', 'second')]);
      assert.equal(stored[0], stored[1], 'everyone reads back the same value');
      await store.putSetting('k', 'third');
      assert.equal(await store.getSetting('k'), 'third');
      await store.deleteSetting('k');
      assert.equal(await store.getSetting('k'), undefined);
    });

    it('setup: only with the stored code, once, whoever races', async () => {
      // A database of its own: setup is for one with no admin yet.
      const fresh = await factory();
      const target = fresh.store;
      try {
        await target.putSetting(SETUP_CODE_SETTING, 'CODE1234CODE1234');
        const newAdmin = (i: number) => ({
          email: `setup-${i}@example.test`,
          name: null,
          role: 'admin' as const,
          passwordHash: 'x',
        });
        await rejectsWith(target.completeSetup('WRONGCODE', newAdmin(0)), 403, 'setup_code_invalid');
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => target.completeSetup('CODE1234CODE1234', newAdmin(i + 1))),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one admin through setup');
        for (const r of results) {
          if (r.status === 'rejected') assert.equal((r.reason as AppError).code, 'setup_done');
        }
        assert.equal(await target.countAdmins(), 1);
        assert.equal(await target.getSetting(SETUP_CODE_SETTING), undefined, 'the code is consumed');
        await target.putSetting(SETUP_CODE_SETTING, 'AGAINAGAINAGAIN1');
        await rejectsWith(target.completeSetup('AGAINAGAINAGAIN1', newAdmin(99)), 409, 'setup_done');
      } finally {
        await fresh.destroy();
      }
    });

    it('signing keys: the oldest not retired is active; retired keys stay listed; a private half can be dropped', async () => {
      assert.equal(await store.signingKey(), undefined);
      const key = (id: string, createdAt: string) => ({
        id,
        algorithm: 'ed25519',
        publicKey: `pub-${id}`,
        privateKey: `priv-${id}` as string | null,
        createdAt,
        retiredAt: null as string | null,
      });
      await store.addSigningKey(key('k-2', '2026-01-02T00:00:00.000Z'));
      await store.addSigningKey(key('k-1', '2026-01-01T00:00:00.000Z'));
      assert.deepEqual(await store.signingKey(), key('k-1', '2026-01-01T00:00:00.000Z'));
      await store.retireSigningKey('k-1', '2026-02-01T00:00:00.000Z');
      assert.equal((await store.signingKey())?.id, 'k-2');
      await store.forgetPrivateKey('k-2');
      assert.deepEqual(
        (await store.signingKeys()).map((k) => [k.id, k.privateKey, k.retiredAt]),
        [
          ['k-1', 'priv-k-1', '2026-02-01T00:00:00.000Z'],
          ['k-2', null, null],
        ],
      );
    });

    it('signing keys: of nodes racing to claim the first key, one adds it and every one gets it', async () => {
      const fresh = await factory();
      try {
        // Later candidates carry earlier dates, so "oldest wins" alone could not settle the race.
        const candidate = (i: number) => ({
          id: `claim-${i}`,
          algorithm: 'ed25519',
          publicKey: `pub-${i}`,
          privateKey: `priv-${i}`,
          createdAt: new Date(Date.UTC(2026, 0, 10 - i)).toISOString(),
          retiredAt: null,
        });
        const claimed = await Promise.all(
          Array.from({ length: 8 }, (_, i) => fresh.store.claimSigningKey(candidate(i))),
        );
        assert.equal(new Set(claimed.map((k) => k.id)).size, 1, 'every claimant got the same key');
        assert.deepEqual(
          (await fresh.store.signingKeys()).map((k) => k.id),
          [claimed[0]?.id],
        );
        // With a key active, a claim adds nothing.
        assert.equal((await fresh.store.claimSigningKey(candidate(9))).id, claimed[0]?.id);
        assert.equal((await fresh.store.signingKeys()).length, 1);
      } finally {
        await fresh.destroy();
      }
    });

    it('every table is moved, rebuilt or declared transient; exportState → importState copies every row', async () => {
      const classified: ReadonlySet<string> = new Set(Object.values(TABLES).flat());
      const unknown = (await h.tables()).filter((t) => !classified.has(t) && !t.startsWith('signals_search_'));
      assert.deepEqual(unknown, [], 'a table nobody copies: add it to TABLES in store.ts');
      await store.putSetting('copied', 'yes');
      const state = await store.exportState();
      assert.ok(state.users.length > 0 && state.signing_keys.length > 0 && state.settings.length > 0);
      const fresh = await factory();
      try {
        await fresh.store.importState(state);
        assert.deepEqual(await fresh.store.exportState(), state);
      } finally {
        await fresh.destroy();
      }
    });

    it('the whole log still verifies as one contiguous chain', async () => {
      const events = await allEvents(store);
      assert.deepEqual(
        events.map((e) => e.seq),
        Array.from({ length: events.length }, (_, i) => i + 1),
      );
      verifyChain(events);
    });
  });
}
