/**
 * The 1,000,000-event database for the history measurement. Building it takes minutes, so
 * it is kept in the temp directory and reused: a sidecar JSON written after the last
 * commit marks it complete. Each run serves a copy, never the cached file itself.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { copyToDisk } from './copy.js';
import { seedAccounts, seedHistory, type Seeded } from './seed.js';
import { RunningSystem } from './systems.js';

export interface HistoryDatabase extends Seeded {
  file: string;
  headSeq: number;
}

const CACHE = join(tmpdir(), 'signal-desk-bench-cache');

export async function historyDatabase(total: number, log: (line: string) => void): Promise<HistoryDatabase> {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `history-${total}.db`);
  const sidecar = `${file}.json`;
  if (!existsSync(sidecar)) {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    log(`building a ${total.toLocaleString('en')}-event database once (cached in ${CACHE})…`);
    const seeded = await seedAccounts(file, 1);
    const headSeq = await seedHistory(file, total, 4, (done) => {
      if (done % 100_000 === 0) log(`  ${done.toLocaleString('en')} events`);
    });
    writeFileSync(sidecar, JSON.stringify({ ...seeded, headSeq }));
  }
  const meta = JSON.parse(readFileSync(sidecar, 'utf8')) as Seeded & { headSeq: number };
  const copy = join(CACHE, `history-${total}-run-${process.pid}.db`);
  copyToDisk(file, copy);
  return { ...meta, file: copy };
}

/**
 * signal-desk serving a copy of the `events`-event database while `run` runs; then the server
 * stops and the copy is deleted. `prepare` may add to the copy before the server opens it.
 */
export async function servingHistory<T, P = undefined>(
  ctx: BenchContext,
  events: number,
  run: (system: RunningSystem, db: HistoryDatabase, prepared: P) => Promise<T>,
  prepare?: (file: string) => Promise<P>,
): Promise<T> {
  const db = await historyDatabase(events, ctx.log);
  try {
    const prepared = (await prepare?.(db.file)) as P;
    const system = await RunningSystem.start(
      'signal-desk',
      { databaseFile: db.file, adminToken: db.adminToken, tokens: db.tokens },
      ctx.options.serverArgs,
    );
    try {
      return await run(system, db, prepared);
    } finally {
      await system.stop();
    }
  } finally {
    for (const f of [db.file, `${db.file}-wal`, `${db.file}-shm`]) rmSync(f, { force: true });
  }
}
