/**
 * The 1,000,000-event database for the history measurement. Building it takes minutes, so
 * it is kept in the temp directory and reused: a sidecar JSON written after the last
 * commit marks it complete. Each run serves a copy, never the cached file itself.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyToDisk } from './copy.js';
import { seedAccounts, seedHistory, type Seeded } from './seed.js';

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
