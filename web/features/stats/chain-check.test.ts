/** The browser's chain check agrees with the server's, event by event and on signed heads. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSigningKey, publicKeyInfo, signHead } from '../../../server/core/chain-signer.js';
import type { SignalData, StoredEvent } from '../../../shared/events.js';
import { EventLog, rehash } from '../../../test/helpers/event-log.js';
import { ChainWatch, eventHashInBrowser, signedHeadVerifies } from './chain-check.js';

const data: SignalData = {
  symbol: 'EURUSD',
  market: 'forex',
  side: 'sell',
  entry: 1.1,
  stopLoss: 1.12,
  takeProfits: [1.05],
};
const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 9, minute)).toISOString();

function history(): StoredEvent[] {
  const log = new EventLog();
  const a = log.create('fx', { ...data, notes: 'ünïcode — "quoted" \\ text' }, at(1)); // 1
  log.create('crypto', { ...data, symbol: 'BTCUSDT', market: 'crypto' }, at(2)); // 2
  log.update(a, { type: 'tp_hit', level: 1, price: 1.0501 }, at(3)); // 3
  log.create('fx', { ...data, leverage: 30 }, at(4)); // 4
  log.update(a, { type: 'note', notes: 'done' }, at(5)); // 5
  return log.events;
}

describe('chain check in the browser', () => {
  test('recomputes exactly the hashes the server wrote', async () => {
    for (const event of history()) assert.equal(await eventHashInBrowser(event), event.hash);
  });

  test('an intact log verifies per channel, with the signed head matched', async () => {
    const events = history();
    const key = generateSigningKey();
    const fx = events[3] as StoredEvent; // seq 4, fx
    const head = signHead(fx, key.privateKeyPem, at(6));
    const raw = publicKeyInfo(key.publicKeyPem).raw;
    assert.ok(await signedHeadVerifies(head, raw));
    assert.equal(await signedHeadVerifies({ ...head, seq: 5 }, raw), false);

    const watch = new ChainWatch();
    watch.expect(head, true);
    await watch.feed(events.slice(0, 2));
    assert.equal(watch.channels().find((c) => c.channel === 'fx')?.signed?.state, 'pending');
    await watch.feed(events.slice(1)); // overlapping delivery: seq 2 again is skipped
    assert.deepEqual(
      watch.channels().map((c) => [c.channel, c.state, c.count, c.signed?.state]),
      [
        ['crypto', 'verified', 1, undefined],
        ['fx', 'verified', 4, 'matches'],
      ],
    );
  });

  test('names the first bad event: altered, removed, back-dated, or rewritten after signing', async () => {
    const events = history();
    const firstBad = async (feed: StoredEvent[], expect?: Parameters<ChainWatch['expect']>) => {
      const watch = new ChainWatch();
      if (expect) watch.expect(...expect);
      await watch.feed(feed);
      const fx = watch.channels().find((c) => c.channel === 'fx');
      return fx?.state === 'broken' ? fx.problem : undefined;
    };
    const altered = events.map((e) =>
      e.seq === 3 ? ({ ...e, data: { type: 'tp_hit', level: 1, price: 1.01 } } as StoredEvent) : e,
    );
    assert.match((await firstBad(altered))?.reason ?? '', /altered/);
    assert.equal((await firstBad(altered))?.seq, 3);
    const removed = events.filter((e) => e.seq !== 3);
    assert.equal((await firstBad(removed))?.seq, 4);
    const backdated = events.map((e) => (e.seq === 4 ? { ...e, createdAt: at(0) } : e));
    assert.match((await firstBad(backdated))?.reason ?? '', /back-dated/);
    // Rewritten with every hash recomputed: only the signed head shows it.
    const key = generateSigningKey();
    const head = signHead(events[3] as StoredEvent, key.privateKeyPem, at(6));
    const rewritten = rehash(altered);
    assert.equal(await firstBad(rewritten), undefined);
    const problem = await firstBad(rewritten, [head, true]);
    assert.equal(problem?.seq, 4);
    assert.match(problem?.reason ?? '', /signed seq 4 with another hash/);
  });
});
