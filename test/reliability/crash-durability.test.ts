/**
 * Crash durability: 8 concurrent publishers against a real server process, SIGKILL at a
 * random moment, then — with the server down — the SQLite file itself is checked: every
 * acknowledged (201) signal and update is in the log with the acknowledged seq, id and
 * hash; seq is gap-free; every channel's hash chain verifies; PRAGMA integrity_check is ok.
 * After the restart every request that was cut off is retried with its idempotency key:
 * it must succeed, and no key may ever appear twice in the log.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ChainVerifier } from '../../server/core/hash-chain.js';
import { openSqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import type { StoredEvent } from '../../shared/events.js';
import { tempDir } from '../helpers/databases.js';
import { ServerProcess } from '../helpers/process.js';
import type { Account } from '../helpers/server.js';
import { createChannels, random, report, scaled, setupAdmin, signalBody, sleep } from './support.js';

const ROUNDS = scaled(30);
const PUBLISHERS = 8;
const CHANNELS = ['alpha', 'beta', 'gamma', 'delta'];

interface Request {
  key: string;
  path: string;
  body: Record<string, unknown>;
}
interface Ack {
  seq: number;
  id: string;
  hash: string;
}

const dir = tempDir('signal-desk-crash-');
const file = join(dir.path, 'crash.db');
const server = new ServerProcess({ env: { DATABASE_URL: `sqlite:${file}`, PORT: '0' } });
const rng = random();
let admin: Account;

before(async () => {
  await server.start();
  admin = await setupAdmin(server);
  await createChannels(admin, CHANNELS);
});
after(async () => {
  await server.stop();
  dir.remove();
});

/** The key a request carries in its notes, so the log can be matched to what was sent. */
const keyOf = (event: StoredEvent) => /^key=(\S+)/.exec(event.data.notes ?? '')?.[1];

async function checkFile() {
  const store = openSqliteStore(file);
  try {
    const integrity = store.integrityCheck();
    const events: StoredEvent[] = [];
    for (;;) {
      const page = await store.readEvents({ after: events.at(-1)?.seq ?? 0, limit: 1000, channels: 'all' });
      events.push(...page);
      if (page.length < 1000) break;
    }
    const head = await store.headSeq();
    return { integrity, events, head };
  } finally {
    await store.close();
  }
}

test(`crash durability: ${ROUNDS} rounds of SIGKILL under ${PUBLISHERS} concurrent publishers`, async () => {
  const acked = new Map<string, Ack>();
  const signalIds: string[] = [];
  let keyCounter = 0;
  let faults = 0;
  let cutOff = 0;
  let committedUnacked = 0;
  let eventsChecked = 0;
  const anomalies: string[] = [];

  const send = async (request: Request): Promise<Ack> => {
    const res = await fetch(`${server.url}${request.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify(request.body),
    });
    const body = (await res.json()) as Ack & { error?: unknown; signal?: unknown };
    if (res.status !== 201) throw new Error(`unexpected ${res.status}: ${JSON.stringify(body)}`);
    return { seq: body.seq, id: body.id, hash: body.hash };
  };

  const nextRequest = (): Request => {
    const key = `crash-${process.pid}-${++keyCounter}`;
    const notes = `key=${key} ${'x'.repeat(rng.int(0, 400))}`;
    if (signalIds.length > 0 && rng.next() < 0.25) {
      return {
        key,
        path: `/api/signals/${rng.pick(signalIds)}/updates`,
        body: { type: 'note', notes, idempotencyKey: key },
      };
    }
    return { key, path: '/api/signals', body: { ...signalBody(rng.pick(CHANNELS)), notes, idempotencyKey: key } };
  };

  for (let round = 0; round < ROUNDS; round++) {
    const interrupted: Request[] = [];
    let killed = false;
    const publisher = async () => {
      while (!killed) {
        const request = nextRequest();
        try {
          const ack = await send(request);
          acked.set(request.key, ack);
          if (request.path === '/api/signals') signalIds.push(ack.id);
        } catch (error) {
          if (!killed && server.running) throw error; // a real failure, not the crash
          interrupted.push(request);
          return;
        }
      }
    };
    const publishers = Array.from({ length: PUBLISHERS }, publisher);
    await sleep(rng.int(20, 400));
    killed = true;
    await server.kill('SIGKILL');
    faults++;
    await Promise.all(publishers);
    cutOff += interrupted.length;

    // With the server down: the file alone must hold every acknowledged event.
    const { integrity, events, head } = await checkFile();
    if (integrity !== 'ok') anomalies.push(`round ${round}: integrity_check ${integrity}`);
    const verifier = new ChainVerifier(true);
    for (const event of events) {
      const problem = verifier.check(event);
      if (problem) anomalies.push(`round ${round}: seq ${problem.seq}: ${problem.reason}`);
    }
    eventsChecked += events.length;
    if (head !== (events.at(-1)?.seq ?? 0)) anomalies.push(`round ${round}: head ${head} != last event`);
    const byKey = new Map<string, StoredEvent>();
    for (const event of events) {
      const key = keyOf(event);
      if (!key) continue;
      if (byKey.has(key)) anomalies.push(`round ${round}: key ${key} appears twice (seq ${event.seq})`);
      byKey.set(key, event);
    }
    for (const [key, ack] of acked) {
      const event = byKey.get(key);
      if (!event) anomalies.push(`round ${round}: acknowledged ${key} (seq ${ack.seq}) lost`);
      else if (event.seq !== ack.seq || event.id !== ack.id || event.hash !== ack.hash)
        anomalies.push(`round ${round}: ${key} acknowledged as seq ${ack.seq}, stored as ${event.seq}`);
    }
    const committedBeforeRetry = interrupted.filter((r) => byKey.has(r.key)).length;
    committedUnacked += committedBeforeRetry;

    // Restart on the same file and finish what the crash cut off.
    await server.start();
    for (const request of interrupted) {
      const ack = await send(request);
      const stored = byKey.get(request.key);
      if (stored && stored.seq !== ack.seq) anomalies.push(`retry of ${request.key} made a second event`);
      acked.set(request.key, ack);
      if (request.path === '/api/signals' && !stored) signalIds.push(ack.id);
    }
  }

  // A final look after the last retries.
  await server.kill('SIGKILL');
  const { integrity, events } = await checkFile();
  await server.start();
  const verifier = new ChainVerifier(true);
  for (const event of events) {
    const problem = verifier.check(event);
    if (problem) anomalies.push(`final: seq ${problem.seq}: ${problem.reason}`);
  }
  const keys = new Set(events.map(keyOf));
  const lost = [...acked.keys()].filter((key) => !keys.has(key)).length;
  eventsChecked += events.length;

  report('crash-durability', {
    rounds: ROUNDS,
    faults: faults + 1,
    acknowledged: acked.size,
    cutOffRequests: cutOff,
    committedButUnacknowledged: committedUnacked,
    logEvents: events.length,
    eventsChecked,
    lost,
    anomalies: anomalies.length,
    seed: rng.seed,
  });
  assert.equal(integrity, 'ok');
  assert.equal(lost, 0, 'acknowledged events lost');
  assert.deepEqual(anomalies, []);
  assert.equal(events.length, acked.size, 'every event in the log was acknowledged once (directly or on retry)');
  assert.ok(acked.size >= ROUNDS * PUBLISHERS, `too little traffic to mean anything: ${acked.size} acknowledged`);
});
