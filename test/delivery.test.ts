/** Live delivery, resume after a disconnect, and the replay/live hand-over under races. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  buildAdmin,
  buildChannel,
  buildSubscriber,
  connect,
  publish,
  seqs,
  startServer,
  type Account,
  type TestServer,
} from './helpers/server.js';

describe('real-time delivery', () => {
  let server: TestServer;
  let admin: Account;

  before(async () => {
    server = await startServer();
    admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    await buildChannel(admin, 'silver');
  });
  after(() => server.close());

  test('a publish reaches every entitled subscriber, and no one else', async () => {
    const a = await buildSubscriber(server, admin, { channels: ['gold'] });
    const b = await buildSubscriber(server, admin, { channels: ['gold', 'silver'] });
    const outsider = await buildSubscriber(server, admin, { channels: ['silver'] });
    const clients = [a, b, outsider].map((s) => connect(server, { token: s.token }));
    await Promise.all(clients.map((c) => c.waitLive()));

    const signal = await publish(admin, 'gold', { symbol: 'XAUUSD', market: 'commodities' });
    const [ca, cb, co] = clients as [
      ReturnType<typeof connect>,
      ReturnType<typeof connect>,
      ReturnType<typeof connect>,
    ];
    await ca.waitFor((e) => e.length === 1);
    await cb.waitFor((e) => e.length === 1);
    assert.equal(ca.events[0]?.id, signal.id);
    assert.equal(ca.events[0]?.seq, signal.seq);
    assert.equal((ca.events[0] as unknown as { symbol: string }).symbol, 'XAUUSD');
    // The outsider is live and would have had it by now.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(co.events.length, 0);
    clients.forEach((c) => c.close());
  });

  test('a subscriber offline during 100 publishes gets exactly the missed events, in order, once', async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['gold'] });
    const first = connect(server, { token: sub.token, lastSeq: 0 });
    await first.waitLive();
    const seen = await publish(admin, 'gold');
    await first.waitFor((e) => e.some((x) => x.seq === seen.seq));
    const lastSeq = first.lastSeq();
    first.close();

    const missed: number[] = [];
    for (let i = 0; i < 100; i++) {
      const channel = i % 3 === 0 ? 'silver' : 'gold';
      const s = await publish(admin, channel);
      if (channel === 'gold') missed.push(s.seq);
    }
    const second = connect(server, { token: sub.token, lastSeq });
    await second.waitLive();
    assert.deepEqual(seqs(second.events), missed);
    second.close();
  });

  test('publishes racing with connects and reconnects never show a gap or a duplicate', async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['gold', 'silver'] });
    const start = (await admin.api.get('/api/events?after=0&limit=1')).body.headSeq as number;
    let publishing = true;
    const published: number[] = [];
    const publisher = (async () => {
      let i = 0;
      while (publishing) {
        const s = await publish(admin, i++ % 2 ? 'gold' : 'silver');
        published.push(s.seq);
      }
    })();

    const received: number[] = [];
    let lastSeq = start;
    for (let round = 0; round < 40; round++) {
      const client = connect(server, { token: sub.token, lastSeq });
      await client.waitLive();
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      client.close();
      received.push(...seqs(client.events));
      lastSeq = client.lastSeq();
    }
    publishing = false;
    await publisher;
    const final = connect(server, { token: sub.token, lastSeq });
    await final.waitLive();
    received.push(...seqs(final.events));
    final.close();

    assert.ok(published.length > 40, `only ${published.length} publishes raced`);
    assert.deepEqual(received, published, 'received exactly the published seqs, in order, once');
  });
});
