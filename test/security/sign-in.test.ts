/**
 * Sign-in under attack, against a real server process: concurrent guesses cannot outrun the
 * throttle (each attempt is counted before its password is checked), one address cannot spray
 * accounts, a flood costs a bounded number of password hashes, and an account lock is short.
 * Behind a proxy (TRUST_PROXY), so each request may come "from" an address of the test's choosing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import { PASSWORD, type Account } from '../helpers/server.js';
import { createChannels, createSubscriber, setupAdmin } from '../reliability/support.js';

interface Attempt {
  status: number;
  retryAfter: number | null;
}

function signIn(url: string, email: string, password: string, from: string): Promise<Attempt> {
  return fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({ email, password }),
  }).then(async (res) => {
    await res.body?.cancel();
    const header = res.headers.get('retry-after');
    return { status: res.status, retryAfter: header === null ? null : Number(header) };
  });
}

const tally = (attempts: Attempt[]) => {
  const by: Record<number, number> = {};
  for (const a of attempts) by[a.status] = (by[a.status] ?? 0) + 1;
  return by;
};

/** A fresh server with `env`, an admin, and subscribers with these emails. */
async function serverWith(env: Record<string, string>, emails: readonly string[]) {
  const dir = tempDir('signal-desk-sign-in-');
  const server = new ServerProcess({
    env: { DATABASE_URL: `sqlite:${join(dir.path, 'sign-in.db')}`, PORT: '0', TRUST_PROXY: 'true', ...env },
  });
  await server.start();
  const admin: Account = await setupAdmin(server);
  await createChannels(admin, ['fx']);
  for (const email of emails) await createSubscriber(server.url, admin, email, ['fx']);
  return {
    server,
    async stop() {
      await server.stop();
      dir.remove();
    },
  };
}

describe('sign-in throttles', () => {
  describe('the throttles alone (no per-address rate limit)', () => {
    let env: Awaited<ReturnType<typeof serverWith>>;
    before(async () => {
      env = await serverWith({ AUTH_RATE_LIMIT: '0' }, ['victim@example.test', 'owner@example.test']);
    });
    after(() => env.stop());

    test('300 concurrent guesses from 300 addresses: at most 5 are evaluated, and the right password among them is refused', async () => {
      const attempts = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          signIn(env.server.url, 'victim@example.test', i === 150 ? PASSWORD : `guess-${i}`, `198.51.100.${i % 250}`),
        ),
      );
      const counts = tally(attempts);
      console.log(`[security] 300 concurrent guesses at one account: ${JSON.stringify(counts)}`);
      assert.ok((counts[401] ?? 0) <= 5, `evaluated (401): ${counts[401]}, all: ${JSON.stringify(counts)}`);
      assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), 300, JSON.stringify(counts));
      assert.equal(attempts[150]!.status, 429, 'the right password at position 150 did not get through');
      // A lock is short: the first one lasts a minute, not a quarter of an hour.
      const retry = Math.max(...attempts.map((a) => a.retryAfter ?? 0));
      assert.ok(retry > 0 && retry <= 60, `Retry-After ${retry}`);
    });

    test('one address spraying many accounts is refused after 30 attempts; other addresses still sign in', async () => {
      const spray: Attempt[] = [];
      for (let i = 0; i < 60; i++) {
        spray.push(await signIn(env.server.url, `nobody-${i}@example.test`, 'guess', '203.0.113.66'));
      }
      assert.deepEqual(tally(spray), { 401: 30, 429: 30 });
      const blocked = await signIn(env.server.url, 'owner@example.test', PASSWORD, '203.0.113.66');
      assert.equal(blocked.status, 429, 'the spraying address is refused even with a right password');
      assert.ok(blocked.retryAfter !== null && blocked.retryAfter > 60);
      const elsewhere = await signIn(env.server.url, 'owner@example.test', PASSWORD, '203.0.113.67');
      assert.equal(elsewhere.status, 200, 'the owner signs in from another address');
    });

    test('successful sign-ins from one address (an office behind NAT) are not held against it', async () => {
      const results: Attempt[] = [];
      for (let i = 0; i < 80; i++)
        results.push(await signIn(env.server.url, 'owner@example.test', PASSWORD, '192.0.2.10'));
      assert.deepEqual(tally(results), { 200: 80 });
    });
  });

  describe('with the default per-address rate limit', () => {
    let env: Awaited<ReturnType<typeof serverWith>>;
    before(async () => {
      env = await serverWith({}, []);
    });
    after(() => env.stop());

    test('a flood of 300 sign-ins for unknown accounts from one address costs at most 30 password checks, and health checks keep answering', async () => {
      let slowest = 0;
      let healthy = 0;
      let flooding = true;
      const probe = (async () => {
        while (flooding) {
          const start = performance.now();
          const res = await fetch(`${env.server.url}/healthz`);
          await res.body?.cancel();
          if (res.status === 200) healthy++;
          slowest = Math.max(slowest, performance.now() - start);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const attempts = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          signIn(env.server.url, `stranger-${i}@example.test`, 'guess', '203.0.113.9'),
        ),
      );
      flooding = false;
      await probe;
      const counts = tally(attempts);
      assert.ok((counts[401] ?? 0) <= 30, JSON.stringify(counts));
      assert.equal((counts[401] ?? 0) + (counts[429] ?? 0) + (counts[503] ?? 0), 300, JSON.stringify(counts));
      assert.ok(healthy > 0, 'health checks answered during the flood');
      console.log(`[security] sign-in flood: ${JSON.stringify(counts)}; slowest /healthz ${slowest.toFixed(0)} ms`);
    });
  });
});
