/** `FrameCache` encodes each event once and joins a run of consecutive events once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toWire, wireEventName } from '../../shared/events.js';
import { EventLog } from '../../test/helpers/event-log.js';
import { signalData } from '../../test/helpers/signal-data.js';
import { wsTextFrame } from './direct-writer.js';
import { FrameCache, type Frame } from './frame-cache.js';

const log = new EventLog();
for (let i = 0; i < 6; i++) log.create(i % 2 === 0 ? 'even' : 'odd', signalData(`SYM${i}`), '2026-01-01T00:00:00.000Z');

test('an event is framed as its Socket.IO packet, once', () => {
  const cache = new FrameCache();
  const event = log.events[0]!;
  const frame = cache.frame(event);
  assert.deepEqual(frame, wsTextFrame(`42${JSON.stringify([wireEventName(event), toWire(event)])}`));
  assert.equal(cache.frame(event), frame, 'the same buffer again');
});

test('a run of consecutive events is joined once; other batches are joined each time', () => {
  const cache = new FrameCache();
  const batch = (events: typeof log.events): Frame[] => events.map((event) => ({ event, payload: cache.frame(event) }));
  const run = batch(log.events.slice(0, 5)); // seqs 1..5
  const joined = cache.joined(run);
  assert.deepEqual(joined, Buffer.concat(run.map((f) => f.payload)));
  assert.equal(cache.joined(batch(log.events.slice(0, 5))), joined, 'shared by the next socket with the same run');

  // Seqs 1, 3, 5 — one channel's events: the same first and last seq, other bytes.
  const even = batch(log.events.filter((e) => e.channel === 'even'));
  assert.deepEqual(cache.joined(even), Buffer.concat(even.map((f) => f.payload)));

  const single = batch([log.events[0]!]);
  assert.equal(cache.joined(single), single[0]!.payload);
});
