/**
 * The durable append on its own: the SQLite store's `append` at a fixed rate, with no HTTP,
 * authentication or fan-out around it — what is left of a publish's acknowledgement when
 * everything but the commit is taken away. Beside `fsync-probe.mjs` (the disk alone) and the
 * durable measurement of `npm run bench` (the whole request), it tells which layer a slow
 * acknowledgement comes from.
 *
 *   node --import tsx bench/append-probe.ts [--rate 100] [--count 1000] [--checkpoints background|sqlite]
 *
 * `background` checkpoints from a worker thread, as the server does; `sqlite` leaves them to
 * SQLite, inside the commit that fills the WAL past 1,000 pages.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../server/store/sqlite/sqlite-store.js';
import { benchSignal, CHANNEL } from './lib/payload.js';
import { sleep, summarize } from './lib/stats.js';

const WARMUP = 300;

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    count: { type: 'string', default: '1000' },
    checkpoints: { type: 'string', default: 'background' },
  },
});
const rate = Number(values.rate);
const count = Number(values.count);
if (!(rate > 0) || !(count > 0) || !['background', 'sqlite'].includes(values.checkpoints)) {
  console.error(
    'usage: node --import tsx bench/append-probe.ts [--rate N] [--count N] [--checkpoints background|sqlite]',
  );
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'signal-desk-append-probe-'));
const store = openSqliteStore(
  join(dir, 'probe.db'),
  values.checkpoints === 'background'
    ? { backgroundCheckpoints: { onFailure: (reason) => console.error(reason) } }
    : {},
);
try {
  await store.migrate();
  await store.createChannel({ slug: CHANNEL, name: 'Benchmark', description: null });
  const append = (index: number) => {
    const { channel, ...data } = benchSignal(index);
    return store.append({ type: 'signal.created', channel, author: randomUUID(), data });
  };
  for (let i = 0; i < WARMUP; i++) await append(i);

  const times: number[] = [];
  const start = performance.now() + 10;
  for (let k = 0; k < count; k++) {
    const wait = start + (k * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    const started = performance.now();
    await append(WARMUP + k);
    times.push(performance.now() - started);
  }
  const { p50, p99, max } = summarize(times);
  console.log(
    `append at ${rate}/s, ${count} after ${WARMUP} unmeasured, ${values.checkpoints} checkpoints: ` +
      `p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
