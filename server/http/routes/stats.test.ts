/** `GET /api/stats` over a real server: figures from the log, filtered by entitlement. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StatsReport } from '../../../shared/stats.js';
import {
  buildAdmin,
  buildChannel,
  buildSubscriber,
  publish,
  startServer,
  type Account,
  type TestServer,
} from '../../../test/helpers/server.js';

/** Stats once the node has delivered up to `seq` (it folds only what it has delivered). */
async function statsAt(account: Account, seq: number, query = ''): Promise<StatsReport> {
  // Bounded in time, not attempts: a loaded machine delivers later, not never.
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    const res = await account.api.get<StatsReport>(`/api/stats${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    if (res.body.upToSeq >= seq) return res.body;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`stats never reached seq ${seq}`);
}

describe('GET /api/stats', () => {
  let server: TestServer;
  let admin: Account;
  let lastSeq = 0;

  before(async () => {
    server = await startServer();
    admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    await buildChannel(admin, 'silver');
    const update = async (id: string, body: Record<string, unknown>) => {
      const res = await admin.api.post(`/api/signals/${id}/updates`, body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      lastSeq = Math.max(lastSeq, res.body.seq as number);
    };
    // gold: a win closed at TP1 (R (110 − 100)/(100 − 95) = 2) and a loss at the stop (R −1).
    const g1 = await publish(admin, 'gold', { symbol: 'XAUUSD', entry: 100, stopLoss: 95, takeProfits: [110] });
    await update(g1.id, { type: 'tp_hit', level: 1 });
    const g2 = await publish(admin, 'gold', { symbol: 'XAUUSD', entry: 100, stopLoss: 95, takeProfits: [110] });
    await update(g2.id, { type: 'sl_hit' });
    // silver: a sell stopped out (R −1) and one left open.
    const s1 = await publish(admin, 'silver', {
      symbol: 'XAGUSD',
      side: 'sell',
      entry: 30,
      stopLoss: 32,
      takeProfits: [26],
    });
    await update(s1.id, { type: 'sl_hit' });
    const s2 = await publish(admin, 'silver', { symbol: 'XAGUSD' });
    lastSeq = Math.max(lastSeq, s2.seq);
  });
  after(() => server.close());

  test("a subscriber's stats cover only its channels", async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['gold'] });
    const stats = await statsAt(sub, lastSeq);
    // gold only: 2 signals, 1 win, 1 loss → 0.5; R 2 − 1 = 1 over 2.
    assert.deepEqual(
      stats.byChannel.map((g) => g.key),
      ['gold'],
    );
    assert.deepEqual(stats.totals, {
      signals: 2,
      open: 0,
      closed: 2,
      cancelled: 0,
      wins: 1,
      losses: 1,
      winRate: 0.5,
      rCount: 2,
      totalR: 1,
      averageR: 0.5,
    });
    assert.deepEqual(
      stats.equity.map((p) => p.cumulativeR),
      [2, 1],
    );
    // Asking for a channel it may not see yields nothing, not the channel's figures.
    const silver = await statsAt(sub, lastSeq, '?channel=silver');
    assert.equal(silver.totals.signals, 0);
    assert.deepEqual(silver.equity, []);
  });

  test('an admin sees every channel, and filters apply', async () => {
    const stats = await statsAt(admin, lastSeq);
    // gold 2 + silver 2; wins 1; losses gold 1 + silver 1; R 2 − 1 − 1 = 0 over 3.
    assert.deepEqual(
      stats.byChannel.map((g) => [g.key, g.signals]),
      [
        ['gold', 2],
        ['silver', 2],
      ],
    );
    assert.equal(stats.totals.open, 1);
    assert.equal(stats.totals.losses, 2);
    assert.equal(stats.totals.totalR, 0);
    assert.equal(stats.totals.averageR, 0);
    const silver = await statsAt(admin, lastSeq, '?symbol=xagusd');
    assert.equal(silver.totals.signals, 2);
    assert.equal(silver.totals.totalR, -1);
    const future = await statsAt(admin, lastSeq, '?from=2999-01-01');
    assert.equal(future.totals.signals, 0);
  });

  test('bad filters are rejected with per-field messages; no session is 401', async () => {
    const res = await admin.api.get('/api/stats?from=yesterday&market=gold');
    assert.equal(res.status, 400);
    assert.deepEqual(Object.keys(res.body.error.fields).sort(), ['from', 'market']);
    const anon = await fetch(`${server.url}/api/stats`);
    assert.equal(anon.status, 401);
  });
});
