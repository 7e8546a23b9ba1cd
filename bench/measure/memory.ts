/** Measurement 4 — memory: server RSS growth per idle connected subscriber. */
import type { BenchContext } from '../lib/context.js';
import { sleep } from '../lib/stats.js';
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
  const runs: MemoryResult['runs'] = {};
  for (const name of ctx.options.systems) {
    runs[name] = [];
    for (const size of sizes) {
      // A fresh server per size, so one size's garbage does not count toward the next.
      const run = await ctx.with(name, async (system) => {
        await sleep(settleMs);
        const rssBefore = system.rssBytes();
        await ctx.load.open(system.url, system.clients(size, await system.headSeq()), system.readyOn);
        await sleep(idleMs);
        const rssAfter = system.rssBytes();
        return {
          subscribers: size,
          rssBefore,
          rssAfter,
          bytesPerSubscriber: Math.round((rssAfter - rssBefore) / size),
        };
      });
      ctx.log(`memory ${name} ${size}: ${(run.bytesPerSubscriber / 1024).toFixed(1)} KB per subscriber`);
      runs[name].push(run);
    }
  }
  return { sizes, runs };
}
