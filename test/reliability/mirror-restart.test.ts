/**
 * A mirror's pending releases survive a restart: what is pending is read from the log, not
 * kept in a timer, so a server stopped before the delay ran out releases each original
 * exactly once after it starts again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { StoredEvent } from '../../shared/events.js';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import type { Account } from '../helpers/server.js';
import { createChannels, report, setupAdmin, signalBody, sleep, test } from './support.js';

const dir = tempDir('signal-desk-mirror-');
const server = new ServerProcess({ env: { DATABASE_URL: `sqlite:${join(dir.path, 'mirror.db')}`, PORT: '0' } });
let admin: Account;

before(async () => {
  await server.start();
  admin = await setupAdmin(server);
  await createChannels(admin, ['vip', 'free']);
});
after(async () => {
  await server.stop();
  dir.remove();
});

describe('mirror restart', () => {
  test('releases pending at a stop are made once after the start', async () => {
    assert.equal(
      (await admin.api.request('PUT', '/api/channels/free/mirror', { origin: 'vip', delaySeconds: 3 })).status,
      200,
    );
    const originals: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await admin.api.post('/api/signals', signalBody('vip'));
      assert.equal(res.status, 201);
      originals.push(res.body.id);
    }
    await server.stop();
    await sleep(3500);
    await server.start();
    const released = async () =>
      ((await admin.api.get('/api/events?after=0&limit=1000&channel=free')).body.events as StoredEvent[]).map(
        (e) => e.data.origin?.id,
      );
    const deadline = Date.now() + 15_000;
    while ((await released()).length < originals.length && Date.now() < deadline) await sleep(200);
    await sleep(2500); // a second round of the scheduler must not release them again
    assert.deepEqual(await released(), originals);
    // And again after another restart: nothing doubles.
    await server.stop();
    await server.start();
    await sleep(2500);
    assert.deepEqual(await released(), originals);
    report('mirror-restart', { originals: originals.length, released: (await released()).length, doubled: 0 });
  });
});
