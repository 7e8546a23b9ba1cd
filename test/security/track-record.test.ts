/**
 * The statistics cannot be gamed through the API: update prices must fit the signal's levels,
 * a cancel at a losing mark is a loss, and prices too extreme to compare are refused, so the
 * totals are always numbers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  buildAdmin,
  buildChannel,
  publish,
  signalBody,
  startServer,
  type Account,
  type TestServer,
} from '../helpers/server.js';

describe('track record', () => {
  let server: TestServer;
  let admin: Account;

  before(async () => {
    server = await startServer();
    admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
  });
  after(() => server.close());

  test('a take-profit below the entry of a buy is refused, so it cannot count as a win', async () => {
    const { id } = await publish(admin, 'gold', { entry: 100, stopLoss: 90, takeProfits: [110] });
    const res = await admin.api.post(`/api/signals/${id}/updates`, { type: 'tp_hit', level: 1, price: 80 });
    assert.equal(res.status, 400);
    assert.match(res.body.error.fields.price, /above the entry/);
    const stop = await admin.api.post(`/api/signals/${id}/updates`, { type: 'sl_hit', price: 130 });
    assert.equal(stop.status, 400);
    assert.match(stop.body.error.fields.price, /at or below the entry/);
  });

  test('a losing call cancelled at its mark counts as a loss', async () => {
    const { id } = await publish(admin, 'gold', { entry: 100, stopLoss: 90, takeProfits: [110], symbol: 'LOSER' });
    const res = await admin.api.post(`/api/signals/${id}/updates`, { type: 'cancelled', price: 92 });
    assert.equal(res.status, 201);
    const stats = await admin.api.get('/api/stats?symbol=LOSER');
    assert.equal(stats.body.totals.losses, 1);
    assert.equal(stats.body.totals.cancelled, 1);
    assert.equal(stats.body.totals.totalR, -0.8);
  });

  test('prices too extreme to compare are refused; the totals stay numbers', async () => {
    for (const entry of [1e300, 1e-300]) {
      const res = await admin.api.post(
        '/api/signals',
        signalBody('gold', { entry, stopLoss: entry / 2, takeProfits: [entry * 2] }),
      );
      assert.equal(res.status, 400, `entry ${entry}`);
      assert.match(res.body.error.fields.entry, /must be between/);
    }
    const stats = await admin.api.get('/api/stats');
    assert.equal(typeof stats.body.totals.totalR, 'number');
  });
});
