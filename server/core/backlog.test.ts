/** Long reads take turns on the event loop and are admitted per owner and per node. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Backlog } from './backlog.js';
import { Gate, GateFull } from './gate.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('gate', () => {
  test('runs at most `limit` at once, the rest in order, and refuses past the queue', async () => {
    const gate = new Gate('test', 2, 2);
    const order: number[] = [];
    const releases = await Promise.all([gate.acquire(), gate.acquire()]);
    const waiting = [3, 4].map((n) => gate.acquire().then((release) => (order.push(n), release)));
    await assert.rejects(gate.acquire(), GateFull);
    releases[0]!();
    releases[0]!(); // a second release frees nothing more
    const third = await waiting[0]!;
    assert.deepEqual(order, [3]);
    assert.equal(gate.active, 2);
    releases[1]!();
    (await waiting[1]!)();
    third();
    assert.equal(gate.active, 0);
  });
});

describe('backlog', () => {
  test('hands out one turn per event-loop iteration, first come first served, with I/O between', async () => {
    // The whole loop for the pages: no rest after them, whatever a busy machine makes a turn take.
    const backlog = new Backlog({ share: 1 });
    const seen: string[] = [];
    const reader = async (name: string) => {
      for (let page = 0; page < 3; page++) {
        await backlog.turn();
        seen.push(`${name}${page}`);
      }
    };
    // An immediate queued now stands for the I/O a turn must not hold back.
    const io = async () => {
      for (let i = 0; i < 6; i++) {
        await tick();
        seen.push('io');
      }
    };
    await Promise.all([reader('a'), reader('b'), io()]);
    assert.deepEqual(seen, ['a0', 'io', 'b0', 'io', 'a1', 'io', 'b1', 'io', 'a2', 'io', 'b2', 'io']);
  });

  test('pages take at most their share of the loop: after each, the loop rests in proportion', async () => {
    const backlog = new Backlog({ share: 0.5 });
    const busyFor = (ms: number) => {
      for (const start = performance.now(); performance.now() - start < ms;);
    };
    let working = 0;
    let pages = 0;
    const started = performance.now();
    const reader = async () => {
      while (performance.now() - started < 400) {
        await backlog.turn();
        const t = performance.now();
        busyFor(4); // a page that takes 4 ms of the loop
        working += performance.now() - t;
        pages++;
      }
    };
    // A timer stands for a request: it is served while the readers rest.
    let served = 0;
    const requests = setInterval(() => served++, 2);
    await Promise.all([reader(), reader()]);
    clearInterval(requests);
    const share = working / (performance.now() - started);
    assert.ok(pages >= 10, `the readers went on (${pages} pages)`);
    assert.ok(share <= 0.6, `pages took ${Math.round(share * 100)}% of the loop`);
    assert.ok(served >= pages / 2, `requests were served between pages (${served} for ${pages} pages)`);
  });

  test('admits `perOwner` reads of one user and `perNode` in all; the rest wait, then get in', async () => {
    const backlog = new Backlog({ perNode: 3, perOwner: 2, maxWaiting: 10 });
    const a1 = await backlog.admit('a');
    const a2 = await backlog.admit('a');
    let a3Admitted = false;
    const a3 = backlog.admit('a').then((lease) => ((a3Admitted = true), lease));
    const b1 = await backlog.admit('b'); // another user still gets in
    let b2Admitted = false;
    const b2 = backlog.admit('b').then((lease) => ((b2Admitted = true), lease));
    await tick();
    assert.equal(a3Admitted, false, "a's third waits for one of a's");
    assert.equal(b2Admitted, false, 'the node is full');
    assert.deepEqual(backlog.load, { active: 3, waiting: 1 });
    a1.release();
    await tick();
    // The node's place goes to b's read, which was waiting for one; a's third now has a
    // place among a's and waits for the node's next.
    assert.equal(b2Admitted, true);
    assert.equal(a3Admitted, false);
    b1.release();
    await tick();
    assert.equal(a3Admitted, true);
    (await b2).release();
    a2.release();
    (await a3).release();
    assert.deepEqual(backlog.load, { active: 0, waiting: 0 });
  });

  test('refuses a read when too many already wait', async () => {
    const backlog = new Backlog({ perNode: 1, perOwner: 1, maxWaiting: 1 });
    const first = await backlog.admit('a');
    const second = backlog.admit('b');
    await assert.rejects(backlog.admit('c'), GateFull);
    first.release();
    (await second).release();
  });
});
