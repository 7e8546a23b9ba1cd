/**
 * The contract every Bus implementation passes (run by bus.test.ts against the in-process
 * bus and the PostgreSQL LISTEN/NOTIFY bus): a message published on any node reaches every
 * subscribed node, this one included, in publish order for one publisher; control messages
 * arrive intact; events too large to travel whole still announce the new head; a node whose
 * transport dropped is told to `resync` once it is back, and receives again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { StoredEvent } from '../../shared/events.js';
import type { Bus, BusMessage } from './bus.js';

export interface BusHarness {
  /** Buses sharing one transport: each stands for one node (the in-process bus: the same one). */
  nodes: readonly Bus[];
  /** Cuts every node's transport from outside (as a database restart would); absent in-process. */
  cutTransport?(): Promise<void>;
  destroy(): Promise<void>;
}

export type BusFactory = () => Promise<BusHarness>;

interface Recorder {
  messages: BusMessage[];
  stop(): void;
  waitFor(predicate: (messages: BusMessage[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

function record(bus: Bus): Recorder {
  const messages: BusMessage[] = [];
  const stop = bus.subscribe((m) => messages.push(m));
  return {
    messages,
    stop,
    waitFor: (predicate, what, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const tick = () => {
          if (predicate(messages)) return resolve();
          if (Date.now() - started > timeoutMs) {
            return reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages).slice(0, 500)}`));
          }
          setTimeout(tick, 5);
        };
        tick();
      }),
  };
}

let seq = 1000;
function event(notes = 'n'): StoredEvent {
  seq++;
  return {
    seq,
    id: `0190-${seq}`,
    type: 'signal.created',
    channel: 'gold',
    signalId: `0190-${seq}`,
    author: 'admin',
    createdAt: new Date().toISOString(),
    data: { symbol: 'XAUUSD', market: 'commodities', side: 'buy', entry: 1, stopLoss: 0.5, takeProfits: [2], notes },
    prevHash: '0'.repeat(64),
    hash: 'a'.repeat(64),
  };
}

const ofKind = <K extends BusMessage['kind']>(messages: BusMessage[], kind: K) =>
  messages.filter((m): m is Extract<BusMessage, { kind: K }> => m.kind === kind);

export function runBusContract(
  name: string,
  factory: BusFactory,
  options: { skip?: () => Promise<string | false> } = {},
): void {
  describe(`bus contract: ${name}`, async () => {
    const skip = options.skip ? await options.skip() : false;
    let h: BusHarness;
    before(async () => {
      if (!skip) h = await factory();
    });
    after(async () => {
      if (!skip) await h.destroy();
    });
    const it = (title: string, fn: (t: TestContext) => Promise<void>) => test(title, { skip }, fn);

    it('an event published on one node reaches every node, the publisher included', async () => {
      const recorders = h.nodes.map(record);
      const sent = event();
      await h.nodes[0]!.publish({ kind: 'events', events: [sent] });
      for (const r of recorders) {
        await r.waitFor((m) => ofKind(m, 'events').length > 0, 'the event');
        assert.deepEqual(ofKind(r.messages, 'events'), [{ kind: 'events', events: [sent] }]);
        r.stop();
      }
    });

    it('control messages arrive intact on every node', async () => {
      const recorders = h.nodes.map(record);
      const control: BusMessage[] = [
        { kind: 'access', userId: 'u-1', channel: 'gold', change: 'revoked' },
        { kind: 'access', userId: 'u-1', channel: 'silver', change: 'granted' },
        { kind: 'channel', slug: 'platinum' },
        { kind: 'disconnect', sessionId: 's-1', reason: 'logged out' },
        { kind: 'disconnect', userId: 'u-2', reason: 'account disabled' },
        { kind: 'head', seq: 77 },
      ];
      const from = h.nodes[h.nodes.length - 1]!;
      for (const m of control) await from.publish(m);
      for (const r of recorders) {
        await r.waitFor((m) => m.filter((x) => x.kind !== 'resync').length >= control.length, 'control messages');
        assert.deepEqual(
          r.messages.filter((x) => x.kind !== 'resync'),
          control,
          'in publish order',
        );
        r.stop();
      }
    });

    it('many publishes from one node arrive once each, in order', async () => {
      const recorders = h.nodes.map(record);
      const sent = Array.from({ length: 50 }, () => event());
      for (const e of sent) await h.nodes[0]!.publish({ kind: 'events', events: [e] });
      for (const r of recorders) {
        await r.waitFor((m) => ofKind(m, 'events').length >= sent.length, 'fifty events');
        assert.deepEqual(
          ofKind(r.messages, 'events').flatMap((m) => m.events.map((e) => e.seq)),
          sent.map((e) => e.seq),
        );
        r.stop();
      }
    });

    it('events too large to travel whole still announce the new head', async () => {
      const recorders = h.nodes.map(record);
      // Multi-byte text: fewer characters than the limit, more bytes.
      const big = [event('€'.repeat(1000)), event('ü'.repeat(4000))];
      await h.nodes[0]!.publish({ kind: 'events', events: big });
      for (const r of recorders) {
        await r.waitFor((m) => m.some((x) => x.kind === 'events' || x.kind === 'head'), 'the big events');
        const got = r.messages.find((x) => x.kind === 'events' || x.kind === 'head')!;
        if (got.kind === 'events') assert.deepEqual(got.events, big);
        else assert.equal(got.kind === 'head' && got.seq, big[1]!.seq);
        r.stop();
      }
    });

    it('an unsubscribed handler receives nothing more', async () => {
      const gone = record(h.nodes[0]!);
      gone.stop();
      const still = record(h.nodes[0]!);
      await h.nodes[0]!.publish({ kind: 'channel', slug: 'after-unsubscribe' });
      await still.waitFor((m) => m.some((x) => x.kind === 'channel'), 'the message');
      assert.deepEqual(gone.messages, []);
      still.stop();
    });

    it('after the transport is cut, every node says resync and receives again', async (t) => {
      if (!h.cutTransport) return t.skip('the in-process bus has no transport to cut');
      const recorders = h.nodes.map(record);
      await h.cutTransport();
      for (const r of recorders) await r.waitFor((m) => m.some((x) => x.kind === 'resync'), 'resync', 10_000);
      const sent = event();
      await h.nodes[0]!.publish({ kind: 'events', events: [sent] });
      for (const r of recorders) {
        await r.waitFor((m) => ofKind(m, 'events').length > 0, 'the event after reconnecting');
        assert.deepEqual(ofKind(r.messages, 'events')[0]!.events, [sent]);
        r.stop();
      }
    });
  });
}
