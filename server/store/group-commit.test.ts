/**
 * SQLite group commit: appends made in the same event-loop turn share one transaction, yet
 * each keeps its own outcome — a failing one is rolled back alone (its seq bump too), so the
 * log stays gap-free and the others commit.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../../test/helpers/databases.js';
import { signalData } from '../../test/helpers/signal-data.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

const dir = tempDir('group-commit-');
after(() => dir.remove());

test('appends in one turn commit together; a failing one alone is rolled back', async () => {
  const store = openSqliteStore(join(dir.path, 'group.db'));
  await store.migrate();
  await store.createChannel({ slug: 'fx', name: 'FX', description: null });
  const first = await store.append({ type: 'signal.created', channel: 'fx', author: 'a', data: signalData('EURUSD') });

  const outcomes = await Promise.allSettled([
    store.append({ type: 'signal.created', channel: 'fx', author: 'a', data: signalData('A') }),
    store.append(
      { type: 'signal.updated', signalId: first.event.signalId, author: 'a', data: { type: 'note', notes: 'x' } },
      {
        guard: () => {
          throw new Error('refused by guard');
        },
      },
    ),
    store.append(
      { type: 'signal.created', channel: 'fx', author: 'a', data: signalData('B') },
      {
        idempotency: { actorId: 'a', key: 'k1', requestHash: 'h1' },
      },
    ),
    store.append(
      { type: 'signal.created', channel: 'fx', author: 'a', data: signalData('B') },
      {
        idempotency: { actorId: 'a', key: 'k1', requestHash: 'h1' },
      },
    ),
    store.append({ type: 'signal.created', channel: 'fx', author: 'a', data: signalData('D') }),
  ]);

  const [a, refused, b, bAgain, d] = outcomes;
  assert.equal(refused?.status, 'rejected');
  assert.ok(a?.status === 'fulfilled' && b?.status === 'fulfilled' && d?.status === 'fulfilled');
  assert.ok(bAgain?.status === 'fulfilled' && bAgain.value.replayed, 'the repeated key returns the original');
  assert.equal(bAgain.value.event.id, b.value.event.id);
  assert.deepEqual([a.value.event.seq, b.value.event.seq, d.value.event.seq], [2, 3, 4], 'gap-free, in call order');

  const log = await store.readEvents({ after: 0, limit: 10, channels: 'all' });
  assert.deepEqual(
    log.map((e) => e.seq),
    [1, 2, 3, 4],
  );
  for (let i = 1; i < log.length; i++) assert.equal(log[i]!.prevHash, log[i - 1]!.hash, 'one unbroken hash chain');
  assert.equal(await store.headSeq(), 4);
  await store.close();
});

test('a batch the disk cannot take fails whole with the real error, and the store goes on', async () => {
  const store = openSqliteStore(join(dir.path, 'full.db'));
  await store.migrate();
  await store.createChannel({ slug: 'fx', name: 'FX', description: null });
  await store.append({ type: 'signal.created', channel: 'fx', author: 'a', data: signalData('EURUSD') });
  const pages = Number(store.raw.pragma('page_count', { simple: true }));
  store.raw.pragma(`max_page_count = ${pages}`);

  const big = { ...signalData('BIG'), notes: 'x'.repeat(20_000) };
  const outcomes = await Promise.allSettled(
    ['A', 'B', 'C'].map(() => store.append({ type: 'signal.created', channel: 'fx', author: 'a', data: big })),
  );
  for (const outcome of outcomes) {
    assert.equal(outcome.status, 'rejected');
    assert.match(String((outcome as PromiseRejectedResult).reason), /full/i, 'the cause, not a missing savepoint');
  }
  assert.equal(store.raw.inTransaction, false, 'the connection is left outside any transaction');
  assert.equal(await store.headSeq(), 1, 'nothing of the batch was kept');

  store.raw.pragma('max_page_count = 1073741823');
  const next = await store.append({ type: 'signal.created', channel: 'fx', author: 'a', data: signalData('GBPUSD') });
  assert.equal(next.event.seq, 2, 'the log goes on without a gap');
  await store.close();
});
