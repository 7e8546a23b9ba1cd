/** The System page flags a node that is really behind or silent, not one whose announcement is merely a few seconds old. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SystemNode } from '../../api/types.js';
import { NodeWatch } from './node-health.js';

const node = (id: string, headSeq: number, seenSecondsAgo: number, headNow: number): SystemNode => ({
  id,
  version: '1.0.0',
  headSeq,
  lagEvents: Math.max(0, headNow - headSeq),
  connections: 0,
  startedAt: '2026-03-01T09:00:00.000Z',
  seenSecondsAgo,
});

describe('NodeWatch', () => {
  test('a head announced before the latest publishes is not behind', () => {
    const watch = new NodeWatch();
    watch.update({ headSeq: 10, nodes: [node('a', 10, 0, 10)] }, 0);
    // Twenty publishes since; the node last announced 3 s ago, before them.
    const rows = watch.update({ headSeq: 30, nodes: [node('a', 10, 3, 30)] }, 2_000);
    assert.equal(rows[0]?.flag.kind, 'ok');
    assert.equal(rows[0]?.node.lagEvents, 20, 'the lag is still shown');
  });

  test('a head lower than one the log reached well before the announcement is behind', () => {
    const watch = new NodeWatch();
    watch.update({ headSeq: 30, nodes: [node('a', 30, 0, 30), node('b', 30, 0, 30)] }, 0);
    watch.update({ headSeq: 50, nodes: [node('a', 50, 0, 50), node('b', 30, 1, 50)] }, 2_000);
    // b announced at about 5.5 s still at 30, while the log was at 50 by 2 s.
    const rows = watch.update({ headSeq: 50, nodes: [node('a', 50, 0, 50), node('b', 30, 0, 50)] }, 5_500);
    assert.deepEqual(
      rows.map((r) => [r.node.id, r.flag]),
      [
        ['a', { kind: 'ok' }],
        ['b', { kind: 'behind', behindSeq: 50 }],
      ],
    );
  });

  test('a node unheard of is quiet, then gone once the server stops listing it, and stays on the page', () => {
    const watch = new NodeWatch();
    watch.update({ headSeq: 5, nodes: [node('a', 5, 0, 5), node('b', 5, 0, 5)] }, 0);
    const quiet = watch.update({ headSeq: 5, nodes: [node('a', 5, 0, 5), node('b', 5, 9, 5)] }, 9_000);
    assert.deepEqual(quiet[1]?.flag, { kind: 'quiet', seconds: 9 });
    const gone = watch.update({ headSeq: 5, nodes: [node('a', 5, 1, 5)] }, 16_000);
    assert.deepEqual(
      gone.map((r) => [r.node.id, r.flag.kind]),
      [
        ['a', 'ok'],
        ['b', 'gone'],
      ],
    );
    assert.deepEqual(gone[1]?.flag, { kind: 'gone', lastHeardAt: 0 });
  });

  test('the same snapshot twice (a repeated render) gives the same rows', () => {
    const watch = new NodeWatch();
    const first = watch.update({ headSeq: 1, nodes: [node('a', 1, 0, 1)] }, 100);
    assert.equal(watch.update({ headSeq: 1, nodes: [node('a', 1, 0, 1)] }, 100), first);
  });
});
