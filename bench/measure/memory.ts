/**
 * Measurement 4 — memory: server RSS growth per idle connected subscriber. With
 * `--heap-snapshots DIR` every server also writes a V8 heap snapshot once the figure is read,
 * for a look at what each connection holds (Chrome DevTools → Memory → Load).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { sleep } from '../lib/stats.js';
import type { RunningSystem } from '../lib/systems.js';
import { LARGEST } from './fanout.js';

export interface MemoryResult {
  sizes: number[];
  /** Per system and size: RSS before and after connecting, and the growth per subscriber. */
  runs: Record<string, Array<{ subscribers: number; rssBefore: number; rssAfter: number; bytesPerSubscriber: number }>>;
}

export function memoryPlan(quick: boolean) {
  return { sizes: quick ? [300] : [10000, LARGEST], idleMs: quick ? 500 : 5000, settleMs: quick ? 300 : 1000 };
}

export async function memory(ctx: BenchContext): Promise<MemoryResult> {
  const { sizes, idleMs, settleMs } = memoryPlan(ctx.options.quick);
  const snapshots = ctx.options.heapSnapshots;
  const nodeArgs = snapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`] : [];
  const runs: MemoryResult['runs'] = {};
  for (const name of ctx.options.systems) {
    runs[name] = [];
    for (const size of sizes) {
      // A fresh server per size, so one size's garbage does not count toward the next.
      const run = await ctx.with(
        name,
        async (system) => {
          await sleep(settleMs);
          const rssBefore = system.rssBytes();
          await ctx.load.open(system.url, system.clients(size, await system.headSeq()), system.readyOn);
          await sleep(idleMs);
          const rssAfter = system.rssBytes();
          if (snapshots) ctx.log(`memory ${name} ${size}: heap snapshot ${await heapSnapshot(system, snapshots)}`);
          return {
            subscribers: size,
            rssBefore,
            rssAfter,
            bytesPerSubscriber: Math.round((rssAfter - rssBefore) / size),
          };
        },
        nodeArgs,
      );
      ctx.log(`memory ${name} ${size}: ${(run.bytesPerSubscriber / 1024).toFixed(1)} KB per subscriber`);
      runs[name].push(run);
    }
  }
  return { sizes, runs };
}

/** Writing 20,000 connections' snapshot takes about 15 s here. */
const SNAPSHOT_TIMEOUT_MS = 120_000;

/** Asks the server for a heap snapshot and resolves with its file once it is written. */
async function heapSnapshot(system: RunningSystem, dir: string): Promise<string> {
  const mine = () => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && f.includes(`.${system.pid}.`));
  const before = new Set(mine());
  process.kill(system.pid, 'SIGUSR2');
  let size = -1;
  for (const deadline = Date.now() + SNAPSHOT_TIMEOUT_MS; Date.now() < deadline;) {
    await sleep(500);
    const file = mine().find((f) => !before.has(f));
    if (!file) continue;
    const now = statSync(join(dir, file)).size;
    // The server writes the snapshot in one go, blocking; a size that stopped growing is done.
    if (now > 0 && now === size) return join(dir, file);
    size = now;
  }
  throw new Error(`${system.name} wrote no heap snapshot to ${dir} within ${SNAPSHOT_TIMEOUT_MS / 1000} s`);
}
