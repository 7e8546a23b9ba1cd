/** The lifecycle rules a provider cannot bend to polish its record (the server and the web app share them). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SignalView } from './events.js';
import { LIMITS } from './limits.js';
import { rejectUpdate } from './signal-state.js';

const published = Date.parse('2026-05-01T12:00:00.000Z');
const view = (overrides: Partial<SignalView> = {}): SignalView => ({
  id: 's',
  channel: 'gold',
  author: 'a',
  createdAt: new Date(published).toISOString(),
  updatedAt: new Date(published).toISOString(),
  seq: 1,
  lastSeq: 1,
  status: 'open',
  tpHit: 0,
  breakeven: false,
  symbol: 'BTCUSDT',
  market: 'crypto',
  side: 'buy',
  entry: 100,
  stopLoss: 90,
  takeProfits: [110, 120],
  ...overrides,
});

describe('lifecycle prices', () => {
  test('a take-profit is hit in profit, a stop at or past the entry on the losing side', () => {
    assert.equal(rejectUpdate(view(), { type: 'tp_hit', level: 1, price: 95 }, published)?.field, 'price');
    assert.equal(rejectUpdate(view(), { type: 'tp_hit', level: 1, price: 111 }, published), null);
    assert.equal(rejectUpdate(view(), { type: 'sl_hit', price: 101 }, published)?.field, 'price');
    assert.equal(rejectUpdate(view(), { type: 'sl_hit', price: 100 }, published), null);
    const sell = view({ side: 'sell', stopLoss: 110, takeProfits: [90] });
    assert.equal(rejectUpdate(sell, { type: 'tp_hit', level: 1, price: 105 }, published)?.field, 'price');
    assert.equal(rejectUpdate(sell, { type: 'sl_hit', price: 99 }, published)?.field, 'price');
  });

  test('an exit price far from the entry is refused', () => {
    const factor = LIMITS.updatePriceFactor;
    assert.equal(rejectUpdate(view(), { type: 'closed', price: 100 * factor * 1.01 }, published)?.field, 'price');
    assert.equal(rejectUpdate(view(), { type: 'closed', price: 100 / factor / 1.01 }, published)?.field, 'price');
    assert.equal(rejectUpdate(view(), { type: 'closed', price: 150 }, published), null);
  });

  test('a cancel needs its mark price once the grace period after publishing is over', () => {
    const later = published + LIMITS.cancelGraceMs + 1;
    assert.equal(rejectUpdate(view(), { type: 'cancelled' }, published + 60_000), null);
    const refused = rejectUpdate(view(), { type: 'cancelled' }, later);
    assert.equal(refused?.field, 'price');
    assert.match(refused?.message ?? '', /mark price/);
    assert.equal(rejectUpdate(view(), { type: 'cancelled', price: 93 }, later), null);
    assert.equal(
      rejectUpdate(view({ tpHit: 1, status: 'tp_hit' }), { type: 'cancelled', price: 93 }, later)?.kind,
      'conflict',
    );
  });
});
