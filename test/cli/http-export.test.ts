/** `GET /api/export`: the caller's entitled events only, in both formats, verifiable by the CLI. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StoredEvent } from '../../shared/events.js';
import { tempDir } from '../helpers/databases.js';
import {
  Api,
  buildAdmin,
  buildChannel,
  buildSubscriber,
  publish,
  startServer,
  type Account,
  type TestServer,
} from '../helpers/server.js';
import { cli, cliOk } from './cli.js';

const parseNdjson = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StoredEvent);

describe('GET /api/export', () => {
  let server: TestServer;
  let admin: Account;
  let dir: ReturnType<typeof tempDir>;

  before(async () => {
    server = await startServer();
    dir = tempDir();
    admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    await buildChannel(admin, 'silver');
    for (let i = 0; i < 9; i++) await publish(admin, i % 3 === 0 ? 'silver' : 'gold');
  });
  after(async () => {
    await server.close();
    dir.remove();
  });

  test("a subscriber's export holds only its channels and verifies as a partial export", async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['silver'] });
    const res = await sub.api.get<string>('/api/export?format=ndjson');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="signal-desk-.*\.ndjson"/);
    const events = parseNdjson(res.body);
    assert.equal(events.length, 3);
    assert.ok(events.every((e) => e.channel === 'silver'));

    const file = join(dir.path, 'silver.ndjson');
    writeFileSync(file, res.body);
    assert.match((await cliOk(['verify', '--partial', file])).stdout, /^OK .*3 events in 1 channel/m);

    const csv = await sub.api.get<string>('/api/export?format=csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const rows = csv.body.trim().split('\r\n');
    assert.equal(rows.length, 1 + 3);
    assert.ok(rows.slice(1).every((row) => row.split(',')[3] === 'silver'));

    // Asking for a channel it may not see yields nothing, not the channel.
    const other = await sub.api.get<string>('/api/export?channel=gold');
    assert.equal(other.status, 200);
    assert.equal(other.body ?? '', '');
  });

  test("an admin's export is the whole log, byte for byte what the CLI writes", async () => {
    const res = await admin.api.get<string>('/api/export');
    const events = parseNdjson(res.body);
    assert.deepEqual(
      events.map((e) => e.seq),
      Array.from({ length: 9 }, (_, i) => i + 1),
    );
    const file = join(dir.path, 'all.ndjson');
    writeFileSync(file, res.body);
    assert.match((await cliOk(['verify', file])).stdout, /^OK .*9 events in 2 channel/m);
    const fromCli = await cliOk(['export'], { DATABASE_URL: server.database.url });
    assert.equal(fromCli.stdout, res.body);
  });

  test('no credentials give 401 and an unknown format 400', async () => {
    const anon = await new Api(server.url).get('/api/export');
    assert.equal(anon.status, 401);
    const bad = await admin.api.get('/api/export?format=xml');
    assert.equal(bad.status, 400);
    assert.ok(bad.body.error.fields?.format ?? bad.body.error.message);
    const verifyMissing = await cli(['verify', join(dir.path, 'none.csv')]);
    assert.equal(verifyMissing.code, 1);
  });
});
