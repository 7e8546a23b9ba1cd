/**
 * `LiveFanout` writes every member each event it may see once, in seq order, however
 * events and membership changes interleave with its sliced walks.
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import type { StoredEvent } from '../../shared/events.js';
import { LiveFanout, type FanoutMember, type Outgoing } from './live-fanout.js';

class TestMember implements FanoutMember {
  /** Seqs written, in order. */
  readonly got: number[] = [];
  /** How many writes carried them. */
  writes = 0;
  /** Its writes throw. */
  broken = false;
  constructor(
    readonly channels: Set<string> | null,
    public sentThrough = 0,
  ) {}
}

function event(seq: number, channel: string): StoredEvent {
  return { seq, channel } as StoredEvent;
}

function fanout(sliceMs = 0, failed: (member: TestMember, error: unknown) => void = () => {}) {
  return new LiveFanout<TestMember, number>({
    encode: (e) => e.seq,
    write: (member, batch: ReadonlyArray<Outgoing<number>>) => {
      if (member.broken) throw new Error('connection reset');
      member.writes++;
      for (const { payload } of batch) member.got.push(payload);
    },
    failed,
    sliceMs,
  });
}

/** Turns of the event loop until every walk has finished. */
async function settle(): Promise<void> {
  for (let i = 0; i < 1000; i++) await nextTurn();
}

test('each member gets every event of its channels once, in order, while events arrive mid-walk', async () => {
  const out = fanout();
  const channels = ['a', 'b', 'c'];
  const members = Array.from({ length: 3000 }, (_, i) => {
    const member = new TestMember(new Set([channels[i % 3]!, channels[(i + 1) % 3]!]));
    out.add(member);
    return member;
  });
  const admin = new TestMember(null);
  out.add(admin);
  const published: StoredEvent[] = [];
  for (let seq = 1; seq <= 60; seq++) {
    const e = event(seq, channels[seq % 3]!);
    published.push(e);
    out.deliver(e);
    // A walk over 3,000 members takes many slices: later events join walks under way.
    if (seq % 4 === 0) await nextTurn();
  }
  await settle();
  for (const member of members) {
    const expected = published.filter((e) => member.channels!.has(e.channel)).map((e) => e.seq);
    assert.deepEqual(member.got, expected);
  }
  assert.deepEqual(
    admin.got,
    published.map((e) => e.seq),
  );
  // Events that joined a walk reached the members it had not visited in the same write.
  const writes = members.reduce((sum, m) => sum + m.writes, 0);
  const deliveries = members.reduce((sum, m) => sum + m.got.length, 0);
  assert.ok(writes < deliveries, `${writes} writes for ${deliveries} deliveries`);
});

test('a walk yields to the event loop between slices', async () => {
  const out = fanout(0);
  const members = Array.from({ length: 5000 }, () => new TestMember(new Set(['a'])));
  for (const member of members) out.add(member);
  out.deliver(event(1, 'a'));
  await nextTurn();
  const done = members.filter((m) => m.got.length === 1).length;
  assert.ok(done > 0 && done < members.length, `${done} of ${members.length} written after one turn`);
  await settle();
  assert.ok(members.every((m) => m.got.length === 1));
});

test('a member that goes live mid-walk gets only what came after its hand-over', async () => {
  const out = fanout();
  const early = Array.from({ length: 2000 }, () => new TestMember(new Set(['a'])));
  for (const member of early) out.add(member);
  out.deliver(event(1, 'a'));
  await nextTurn();
  // Went live with seq 1 in its replay, then 2 arrives while the walk for 1 is under way.
  const late = new TestMember(new Set(['a']), 1);
  out.add(late);
  out.deliver(event(2, 'a'));
  await settle();
  assert.deepEqual(late.got, [2]);
  assert.ok(early.every((m) => m.got.join() === '1,2'));
});

test('a member removed or revoked mid-walk gets nothing more of that channel', async () => {
  const out = fanout();
  const members = Array.from({ length: 2000 }, () => new TestMember(new Set(['a', 'b'])));
  for (const member of members) out.add(member);
  const gone = members.at(-1)!;
  const revoked = members.at(-2)!;
  out.deliver(event(1, 'a'));
  out.deliver(event(2, 'b'));
  await nextTurn();
  out.remove(gone);
  revoked.channels!.delete('b');
  out.exit(revoked, 'b');
  out.deliver(event(3, 'b'));
  await settle();
  assert.deepEqual(gone.got, []);
  assert.deepEqual(revoked.got, [1]);
  assert.deepEqual(members[0]!.got, [1, 2, 3]);
});

test('nothing is written after close', async () => {
  const out = fanout();
  const member = new TestMember(new Set(['a']));
  out.add(member);
  out.deliver(event(1, 'a'));
  out.close();
  out.deliver(event(2, 'a'));
  await settle();
  assert.deepEqual(member.got, []);
});

test('a write that throws drops that member only: the others get every event', async () => {
  const failures: TestMember[] = [];
  const out = fanout(0, (member) => {
    failures.push(member);
    out.remove(member);
  });
  const members = Array.from({ length: 500 }, () => new TestMember(new Set(['a'])));
  for (const member of members) out.add(member);
  const broken = members[100]!;
  broken.broken = true;
  out.deliver(event(1, 'a'));
  await nextTurn();
  out.deliver(event(2, 'a'));
  await settle();
  assert.deepEqual(failures, [broken]);
  assert.ok(members.every((m) => m === broken || m.got.join() === '1,2'));
});
