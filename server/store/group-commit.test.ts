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
