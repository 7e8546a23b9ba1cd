/**
 * PostgreSQL stops for a few seconds under three nodes while publishers keep trying. The
 * nodes stay up and say so (`/readyz` 503), every failed publish is answered 503
 * `unavailable` (never a false 201), every acknowledged one is in the log afterwards, and
 * the nodes deliver again — subscribers end complete — without a restart.
 *
 * This stops the shared local PostgreSQL server (others' suites use it too), so the outage
 * is kept to about three seconds and the server is started again in a `finally`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { io as ioClient } from 'socket.io-client';
import { PG_ADMIN_URL, skipWithoutPostgres } from '../helpers/databases.js';
import {
  attemptPublish,
  closeAllSubscribers,
  createChannels,
  postSignal,
  readLog,
  sleep,
  startCluster,
  subscribeEverywhere,
  expectEachHasItsPart,
  type Attempt,
  type Cluster,
} from './helpers/cluster.js';

const exec = promisify(execFile);
const PG_CTL = '/usr/bin/pg_ctlcluster';

/** The local cluster's version (Debian layout), when this machine can stop and start it. */
function localCluster(): string | null {
  if (!existsSync(PG_CTL) || !existsSync('/etc/postgresql')) return null;
  const host = new URL(PG_ADMIN_URL).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') return null;
  return readdirSync('/etc/postgresql').sort().at(-1) ?? null;
}

async function skipReason(): Promise<string | false> {
  const pg = await skipWithoutPostgres();
  if (pg) return pg;
  if (localCluster()) return false;
  if (process.env.CI) throw new Error('the outage suite needs a local Debian PostgreSQL cluster (pg_ctlcluster) in CI');
  return 'no local pg_ctlcluster to stop PostgreSQL with';
}

const pgctl = (action: 'stop' | 'start') =>
  exec(PG_CTL, [
    '--skip-systemctl-redirect',
    localCluster()!,
    'main',
    action,
    ...(action === 'stop' ? ['-m', 'fast'] : []),
  ]);

/**
 * Waits (bounded) until no other test database has clients, so stopping the shared server
 * does not break a PostgreSQL suite running beside this one.
 */
async function waitForQuietServer(ours: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const busy = await otherTestClients(ours);
    if (busy === 0) return;
    await sleep(500);
  }
  // Stopping the server now would break the other suite: fail this one instead.
  throw new Error(`other PostgreSQL test databases still had clients after ${timeoutMs} ms`);
}

async function otherTestClients(ours: string): Promise<number> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE datname LIKE 'sd\\_test\\_%' AND datname <> $1 AND pid <> pg_backend_pid()`,
      [ours],
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

async function readyz(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0;
  }
}

describe('cluster: PostgreSQL stops and comes back', { skip: await skipReason() }, () => {
  let cluster: Cluster;
  let stopWriters = () => false;
  before(async () => {
    cluster = await startCluster(3);
    await createChannels(cluster.admin, ['gold', 'silver']);
  });
  after(async () => {
    stopWriters();
    closeAllSubscribers();
    await cluster?.close();
  });

  test(
    'no false acknowledgement, nothing acknowledged lost, delivery resumes without a restart',
    { timeout: 240_000 },
    async () => {
      const urls = () => cluster.nodes.map((n) => n.url);
      const subs = await subscribeEverywhere(cluster, urls, [['gold'], ['silver'], ['gold', 'silver']]);
      const pids = cluster.nodes.map((n) => n.pid);

      await waitForQuietServer(new URL(cluster.database.url).pathname.slice(1));
      const run = { publishing: true };
      stopWriters = () => (run.publishing = false);
      const writers = Array.from({ length: 4 }, async (_, w) => {
        const attempts: Attempt[] = [];
        for (let i = 0; run.publishing; i++) {
          const node = cluster.nodes[(w + i) % 3]!;
          attempts.push(await attemptPublish(cluster.admin, node.url, i % 2 ? 'gold' : 'silver', `o${w}-${i}`));
          await sleep(40);
        }
        return attempts;
      });

      await sleep(700);
      const outage: { readyz: number[]; healthz: number[]; handshake?: string } = { readyz: [], healthz: [] };
      try {
        await pgctl('stop');
        const stoppedAt = Date.now();
        // While the database is away every node is alive but not ready.
        while (Date.now() - stoppedAt < 3000) {
          outage.readyz = await Promise.all(urls().map(readyz));
          if (outage.readyz.every((s) => s === 503)) break;
          await sleep(100);
        }
        outage.healthz = await Promise.all(
          urls().map(async (u) => {
            try {
              return (await fetch(`${u}/healthz`, { signal: AbortSignal.timeout(2000) })).status;
            } catch {
              return 0;
            }
          }),
        );
        // A client connecting now is told the truth: unavailable, not unauthorized.
        outage.handshake = await new Promise<string>((resolve) => {
          const socket = ioClient(urls()[0]!, {
            auth: { token: cluster.admin.token, lastSeq: 0 },
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
          });
          const done = (what: string) => {
            socket.close();
            resolve(what);
          };
          socket.once('connect_error', (err) => done(err.message));
          socket.once('connect', () => done('connected'));
          setTimeout(() => done('no answer'), 2000);
        });
        await sleep(Math.max(0, 2500 - (Date.now() - stoppedAt)));
      } finally {
        await pgctl('start');
      }
      for (const node of cluster.nodes) {
        if (!node.running) {
          run.publishing = false;
          assert.fail(`node ${node.url} died during the outage:\n${node.logs.slice(-60).join('\n')}`);
        }
      }
      assert.deepEqual(outage.readyz, [503, 503, 503], '/readyz during the outage');
      assert.deepEqual(outage.healthz, [200, 200, 200], '/healthz during the outage');
      assert.equal(outage.handshake, 'unavailable', 'a socket handshake during the outage');

      try {
        await Promise.all(cluster.nodes.map((n) => n.waitReady(20_000)));
      } catch (error) {
        run.publishing = false;
        throw error;
      }
      await sleep(1000); // publishes succeed again
      run.publishing = false;
      const attempts = (await Promise.all(writers)).flat();

      assert.deepEqual(
        cluster.nodes.map((n) => n.pid),
        pids,
        'no node restarted',
      );
      const failed = attempts.filter((a) => a.status !== 201);
      assert.ok(failed.length > 0, 'some publishes met the outage');
      for (const a of failed) assert.deepEqual([a.status, a.code], [503, 'unavailable'], `attempt ${a.key}`);
      assert.ok(attempts.filter((a) => a.status === 201).length > failed.length / 4, 'publishes succeed around it');

      let log = await readLog(cluster.store);
      const bySeq = new Map(log.map((e) => [e.seq, e]));
      for (const a of attempts.filter((x) => x.status === 201)) {
        assert.equal(bySeq.get(a.seq!)?.id, a.id, `acknowledged ${a.key} is in the log`);
      }

      // A client told 503 retries with the same key: it gets its signal exactly once.
      for (const a of failed) {
        const retry = await postSignal(cluster.admin, a.node, a.body);
        assert.equal(retry.status, 201, `retry of ${a.key}: ${retry.status} ${retry.code}`);
      }
      log = await readLog(cluster.store);
      const keys = log.map((e) => (e.data as { notes?: string }).notes);
      assert.equal(new Set(keys).size, keys.length, 'no key twice in the log');
      assert.deepEqual(new Set(keys), new Set(attempts.map((a) => a.key)), 'every attempt once in the log');

      // Every subscriber, on every node, ends with exactly its part of the log.
      await expectEachHasItsPart(subs, log, 20_000);
    },
  );
});
