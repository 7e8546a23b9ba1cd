/**
 * The durable append on its own: the SQLite store's `append` at a fixed rate, with no HTTP,
 * authentication or fan-out around it — what is left of a publish's acknowledgement when
 * everything but the commit is taken away. Beside `fsync-probe.ts` (the disk alone) and the
 * durable measurement of `npm run bench` (the whole request), it tells which layer a slow
 * acknowledgement comes from.
 *
 *   node --import tsx bench/append-probe.ts [--rate 100] [--count 1000]
 *        [--checkpoints background|sqlite] [--slowest N] [--dir DIR]
 *
 * `background` checkpoints from a worker thread, as the server does; `sqlite` leaves them to
 * SQLite, inside the commit that fills the WAL past 1,000 pages. `--slowest N` lists the N
 * slowest appends, each split into the time inside SQLite (and its slowest statement), the
 * time between statements, any garbage collection that overlapped it, and (on Linux) how long
 * the thread was ready to run but waiting for a CPU. The database is a
 * fresh file in a new directory under `--dir` (default: the system's temp directory), removed
 * afterwards: point it at the volume that will hold the real one.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../server/store/sqlite/sqlite-store.js';
import { benchSignal, CHANNEL } from './lib/payload.js';
import { sendTimes, sleepUntil } from './lib/schedule.js';
import { sleep, summarize } from './lib/stats.js';

const WARMUP = 300;

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    count: { type: 'string', default: '1000' },
    checkpoints: { type: 'string', default: 'background' },
    slowest: { type: 'string', default: '0' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const rate = Number(values.rate);
const count = Number(values.count);
const slowest = Number(values.slowest);
if (!(rate > 0) || !(count > 0) || !(slowest >= 0) || !['background', 'sqlite'].includes(values.checkpoints)) {
  console.error(
    'usage: node --import tsx bench/append-probe.ts [--rate N] [--count N] [--checkpoints background|sqlite] [--slowest N] [--dir DIR]',
  );
  process.exit(2);
}

/** Time spent inside SQLite during the current append, by statement (its first words). */
let inSqlite = new Map<string, number>();

/** Times every statement the store prepares from now on. */
function timeStatements(raw: { prepare(sql: string): object }): void {
  const prepare = raw.prepare.bind(raw);
  raw.prepare = (sql: string) => {
    const statement = prepare(sql) as Record<string, (...args: unknown[]) => unknown>;
    const name = sql.trim().split(/\s+/).slice(0, 3).join(' ');
    for (const method of ['run', 'get', 'all']) {
      const call = statement[method]!.bind(statement);
      statement[method] = (...args: unknown[]) => {
        const started = performance.now();
        try {
          return call(...args);
        } finally {
          inSqlite.set(name, (inSqlite.get(name) ?? 0) + performance.now() - started);
        }
      };
    }
    return statement;
  };
}

/**
 * Milliseconds this thread has spent ready to run but waiting for a CPU (the second field of
 * Linux's schedstat); NaN where there is none.
 */
function waitedForCpu(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

const dir = mkdtempSync(join(values.dir, 'signal-desk-append-probe-'));
const store = openSqliteStore(
  join(dir, 'probe.db'),
  values.checkpoints === 'background'
    ? { backgroundCheckpoints: { onFailure: (reason) => console.error(reason) } }
    : {},
);
const collections: Array<{ start: number; end: number }> = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) collections.push({ start: e.startTime, end: e.startTime + e.duration });
});
if (slowest > 0) {
  timeStatements(store.raw);
  gcObserver.observe({ entryTypes: ['gc'] });
}
try {
  await store.migrate();
  await store.createChannel({ slug: CHANNEL, name: 'Benchmark', description: null });
  const append = (index: number) => {
    const { channel, ...data } = benchSignal(index);
    return store.append({ type: 'signal.created', channel, author: randomUUID(), data });
  };
  for (let i = 0; i < WARMUP; i++) await append(i);

  const appends: Array<{ started: number; ms: number; sqlite: Map<string, number>; cpuWait: number }> = [];
  for (const [k, at] of sendTimes(count, rate, 10).entries()) {
    await sleepUntil(at);
    inSqlite = new Map();
    const waited = waitedForCpu();
    const started = performance.now();
    await append(WARMUP + k);
    const ms = performance.now() - started;
    appends.push({ started, ms, sqlite: inSqlite, cpuWait: waitedForCpu() - waited });
  }
  const { p50, p99, max } = summarize(appends.map((a) => a.ms));
  console.log(
    `append at ${rate}/s, ${count} after ${WARMUP} unmeasured, ${values.checkpoints} checkpoints: ` +
      `p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`,
  );
  await sleep(50); // the last collections' entries
  for (const { started, ms, sqlite, cpuWait } of [...appends].sort((a, b) => b.ms - a.ms).slice(0, slowest)) {
    const total = [...sqlite.values()].reduce((sum, t) => sum + t, 0);
    const [worst, worstMs] = [...sqlite].sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
    const gc = collections
      .filter((c) => c.start < started + ms && c.end > started)
      .reduce((sum, c) => sum + c.end - c.start, 0);
    console.log(
      `  ${ms.toFixed(2)} ms: in SQLite ${total.toFixed(2)} (slowest: ${worst} ${worstMs.toFixed(2)}), ` +
        `between statements ${(ms - total).toFixed(2)}, garbage collection ${gc.toFixed(2)}, ` +
        `waiting for a CPU ${cpuWait.toFixed(2)}`,
    );
  }
} finally {
  gcObserver.disconnect();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
