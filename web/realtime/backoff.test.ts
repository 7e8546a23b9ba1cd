import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

test('the delay doubles per attempt up to the cap, and jitter keeps it within [half, full]', () => {
  const options = { baseMs: 500, maxMs: 8000 };
  const low = (attempt: number) => backoffDelay(attempt, options, () => 0);
  const high = (attempt: number) => backoffDelay(attempt, options, () => 1);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(high), [500, 1000, 2000, 4000, 8000, 8000]);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(low), [250, 500, 1000, 2000, 4000, 4000]);
});

test('two clients on the same attempt spread out instead of retrying together', () => {
  const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, DEFAULT_BACKOFF)));
  assert.ok(delays.size > 40, `50 draws gave only ${delays.size} distinct delays`);
  for (const delay of delays) assert.ok(delay >= 2000 && delay <= 4000, `${delay} outside [2000, 4000]`);
});
