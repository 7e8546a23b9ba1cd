/** Waiting for a slow reader leaves no listener behind, and gives up on one that stopped. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { waitForDrain } from './backpressure.js';

/** A stream whose buffer empties only when `drain()` is called. */
function slowStream() {
  let pending: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: 16,
    write(_chunk, _encoding, callback) {
      pending.push(callback);
    },
  });
  return {
    stream,
    drain() {
      const callbacks = pending;
      pending = [];
      for (const callback of callbacks) callback();
    },
  };
}

test('a hundred waits for a drain leave no listener behind', async () => {
  const { stream, drain } = slowStream();
  for (let i = 0; i < 100; i++) {
    while (stream.write('x'.repeat(32))) {
      /* fill the buffer */
    }
    const waited = waitForDrain(stream, 10_000);
    setImmediate(drain);
    assert.equal(await waited, 'drained');
  }
  assert.equal(stream.listenerCount('close'), 0);
  assert.equal(stream.listenerCount('drain'), 0);
});

test('a reader that takes nothing for the stall time is cut off', async () => {
  const { stream } = slowStream();
  stream.write('x'.repeat(32));
  const started = Date.now();
  assert.equal(await waitForDrain(stream, 200), 'stalled');
  assert.ok(Date.now() - started >= 190);
  assert.ok(stream.destroyed);
  assert.equal(await waitForDrain(stream, 200), 'closed');
});
