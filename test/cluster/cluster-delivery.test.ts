/**
 * Three real nodes on one PostgreSQL database: concurrent publishers on every node (with
 * random pauses while each append holds the log lock), subscribers on every node, and a
 * node killed with SIGKILL mid-stream. Every subscriber must end with exactly the log
 * filtered by its entitlements — no gap, no duplicate, same order everywhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { APPEND_DELAY_ENV } from '../../server/store/postgres/append-delay.js';
import { skipWithoutPostgres } from '../helpers/databases.js';
import { Api } from '../helpers/server.js';
import {
  attemptPublish,
  closeAllSubscribers,
  createChannels,
  readLog,
  sleep,
  startCluster,
  subscribeEverywhere,
  expectEachHasItsPart,
  type Attempt,
  type Cluster,
  type ClusterSubscriber,
} from './helpers/cluster.js';

const CHANNELS = ['gold', 'silver', 'bronze'];
const ENTITLEMENTS: ReadonlyArray<readonly string[]> = [['gold'], ['gold', 'silver'], ['bronze'], ['silver', 'bronze']];

describe('cluster: three nodes on PostgreSQL', { skip: await skipWithoutPostgres() }, () => {
  let cluster: Cluster;
  const urls = () => cluster.nodes.filter((n) => n.running).map((n) => n.url);

  before(async () => {
    // Each append pauses up to 20 ms while holding the log lock: commits interleave with
    // other nodes' attempts as much as they can.
    cluster = await startCluster(3, { [APPEND_DELAY_ENV]: '20' });
    await createChannels(cluster.admin, CHANNELS);
  });
  /** Writers' loops stop when the test ends, however it ends. */
  const run = { publishing: true, aborted: false };
  after(async () => {
    run.publishing = false;
    run.aborted = true;
    closeAllSubscribers();
    await cluster?.close();
  });

  /** Subscribers with every entitlement mix on every node, plus an admin (all channels) on each. */
  const subscribeAll = () => subscribeEverywhere(cluster, urls, ENTITLEMENTS, { withAdmin: true });

  /** Waits until every subscriber has its part of the log, checks it, and returns the log. */
  async function expectComplete(subs: readonly ClusterSubscriber[]) {
    const log = await readLog(cluster.store);
    await expectEachHasItsPart(subs, log);
    return log;
  }

  test(
    '8 concurrent writers across 3 nodes: every subscriber gets its part of the log, in order',
    { timeout: 120_000 },
    async () => {
      const subs = await subscribeAll();
      const writers = Array.from({ length: 8 }, async (_, w) => {
        const attempts: Attempt[] = [];
        for (let i = 0; i < 15; i++) {
          const node = cluster.nodes[(w + i) % 3]!;
          const attempt = await attemptPublish(cluster.admin, node.url, CHANNELS[(w * 7 + i) % 3]!, `w${w}-${i}`);
          attempts.push(attempt);
          // Every fifth signal also gets a lifecycle update, from yet another node.
          if (i % 5 === 4 && attempt.id) {
            const other = new Api(cluster.nodes[(w + i + 1) % 3]!.url, cluster.admin.token);
            const res = await other.post(`/api/signals/${attempt.id}/updates`, {
              type: 'note',
              notes: `note ${w}-${i}`,
            });
            assert.equal(res.status, 201);
          }
          await sleep(Math.random() * 10);
        }
        return attempts;
      });
      const attempts = (await Promise.all(writers)).flat();
      assert.ok(
        attempts.every((a) => a.status === 201),
        JSON.stringify(attempts.filter((a) => a.status !== 201)),
      );

      const log = await expectComplete(subs);
      assert.equal(log.length, 8 * 15 + 8 * 3);
      assert.deepEqual(
        log.map((e) => e.seq),
        log.map((_, i) => i + 1),
      );
      subs.forEach((s) => s.client.close());
    },
  );

  test(
    'a node killed with SIGKILL mid-stream: its subscribers resume elsewhere, nothing acknowledged is lost',
    { timeout: 120_000 },
    async () => {
      const subs = await subscribeAll();
      const victim = cluster.nodes[2]!;
      const victimUrl = victim.url;
      const onVictim = subs.filter((s) => s.client.node === victimUrl);
      assert.ok(onVictim.length > 0);

      const writers = Array.from({ length: 6 }, async (_, w) => {
        const attempts: Attempt[] = [];
        for (let i = 0; run.publishing || (i < 5 && !run.aborted); i++) {
          // Writers keep aiming at every node, the dead one included: those attempts fail.
          const node = cluster.nodes[(w + i) % 3]!;
          attempts.push(await attemptPublish(cluster.admin, node.url, CHANNELS[(w + i) % 3]!, `k${w}-${i}`));
          await sleep(Math.random() * 15);
        }
        return attempts;
      });
      let killed: Awaited<ReturnType<typeof victim.kill>>;
      try {
        await sleep(600);
        killed = await victim.kill('SIGKILL');
        await sleep(1200);
      } finally {
        run.publishing = false;
      }
      const attempts = (await Promise.all(writers)).flat();
      assert.equal(killed?.signal, 'SIGKILL');

      const acknowledged = attempts.filter((a) => a.status === 201);
      assert.ok(acknowledged.length > 20, `only ${acknowledged.length} publishes acknowledged`);
      assert.ok(
        attempts.some((a) => a.node === victimUrl && a.status !== 201),
        'some publishes hit the dead node',
      );
      const log = await expectComplete(subs);
      const bySeq = new Map(log.map((e) => [e.seq, e]));
      for (const a of acknowledged) assert.equal(bySeq.get(a.seq!)?.id, a.id, `acknowledged ${a.key} is in the log`);
      for (const s of onVictim) {
        assert.notEqual(s.client.node, victimUrl, 'moved to a live node');
        assert.ok(s.client.connections >= 2);
      }
      subs.forEach((s) => s.client.close());

      // The node comes back on the same port and serves the whole log again.
      await victim.start();
      assert.equal(victim.url, victimUrl);
      await victim.waitReady();
    },
  );
});
