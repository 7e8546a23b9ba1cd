/** The wire payloads of the log's events: what every Socket.IO and SSE client parses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventLog } from '../test/helpers/event-log.js';
import { signalData } from '../test/helpers/signal-data.js';
import { toWire } from './events.js';

test("a new signal's payload is the event with the signal's fields also at the top level, member for member", () => {
  const log = new EventLog();
  const at = '2026-01-01T00:00:00.000Z';
  const plain = log.create('gold', signalData('XAUUSD'), at);
  log.create(
    'gold',
    { ...signalData('BTCUSDT'), source: 'desk', timeframe: '4h', leverage: 3, notes: 'ünïcode "quoted"' },
    at,
  );
  const update = log.update(plain, { type: 'tp_hit', price: 110, level: 1 }, at);
  for (const event of log.events.slice(0, 2)) {
    // The definition, `{ ...data, ...event }`: the same members, in the same order, as bytes.
    assert.equal(JSON.stringify(toWire(event)), JSON.stringify({ ...event.data, ...event }));
  }
  assert.equal(toWire(update), update, 'an update is sent as stored');
});
