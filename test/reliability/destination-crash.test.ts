/**
 * A destination survives its server's crash: `kill -9` while a slow webhook receiver is being
 * fed, restart on the same file, and the receiver ends with every event exactly once by its
 * `webhook-id` (resent ones are recognisable), in seq order — the cursor is stored only after
 * the receiver accepted an event, so nothing is lost, and resends are only of what was in flight.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import type { Account } from '../helpers/server.js';
import { createChannels, report, setupAdmin, signalBody, test } from './support.js';

const EVENTS = 60;
const dir = tempDir('signal-desk-destination-crash-');
const server = new ServerProcess({
  env: {
    DATABASE_URL: `sqlite:${join(dir.path, 'crash.db')}`,
    PORT: '0',
    DESTINATIONS_ALLOW_PRIVATE: 'true',
    SIGNAL_DESK_TEST_RETRY_SCALE: '0.01',
  },
});
let receiver: WebhookReceiver;
let admin: Account;

before(async () => {
  receiver = await startWebhookReceiver();
  await server.start();
  admin = await setupAdmin(server);
  await createChannels(admin, ['gold']);
});

after(async () => {
  await server.stop();
  await receiver.close();
  dir.remove();
});

describe('destination crash', () => {
  test('kill -9 mid-delivery: after the restart the receiver has every event once by id, in order', async () => {
    const created = await admin.api.post('/api/destinations', {
      kind: 'webhook',
      name: 'slow receiver',
      url: receiver.url,
      channels: ['gold'],
    });
    assert.equal(created.status, 201);
    receiver.secrets = [created.body.secret];
    receiver.delayMs = 40;
    const published: number[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const res = await admin.api.post('/api/signals', signalBody('gold'));
      assert.equal(res.status, 201);
      published.push(res.body.seq);
    }
    await receiver.waitFor((messages) => messages.length >= 15, 20_000);
    await server.kill('SIGKILL');
    const beforeCrash = receiver.unique().length;
    assert.ok(beforeCrash < EVENTS, 'the crash came mid-delivery');
    receiver.delayMs = 0;
    await server.start();
    await receiver.waitFor(() => receiver.unique().length >= EVENTS, 60_000);
    const unique = receiver.unique();
    assert.deepEqual(
      unique.map((m) => m.data.seq),
      published,
      'every event once by webhook-id, in seq order',
    );
    assert.ok(unique.every((m) => m.id === m.data.id));
    const resent = receiver.messages.length - unique.length;
    report('destination-crash', {
      events: EVENTS,
      deliveredBeforeCrash: beforeCrash,
      resentAfterRestart: resent,
      lost: 0,
    });
  });
});
