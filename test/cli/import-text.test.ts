/**
 * `signal-desk import-text` on a real SQLite database, with a server running on it: a file of
 * seven text signals, two of them refused. A dry run reports and writes nothing; a real run
 * publishes the five (the running server delivers them live) and reports the two by line; a
 * second run publishes nothing again.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sqliteDatabase, tempDir, type TestDatabase } from '../helpers/databases.js';
import { buildAdmin, buildChannel, connect, startServer, type Account, type TestServer } from '../helpers/server.js';
import { cli } from './cli.js';

// Blocks start on lines 1, 7, 13, 17, 19, 25 and 30.
const FILE = `🔥 VIP SIGNAL 🔥
BTC/USDT LONG
Entry 64000
SL 63000
TP 65000 66000
---
#ETH/USDT Short 10x
Entry zone: 3100 - 3150
Stop: 3250
Targets: 3000, 2900, 2800

---
SELL EURUSD @ 1.0850
SL 1.0900
TP 1.0800
---
good morning traders, no setups today
---
GOLD BUY 2345
SL 2330
TP1 2360
TP2 2380
---

SOLUSDT LONG
Entry 150
SL 160
TP 170
---
AAPL BUY
Entry 190
SL 185
TP 200
`;

describe('signal-desk import-text', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let dir: ReturnType<typeof tempDir>;
  let server: TestServer;
  let admin: Account;
  let file: string;
  const run = (...extra: string[]) =>
    cli(['import-text', file, '--channel', 'desk', '--market', 'stocks', ...extra], { DATABASE_URL: db.url });
  const signals = async () => (await admin.api.get('/api/signals?channel=desk')).body.items as any[];

  before(async () => {
    db = sqliteDatabase();
    dir = tempDir();
    file = join(dir.path, 'signals.txt');
    writeFileSync(file, FILE.replace(/\n/g, '\r\n')); // as a Windows editor saves it
    server = await startServer({ database: db });
    admin = await buildAdmin(server);
    await buildChannel(admin, 'desk');
  });
  after(async () => {
    await server.close();
    await db.drop();
    dir.remove();
  });

  test('--dry-run reports every block and writes nothing', async () => {
    const result = await run('--dry-run');
    assert.equal(result.code, 1, 'refused blocks make the exit status 1');
    assert.match(result.stdout, /^line 1: valid buy BTC\/USDT \(crypto\) entry 64000/m);
    assert.match(result.stdout, /^line 17: refused\n {2}text: no signal found/m);
    assert.match(
      result.stdout,
      /^line 25: refused\n {2}stopLoss: the stop-loss 160 must be below the entry for a buy/m,
    );
    assert.match(result.stdout, /^line 30: valid buy AAPL \(stocks\)/m);
    assert.match(result.stdout, /dry run: 5 of 7 blocks are valid signals for #desk, 2 refused; nothing was published/);
    assert.match(result.stderr, /2 of 7 blocks were refused/);
    assert.deepEqual(await signals(), []);
    assert.equal((await admin.api.get('/api/events?after=0')).body.headSeq, 0);
  });

  test('a real run publishes the five, reports the two by line, and the running server delivers them', async () => {
    const live = connect(server, { token: admin.token, lastSeq: 0 });
    try {
      await live.waitLive();
      const result = await run();
      assert.equal(result.code, 1);
      assert.match(result.stdout, /published 5 of 7 blocks to #desk: 0 already published, 2 refused/);
      assert.match(result.stdout, /^line 17: refused/m);
      assert.match(result.stdout, /^line 25: refused/m);
      assert.match(result.stdout, /^line 7: published #\d+ sell ETH\/USDT/m);
      assert.match(result.stdout, /^ {2}note: entry zone 3100 – 3150/m);
      assert.match(result.stderr, /publishing: 7\/7 blocks/);
      // On SQLite no bus joins the two processes: the server notices the commits itself.
      await live.waitFor((events) => events.length === 5);
      assert.deepEqual(
        live.events.map((e) => (e.data as { symbol: string }).symbol),
        ['BTC/USDT', 'ETH/USDT', 'EURUSD', 'GOLD', 'AAPL'],
      );
      assert.ok(live.events.every((e) => e.author === 'cli:import-text' && e.channel === 'desk'));
    } finally {
      live.close();
    }
    const stored = await signals();
    assert.equal(stored.length, 5);
    assert.equal(stored.find((s) => s.symbol === 'AAPL').market, 'stocks');
  });

  test('a second run publishes nothing again', async () => {
    const result = await run();
    assert.equal(result.code, 1);
    assert.match(result.stdout, /published 0 of 7 blocks to #desk: 5 already published, 2 refused/);
    assert.match(result.stdout, /^line 1: already published \(#1\)$/m);
    assert.equal((await signals()).length, 5);
    assert.equal((await admin.api.get('/api/events?after=0')).body.headSeq, 5);
  });

  test('an unknown channel or a missing file is one clear error', async () => {
    const unknown = await cli(['import-text', file, '--channel', 'nope'], { DATABASE_URL: db.url });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /channel nope does not exist/);
    assert.equal(unknown.stdout, '');
    const missing = await cli(['import-text', join(dir.path, 'none.txt'), '--channel', 'desk'], {
      DATABASE_URL: db.url,
    });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read/);
  });
});
