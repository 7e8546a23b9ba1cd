/**
 * Two real nodes on one PostgreSQL database share the delivery of a webhook destination:
 * exactly one of them works it at a time (the lease), and when that node is killed the other
 * takes over once the lease expires. The receiver ends with every event once by its
 * `webhook-id`, in seq order, whichever node sent it. The System page's view, asked of either
 * node, lists both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipWithoutPostgres } from '../helpers/databases.js';
import { Api, signalBody } from '../helpers/server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { createChannels, createSubscriber, sleep, startCluster, type Cluster } from './helpers/cluster.js';

describe('cluster: destinations and mirrors over two nodes', { skip: await skipWithoutPostgres() }, () => {
  let cluster: Cluster;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await startWebhookReceiver();
    cluster = await startCluster(2, {
      DESTINATIONS_ALLOW_PRIVATE: 'true',
      DESTINATION_LEASE_SECONDS: '3',
      SIGNAL_DESK_TEST_RETRY_SCALE: '0.01',
    });
    await createChannels(cluster.admin, ['gold', 'vip', 'free', 'desk']);
  });
  after(async () => {
    await cluster?.close();
    await receiver?.close();
  });

  test('either node lists both in the System view, in step with the log; subscribers are refused it', async () => {
    for (const node of cluster.nodes) {
      const res = await new Api(node.url, cluster.admin.token).post('/api/signals', signalBody('desk'));
      assert.equal(res.status, 201);
    }
    const head = (await cluster.admin.api.get('/api/system')).body.headSeq as number;
    // Nodes announce themselves every 5 s: wait for a round that saw both publishes.
    for (const node of cluster.nodes) {
      const api = new Api(node.url, cluster.admin.token);
      let view = (await api.get('/api/system')).body;
      const settled = (v: typeof view) =>
        v.nodes.length === 2 && v.nodes.every((n: { headSeq: number }) => n.headSeq >= head);
      for (let i = 0; i < 150 && !settled(view); i++) {
        await sleep(100);
        view = (await api.get('/api/system')).body;
      }
      assert.ok(settled(view), JSON.stringify(view.nodes));
      assert.equal(view.node.store, 'postgres');
      assert.equal(new Set(view.nodes.map((n: { id: string }) => n.id)).size, 2, 'two distinct nodes');
      assert.ok(
        view.nodes.some((n: { id: string }) => n.id === view.node.id),
        'the answering node is listed',
      );
      for (const n of view.nodes) assert.equal(n.lagEvents, 0, `${n.id} announced itself behind`);
    }
    const subscriber = await createSubscriber(cluster.admin, ['desk'], cluster.nodes[1]!.url);
    assert.equal((await subscriber.api.get('/api/system')).status, 403);
  });

  test(
    'one node delivers at a time; killing it hands the destination to the other, losing nothing',
    { timeout: 120_000 },
    async () => {
      const created = await cluster.admin.api.post('/api/destinations', {
        kind: 'webhook',
        name: 'shared',
        url: receiver.url,
        channels: ['gold'],
      });
      assert.equal(created.status, 201);
      receiver.secrets = [created.body.secret];
      const published: number[] = [];
      const publishOn = async (url: string, count: number) => {
        const api = new Api(url, cluster.admin.token);
        for (let i = 0; i < count; i++) {
          const res = await api.post('/api/signals', signalBody('gold'));
          assert.equal(res.status, 201);
          published.push(res.body.seq);
        }
      };
      // Publishes on both nodes; one of them works the destination.
      await publishOn(cluster.nodes[0]!.url, 5);
      await publishOn(cluster.nodes[1]!.url, 5);
      await receiver.waitFor(() => receiver.unique().length >= 10, 20_000);
      const status = await cluster.admin.api.get(`/api/destinations/${created.body.id}`);
      const worker = status.body.worker as string;
      assert.ok(worker, 'a node holds the lease');
      const holder = cluster.nodes.findIndex((n) => n.logs.some((line) => line.includes(`"node":"${worker}"`)));
      assert.ok(holder >= 0, `the lease holder ${worker} is one of the nodes`);
      const other = cluster.nodes[1 - holder]!;

      receiver.delayMs = 50;
      await publishOn(other.url, 10);
      await sleep(150); // the holder is sending
      await cluster.nodes[holder]!.kill('SIGKILL');
      await publishOn(other.url, 5);
      receiver.delayMs = 0;
      await receiver.waitFor(() => receiver.unique().length >= published.length, 30_000);
      assert.deepEqual(
        receiver.unique().map((m) => m.data.seq),
        published,
        'every event once by id, in seq order, across the hand-over',
      );
      // The cursor is written just after the receiver's answers: let it settle.
      const api = new Api(other.url, cluster.admin.token);
      let after = await api.get(`/api/destinations/${created.body.id}`);
      for (let i = 0; i < 50 && after.body.pending > 0; i++) {
        await sleep(100);
        after = await api.get(`/api/destinations/${created.body.id}`);
      }
      assert.equal(after.body.pending, 0, JSON.stringify(after.body));
      assert.ok(
        other.logs.some((line) => line.includes(`"node":"${String(after.body.worker)}"`)),
        'the surviving node works it now',
      );
    },
  );

  test('two nodes release a delayed mirror once', { timeout: 60_000 }, async () => {
    // The node the hand-over test killed stays down: ask one that runs.
    const api = new Api(cluster.nodes.find((n) => n.running)!.url, cluster.admin.token);
    assert.equal(
      (await api.request('PUT', '/api/channels/free/mirror', { origin: 'vip', delaySeconds: 1 })).status,
      200,
    );
    const originals: string[] = [];
    for (let i = 0; i < 6; i++) {
      const node = cluster.nodes.find((n) => n.running)!;
      const res = await new Api(node.url, cluster.admin.token).post('/api/signals', signalBody('vip'));
      assert.equal(res.status, 201);
      originals.push(res.body.id);
    }
    const released = async () => {
      const log = await cluster.store.readEvents({ after: 0, limit: 10_000, channels: ['free'] });
      return log.map((e) => e.data.origin?.id);
    };
    const deadline = Date.now() + 20_000;
    while ((await released()).length < originals.length && Date.now() < deadline) await sleep(200);
    await sleep(2500);
    assert.deepEqual(await released(), originals, 'each original released once, in order');
  });
});
