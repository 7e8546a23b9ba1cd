/** Signed heads: an untouched export matches, a rewritten one cannot, a forged signature fails. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StoredEvent } from '../../shared/events.js';
import { EventLog, rehash } from '../../test/helpers/event-log.js';
import { signalData } from '../../test/helpers/signal-data.js';
import {
  generateSigningKey,
  publicKeyInfo,
  signHead,
  verifyEventsAgainstHead,
  verifySignedHead,
  type ChainHead,
} from './chain-signer.js';
import { ChainVerifier } from './hash-chain.js';

const key = generateSigningKey();
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();
const data = signalData('BTCUSDT');

/** 10 events over two channels; returns the log and gold's head after its first 6 events. */
function history(): { events: StoredEvent[]; head: ChainHead } {
  const log = new EventLog();
  const a = log.create('gold', { ...data }, at(1)); // 1
  log.create('silver', { ...data }, at(2)); // 2
  const b = log.create('gold', { ...data, symbol: 'ETHUSDT' }, at(3)); // 3
  log.update(a, { type: 'tp_hit', level: 1 }, at(4)); // 4
  log.update(b, { type: 'note', notes: 'holding' }, at(5)); // 5
  const c = log.create('gold', { ...data, symbol: 'SOLUSDT' }, at(6)); // 6
  const last = log.update(b, { type: 'sl_hit' }, at(7)); // 7: gold's head when signed
  // After the signature: more events that must not matter.
  log.update(c, { type: 'closed', price: 101 }, at(8)); // 8
  log.create('silver', { ...data }, at(9)); // 9
  log.create('gold', { ...data }, at(10)); // 10
  return {
    events: log.events,
    head: { channel: 'gold', seq: last.seq, hash: last.hash, createdAt: last.createdAt },
  };
}

/** Whole-file chain check, as `verify` without a head does it. */
function chainVerifies(events: readonly StoredEvent[]): boolean {
  const verifier = new ChainVerifier(false);
  return events.every((e) => verifier.check(e) === null);
}

describe('signed chain heads', () => {
  test('an untouched export passes against a signed head, later events and other channels aside', () => {
    const { events, head } = history();
    const signed = signHead(head, key.privateKeyPem, new Date(Date.UTC(2026, 0, 1, 12, 7, 30)));
    assert.equal(signed.signedAt, '2026-01-01T12:07:30.000Z');
    assert.ok(verifySignedHead(signed, signed.signature, key.publicKeyPem));
    // gold events up to seq 7: 1, 3, 4, 5, 6, 7.
    assert.deepEqual(verifyEventsAgainstHead(events, signed), { ok: true, checked: 6 });
  });

  test('a head signed before a tampering proves it, though the rewritten chain verifies on its own', () => {
    const { events, head } = history();
    const signed = signHead(head, key.privateKeyPem, at(7));
    const tamperings: Record<string, (e: StoredEvent[]) => StoredEvent[]> = {
      'one altered (a loss turned into a win)': (e) =>
        e.map((x) => (x.seq === 7 ? ({ ...x, data: { type: 'tp_hit', level: 1 } } as StoredEvent) : x)),
      'one removed': (e) => e.filter((x) => x.seq !== 4),
      'two swapped': (e) => {
        const [three, four] = [e[2], e[3]] as [StoredEvent, StoredEvent];
        // Times swapped too, so the order looks natural.
        return [
          ...e.slice(0, 2),
          { ...four, seq: 3, createdAt: three.createdAt },
          { ...three, seq: 4, createdAt: four.createdAt },
          ...e.slice(4),
        ];
      },
      'one back-dated': (e) => e.map((x) => (x.seq === 3 ? { ...x, createdAt: at(0) } : x)),
      'the signed event itself removed': (e) => e.filter((x) => x.seq !== 7),
    };
    for (const [name, tamper] of Object.entries(tamperings)) {
      const rewritten = rehash(tamper(events));
      if (name !== 'one back-dated') {
        // The forger recomputed every hash: without the signed head, nothing shows.
        assert.ok(chainVerifies(rewritten), `${name}: the rewritten chain should verify by itself`);
      }
      const check = verifyEventsAgainstHead(rewritten, signed);
      assert.equal(check.ok, false, `${name}: should fail against the signed head`);
      assert.ok(!check.ok && check.problem, `${name}: should name an event`);
    }
    // A forger who keeps seq 7's hash must keep its whole history: the alteration shows.
    const altered = events.map((x) => (x.seq === 3 ? ({ ...x, data: { ...data, entry: 99 } } as StoredEvent) : x));
    const check = verifyEventsAgainstHead(altered, signed);
    assert.ok(!check.ok && check.problem?.seq === 3, JSON.stringify(check));
  });

  test('the message names the missing end and the rewritten hash', () => {
    const { events, head } = history();
    const truncated = verifyEventsAgainstHead(
      events.filter((e) => e.seq < 7),
      head,
    );
    assert.ok(!truncated.ok && /ends at seq 6 but the signed head is at seq 7/.test(truncated.reason));
    const rewritten = verifyEventsAgainstHead(
      rehash(events.map((x) => (x.seq === 1 ? { ...x, author: 'someone-else' } : x))),
      head,
    );
    assert.ok(!rewritten.ok && /rewritten after the head was signed/.test(rewritten.reason));
    assert.ok(!rewritten.ok && rewritten.problem?.seq === 7);
    const empty = verifyEventsAgainstHead([], head);
    assert.ok(!empty.ok && /no event of channel gold/.test(empty.reason));
  });

  test('a forged or mismatched signature fails', () => {
    const { head } = history();
    const signed = signHead(head, key.privateKeyPem, at(7));
    const raw = publicKeyInfo(key.publicKeyPem).raw;
    assert.ok(verifySignedHead(signed, signed.signature, raw), 'the raw base64 key verifies too');
    // Any member changed after signing.
    assert.equal(verifySignedHead({ ...signed, seq: 8 }, signed.signature, key.publicKeyPem), false);
    assert.equal(verifySignedHead({ ...signed, hash: '0'.repeat(64) }, signed.signature, key.publicKeyPem), false);
    assert.equal(verifySignedHead({ ...signed, signedAt: at(59) }, signed.signature, key.publicKeyPem), false);
    assert.equal(verifySignedHead({ ...signed, channel: 'silver' }, signed.signature, key.publicKeyPem), false);
    // Signed by another key: a forger's own signature does not pass for the server's.
    const forger = generateSigningKey();
    const forged = signHead({ ...head, hash: 'f'.repeat(64) }, forger.privateKeyPem, at(7));
    assert.ok(verifySignedHead(forged, forged.signature, forger.publicKeyPem));
    assert.equal(verifySignedHead(forged, forged.signature, key.publicKeyPem), false);
    assert.notEqual(forged.keyFingerprint, signed.keyFingerprint);
    // A flipped bit, garbage and a bad key are failures, not exceptions.
    const bytes = Buffer.from(signed.signature, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    assert.equal(verifySignedHead(signed, bytes.toString('base64'), key.publicKeyPem), false);
    assert.equal(verifySignedHead(signed, 'not a signature', key.publicKeyPem), false);
    assert.equal(verifySignedHead(signed, signed.signature, 'not a key'), false);
  });

  test('the fingerprint is that of the raw key, whichever form it is given in', () => {
    const info = publicKeyInfo(key.publicKeyPem);
    assert.equal(Buffer.from(info.raw, 'base64').length, 32);
    assert.match(info.fingerprint, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(publicKeyInfo(info.raw), info);
    assert.equal(signHead(history().head, key.privateKeyPem, at(7)).keyFingerprint, info.fingerprint);
  });
});
