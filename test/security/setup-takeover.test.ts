/**
 * A fresh install cannot be claimed by whoever reaches its port first: setup needs the
 * one-time code the server printed in its log, refuses a foreign browser origin, and makes
 * one admin at most, ever, however many requests race for it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import { PASSWORD } from '../helpers/server.js';

const dir = tempDir('signal-desk-setup-');
const server = new ServerProcess({ env: { DATABASE_URL: `sqlite:${join(dir.path, 'setup.db')}`, PORT: '0' } });

function setup(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/api/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email: 'owner@example.test', password: PASSWORD, ...body }),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as { error?: { code: string } } }));
}

before(() => server.start());
after(async () => {
  await server.stop();
  dir.remove();
});

describe('first-run setup', () => {
  test('the log shows a one-time code; setup without it, or with a wrong one, is refused', async () => {
    const code = server.setupCode();
    assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    assert.equal((await setup({})).status, 400);
    const wrong = await setup({ setupCode: 'AAAA-BBBB-CCCC-DDDD' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error?.code, 'setup_code_invalid');
    const status = await fetch(`${server.url}/api/setup`).then((r) => r.json());
    assert.deepEqual(status, { needed: true });
  });

  test('a page of another origin cannot claim it, even with the code', async () => {
    const foreign = await setup({ setupCode: server.setupCode() }, { origin: 'https://attacker.example' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error?.code, 'origin_refused');
  });

  test('8 concurrent setups with the right code make exactly one admin; the code then stops working', async () => {
    const code = server.setupCode();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => setup({ setupCode: code, email: `racer-${i}@example.test` })),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
    const again = await setup({ setupCode: code, email: 'late@example.test' });
    assert.equal(again.status, 409);
    assert.deepEqual(await fetch(`${server.url}/api/setup`).then((r) => r.json()), { needed: false });
  });

  test('after a restart no new code is printed: setup stays closed', async () => {
    const before = server.logs.filter((line) => line.includes('"setupCode"')).length;
    await server.stop();
    await server.start();
    assert.equal(server.logs.filter((line) => line.includes('"setupCode"')).length, before);
    assert.equal((await setup({ setupCode: 'AAAA-BBBB-CCCC-DDDD' })).status, 409);
  });
});
