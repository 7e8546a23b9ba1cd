/**
 * Shared by the reliability suites: the scale knob, the closing figures, and small
 * HTTP helpers that work against any server URL (in-process or a child process).
 *
 * `RELIABILITY_SCALE=10` (or `SOAK=1`, which means 10) multiplies rounds and volumes for a
 * long soak; the default is sized for `npm test` on a 2-core machine.
 */
import { test as nodeTest } from 'node:test';
import { Api, PASSWORD, signalBody, type Account } from '../helpers/server.js';

export const SCALE = Math.max(0.1, Number(process.env.RELIABILITY_SCALE ?? (process.env.SOAK ? 10 : 1)) || 1);

/** `n` at the current scale, at least 1. */
export const scaled = (n: number): number => Math.max(1, Math.round(n * SCALE));

/** Prints a suite's closing figures so they show in CI output. */
export function report(suite: string, figures: Record<string, number | string>): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${v}`);
  console.log(`[reliability] ${suite} (scale ${SCALE}): ${parts.join(' ')}`);
}

/** Tests of this file that failed: the closing figures count them as anomalies. */
export const failures = { count: 0 };

/** node:test's `test`, counting failures for the closing figures. */
export function test(name: string, fn: () => Promise<void>): Promise<void> {
  return nodeTest(name, async () => {
    try {
      await fn();
    } catch (error) {
      failures.count++;
      throw error;
    }
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A seeded PRNG (mulberry32), so a failing run can be replayed with RELIABILITY_SEED. */
export function random(seed = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31)) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}

/** The first admin of a fresh server, with the setup code from its log. */
export async function setupAdmin(
  server: { url: string; setupCode(): string },
  email = 'admin@example.test',
): Promise<Account> {
  const { url } = server;
  const res = await new Api(url).post('/api/setup', {
    email,
    password: PASSWORD,
    name: 'Admin',
    setupCode: server.setupCode(),
  });
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { api: new Api(url, res.body.token), token: res.body.token, user: res.body.user };
}

export async function loginAt(url: string, email: string, password = PASSWORD): Promise<Account> {
  const res = await new Api(url).post('/api/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return { api: new Api(url, res.body.token), token: res.body.token, user: res.body.user };
}

export async function createChannels(admin: Account, slugs: readonly string[]): Promise<void> {
  for (const slug of slugs) {
    const res = await admin.api.post('/api/channels', { slug, name: slug });
    if (res.status !== 201 && res.status !== 409) throw new Error(`channel ${slug}: ${JSON.stringify(res.body)}`);
  }
}

/** Creates a subscriber with `channels` and signs in; the account remembers its email. */
export async function createSubscriber(
  url: string,
  admin: Account,
  email: string,
  channels: readonly string[],
): Promise<Account & { email: string }> {
  const res = await admin.api.post('/api/users', { email, password: PASSWORD, role: 'subscriber', channels });
  if (res.status !== 201) throw new Error(`create ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...(await loginAt(url, email)), email };
}

export { signalBody };
