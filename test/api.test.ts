/** The HTTP contract: validation, status codes, idempotency, lifecycle rules, immutability. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Api,
  buildAdmin,
  buildChannel,
  buildSubscriber,
  publish,
  signalBody,
  startServer,
  type Account,
  type TestServer,
} from './helpers/server.js';

describe('HTTP API', () => {
  let server: TestServer;
  let admin: Account;
  let subscriber: Account;

  before(async () => {
    server = await startServer();
    admin = await buildAdmin(server);
    await buildChannel(admin, 'fx');
    subscriber = await buildSubscriber(server, admin, { channels: ['fx'] });
  });
  after(() => server.close());

  const head = async () => (await admin.api.get('/api/events?after=0&limit=1')).body.headSeq as number;

  const bad: Array<[string, unknown, string[]]> = [
    ['missing fields', { channel: 'fx' }, ['symbol', 'market', 'side', 'entry', 'stopLoss', 'takeProfits']],
    ['wrong types', { ...signalBody('fx'), entry: '100', takeProfits: 'lots' }, ['entry', 'takeProfits']],
    ['NaN as a string', { ...signalBody('fx'), entry: 'NaN' }, ['entry']],
    ['negative price', { ...signalBody('fx'), stopLoss: -1 }, ['stopLoss']],
    ['zero price', { ...signalBody('fx'), entry: 0 }, ['entry']],
    ['buy with stop above entry', { ...signalBody('fx'), stopLoss: 101 }, ['stopLoss']],
    ['buy with a target below entry', { ...signalBody('fx'), takeProfits: [105, 99] }, ['takeProfits.1']],
    ['sell with buy-ordered prices', { ...signalBody('fx'), side: 'sell' }, ['stopLoss', 'takeProfits.0']],
    ['6 take-profits', { ...signalBody('fx'), takeProfits: [101, 102, 103, 104, 105, 106] }, ['takeProfits']],
    ['no take-profit', { ...signalBody('fx'), takeProfits: [] }, ['takeProfits']],
    ['10 KB notes', { ...signalBody('fx'), notes: 'x'.repeat(10_000) }, ['notes']],
    ['unknown channel', signalBody('no-such-channel'), ['channel']],
    ['badly formed channel', signalBody('Not A Slug'), ['channel']],
    ['extra fields', { ...signalBody('fx'), admin: true, price: 3 }, ['admin', 'price']],
    ['unknown market', { ...signalBody('fx'), market: 'tulips' }, ['market']],
    ['unknown side', { ...signalBody('fx'), side: 'long' }, ['side']],
    ['leverage out of range', { ...signalBody('fx'), leverage: 0 }, ['leverage']],
  ];

  for (const [name, body, fields] of bad) {
    test(`400 with per-field messages and nothing stored: ${name}`, async () => {
      const before = await head();
      const res = await admin.api.post('/api/signals', body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'validation_failed');
      for (const field of fields) {
        assert.equal(
          typeof res.body.error.fields?.[field],
          'string',
          `a message for ${field}: ${JSON.stringify(res.body.error)}`,
        );
      }
      assert.equal(await head(), before);
    });
  }

  test('a body that is not JSON is a 400', async () => {
    const res = await admin.api.request('POST', '/api/signals', '{"entry": NaN}', {
      'content-type': 'application/json',
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'invalid_json');
  });

  test('a 2 MB body is a 413', async () => {
    const res = await admin.api.post('/api/signals', { ...signalBody('fx'), notes: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'payload_too_large');
  });

  test('no token or a bad token is a 401; a subscriber publishing is a 403', async () => {
    assert.equal((await new Api(server.url).post('/api/signals', signalBody('fx'))).status, 401);
    assert.equal((await new Api(server.url, 'forged-token').post('/api/signals', signalBody('fx'))).status, 401);
    const res = await subscriber.api.post('/api/signals', signalBody('fx'));
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'forbidden');
  });

  test('201 returns the stored signal with id, seq and hash; the legacy route publishes too', async () => {
    const res = await admin.api.post(
      '/api/signals',
      signalBody('fx', { symbol: 'eurusd', market: 'forex', notes: '<b>hi</b>' }),
    );
    assert.equal(res.status, 201);
    assert.match(res.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(typeof res.body.seq, 'number');
    assert.match(res.body.hash, /^[0-9a-f]{64}$/);
    assert.equal(res.body.symbol, 'EURUSD');
    assert.equal(res.body.notes, '<b>hi</b>');
    const legacy = await admin.api.post('/api/admin/create-signal', signalBody('fx'));
    assert.equal(legacy.status, 201);
    assert.equal(legacy.body.seq, res.body.seq + 1);
  });

  test('an idempotency key returns the original and appends nothing; another body with it is a 409', async () => {
    const body = signalBody('fx', { idempotencyKey: 'compose-abc-123' });
    const first = await admin.api.post('/api/signals', body);
    const before = await head();
    const again = await admin.api.post('/api/signals', body);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.id, first.body.id);
    assert.equal(await head(), before);
    const clash = await admin.api.post('/api/signals', { ...body, entry: 99 });
    assert.equal(clash.status, 409);
    assert.equal(await head(), before);
  });

  test('lifecycle: levels must exist, terminal signals take only notes, status is derived', async () => {
    const s = await publish(admin, 'fx');
    const update = (body: unknown) => admin.api.post(`/api/signals/${s.id}/updates`, body);
    assert.equal((await update({ type: 'tp_hit' })).status, 400, 'tp_hit needs a level');
    const noLevel = await update({ type: 'tp_hit', level: 4 });
    assert.equal(noLevel.status, 400);
    assert.ok(noLevel.body.error.fields.level);
    const tp1 = await update({ type: 'tp_hit', level: 1 });
    assert.equal(tp1.status, 201);
    assert.equal(tp1.body.signal.status, 'tp_hit');
    assert.equal(tp1.body.signal.tpHit, 1);
    assert.equal((await update({ type: 'tp_hit', level: 1 })).status, 409, 'a level is hit once');
    assert.equal((await update({ type: 'breakeven' })).status, 201);
    const sl = await update({ type: 'sl_hit' });
    assert.equal(sl.body.signal.status, 'sl_hit');
    assert.equal(sl.body.signal.exitPrice, 100, 'stopped at breakeven = entry');
    const late = await update({ type: 'closed', price: 101 });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'invalid_transition');
    assert.equal((await update({ type: 'note', notes: 'post-mortem' })).status, 201);
    const detail = await admin.api.get(`/api/signals/${s.id}`);
    assert.deepEqual(
      detail.body.events.map((e: { type: string; data: { type?: string } }) => e.data.type ?? e.type),
      ['signal.created', 'tp_hit', 'breakeven', 'sl_hit', 'note'],
    );
    assert.equal((await admin.api.post('/api/signals/nope/updates', { type: 'closed' })).status, 404);
  });

  test('no route edits or deletes, and the database refuses UPDATE and DELETE on events', async () => {
    const s = await publish(admin, 'fx');
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const res = await admin.api.request(
        method,
        `/api/signals/${s.id}`,
        method === 'DELETE' ? undefined : { entry: 1 },
      );
      assert.equal(res.status, 404, `${method} /api/signals/:id`);
    }
    const store = server.runtime.store as unknown as {
      raw: { prepare(sql: string): { run(...a: unknown[]): unknown } };
    };
    assert.throws(
      () => store.raw.prepare('UPDATE events SET channel = ? WHERE seq = ?').run('x', s.seq),
      /append-only/,
    );
    assert.throws(() => store.raw.prepare('DELETE FROM events WHERE seq = ?').run(s.seq), /append-only/);
    const still = await admin.api.get(`/api/signals/${s.id}`);
    assert.equal(still.body.events[0].hash, s.hash);
  });

  test('history paginates newest first with filters', async () => {
    for (let i = 0; i < 5; i++)
      await publish(admin, 'fx', {
        symbol: 'GBPUSD',
        market: 'forex',
        side: 'sell',
        entry: 1.3,
        stopLoss: 1.31,
        takeProfits: [1.29],
      });
    const page1 = await subscriber.api.get('/api/signals?symbol=gbpusd&limit=3');
    assert.equal(page1.status, 200);
    assert.equal(page1.body.items.length, 3);
    const page2 = await subscriber.api.get(`/api/signals?symbol=GBPUSD&limit=3&before=${page1.body.nextCursor}`);
    const all = [...page1.body.items, ...page2.body.items].map((s: { seq: number }) => s.seq);
    assert.equal(all.length, 5);
    assert.deepEqual(
      all,
      [...all].sort((a, b) => b - a),
    );
    assert.equal((await subscriber.api.get('/api/signals?side=sideways')).status, 400);
    assert.equal((await subscriber.api.get('/api/signals?limit=100000')).status, 400);
  });

  test('the OpenAPI document is served', async () => {
    const res = await new Api(server.url).get('/api/docs');
    assert.equal(res.status, 200);
    assert.ok(res.body.paths['/api/signals'].post);
  });
});
