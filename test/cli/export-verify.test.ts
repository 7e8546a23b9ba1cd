/**
 * export → verify → import, in NDJSON and CSV, on a real SQLite log; and the four ways of
 * tampering with an export (remove, alter, swap, back-date) each caught, naming the event.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StoredEvent } from '../../shared/events.js';
import { sqliteDatabase, tempDir, type TestDatabase } from '../helpers/databases.js';
import { buildAdmin, buildChannel, publish, startServer } from '../helpers/server.js';
import { cli, cliMany, cliOk } from './cli.js';

const readNdjson = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StoredEvent);
const writeNdjson = (file: string, events: readonly StoredEvent[]) =>
  writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''));

describe('signal-desk export, verify and import', () => {
  let db: TestDatabase;
  let dir: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  let events: StoredEvent[];
  const file = (name: string) => join(dir.path, name);

  before(async () => {
    db = sqliteDatabase();
    dir = tempDir();
    env = { DATABASE_URL: db.url };
    const server = await startServer({ database: db });
    const admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    await buildChannel(admin, 'silver');
    for (let i = 0; i < 12; i++) {
      const signal = await publish(admin, i % 3 === 0 ? 'silver' : 'gold', {
        // Quotes, commas and newlines exercise CSV quoting.
        notes: `call ${i}: "entry", then\nwait`,
      });
      if (i % 4 === 1) {
        const res = await admin.api.post(`/api/signals/${signal.id}/updates`, { type: 'tp_hit', level: 1, price: 105 });
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
    }
    await server.close();
  });
  after(async () => {
    await db.drop();
    dir.remove();
  });

  test('an NDJSON export holds the whole log and verifies', async () => {
    const out = await cliOk(['export', '--out', file('log.ndjson')], env);
    assert.match(out.stderr, /exported 15 events/);
    events = readNdjson(file('log.ndjson'));
    assert.deepEqual(
      events.map((e) => e.seq),
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    assert.ok(events.every((e) => /^[0-9a-f]{64}$/.test(e.hash)));
    const verify = await cliOk(['verify', file('log.ndjson')], env);
    assert.match(verify.stdout, /^OK .*15 events in 2 channel/m);
    // The database itself verifies too, with the same heads.
    const dbVerify = await cliOk(['verify'], env);
    const heads = (text: string) => text.split('\n').filter((l) => l.includes('head seq'));
    assert.deepEqual(heads(dbVerify.stdout), heads(verify.stdout));
  });

  test('a CSV export to stdout verifies and rebuilds exactly the same events', async () => {
    const out = await cliOk(['export', '--format', 'csv'], env);
    writeFileSync(file('log.csv'), out.stdout);
    assert.match(out.stdout, /^seq,id,type,channel,signalId,author,createdAt,prevHash,hash,data\r\n/);
    assert.match((await cliOk(['verify', file('log.csv')], env)).stdout, /^OK .*15 events/m);

    const target = sqliteDatabase();
    try {
      const imported = await cliOk(['import', file('log.csv')], { DATABASE_URL: target.url });
      assert.match(imported.stdout, /imported 15 events/);
      await cliOk(['export', '--out', file('reimported.ndjson')], { DATABASE_URL: target.url });
      assert.equal(readFileSync(file('reimported.ndjson'), 'utf8'), readFileSync(file('log.ndjson'), 'utf8'));
    } finally {
      await target.drop();
    }
  });

  test('one channel exports alone and verifies as a partial export', async () => {
    await cliOk(['export', '--channel', 'silver', '--out', file('silver.ndjson')], env);
    const silver = readNdjson(file('silver.ndjson'));
    assert.ok(silver.length > 0 && silver.every((e) => e.channel === 'silver'));
    assert.equal((await cli(['verify', file('silver.ndjson')], env)).code, 1, 'gaps in seq without --partial');
    assert.match((await cliOk(['verify', '--partial', file('silver.ndjson')], env)).stdout, /^OK /m);
  });

  test('removed, altered, swapped and back-dated events fail verify, naming the event', async () => {
    const at = (seq: number) => events.findIndex((e) => e.seq === seq);
    const tampered: Array<{ name: string; events: StoredEvent[]; seq: number; reason: RegExp }> = [];

    const removed = events.filter((e) => e.seq !== 6);
    tampered.push({ name: 'removed', events: removed, seq: 7, reason: /missing/ });

    const altered = events.map((e) =>
      e.seq === 8 ? ({ ...e, data: { ...e.data, notes: 'a better call' } } as StoredEvent) : e,
    );
    tampered.push({ name: 'altered', events: altered, seq: 8, reason: /altered/ });

    const swapped = [...events];
    [swapped[at(4)], swapped[at(5)]] = [swapped[at(5)]!, swapped[at(4)]!];
    tampered.push({ name: 'swapped', events: swapped, seq: 5, reason: /does not follow|missing/ });

    // Back-dated to before the previous event of its own channel.
    const target = events[at(10)]!;
    const previous = events.filter((e) => e.channel === target.channel && e.seq < target.seq).at(-1)!;
    const backdated = events.map((e) =>
      e.seq === 10 ? { ...e, createdAt: new Date(Date.parse(previous.createdAt) - 3600_000).toISOString() } : e,
    );
    tampered.push({ name: 'back-dated', events: backdated, seq: 10, reason: /back-dated/ });

    const results = await Promise.all(
      tampered.map((t) => {
        writeNdjson(file(`${t.name}.ndjson`), t.events);
        return cli(['verify', file(`${t.name}.ndjson`)], env);
      }),
    );
    tampered.forEach((t, i) => {
      const result = results[i]!;
      assert.equal(result.code, 1, `${t.name}: ${result.stdout}`);
      const expected = t.events.find((e) => e.seq === t.seq)!;
      assert.match(
        result.stdout,
        new RegExp(`FAILED .*event seq ${t.seq} \\(id ${expected.id}, channel ${expected.channel}`),
      );
      assert.match(result.stdout, t.reason, `${t.name}: ${result.stdout}`);
    });
  });

  test('import refuses a tampered file, names why, and stores nothing', async () => {
    const target = sqliteDatabase();
    try {
      const tampered = events.map((e) => (e.seq === 12 ? ({ ...e, author: 'someone-else' } as StoredEvent) : e));
      writeNdjson(file('forged.ndjson'), tampered);
      const result = await cli(['import', file('forged.ndjson')], { DATABASE_URL: target.url });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /refusing to import .*event seq 12 .*altered; nothing was written/);
      const verify = await cliOk(['verify'], { DATABASE_URL: target.url });
      assert.match(verify.stdout, /OK database: 0 events/);
    } finally {
      await target.drop();
    }
  });

  test('bad files and options give clear errors', async () => {
    writeFileSync(file('junk.txt'), 'hello world\n');
    writeFileSync(file('broken.ndjson'), `${JSON.stringify(events[0])}\n{"seq": 2, oops\n`);
    writeFileSync(file('bad-header.csv'), 'seq,id,hash\n1,2,3\n');
    const cases: Array<{ args: string[]; env?: Record<string, string>; message: RegExp }> = [
      { args: ['verify', file('missing.ndjson')], message: /cannot read .*missing\.ndjson/ },
      { args: ['verify', file('junk.txt')], message: /neither an NDJSON nor a CSV/ },
      { args: ['verify', file('broken.ndjson')], message: /broken\.ndjson line 2: not valid JSON/ },
      { args: ['import', file('bad-header.csv')], message: /CSV header must be/ },
      { args: ['import', file('log.ndjson')], message: /already holds seq 1\.\.15/ },
      { args: ['export', '--format', 'xml'], message: /xml/ },
      { args: ['export', '--channel', 'nope'], message: /channel nope does not exist/ },
      { args: ['export', '--out', join(dir.path, 'no', 'such', 'dir', 'x.ndjson')], message: /cannot write/ },
      { args: ['verify'], env: { DATABASE_URL: `sqlite:${file('absent.db')}` }, message: /no database at/ },
    ];
    const results = await cliMany(cases.map((c) => ({ args: c.args, env: c.env ?? env })));
    cases.forEach((c, i) => {
      const result = results[i]!;
      assert.equal(result.code, 1, `${c.args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, c.message, c.args.join(' '));
    });
  });
});
