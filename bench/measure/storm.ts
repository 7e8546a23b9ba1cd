/**
 * Measurement 5 — reconnect storm: subscribers drop, signals go out while they are away,
 * and all of them reconnect at once with their `lastSeq`. Measured: time from the
 * reconnect until each has every missed signal (and, for signal-desk, is live again), with
 * every seq exactly once and in order. The baselines replay from their in-memory array.
 */
import type { BenchContext } from '../lib/context.js';
import { sleep, summarize, type Summary } from '../lib/stats.js';

export interface StormResult {
  subscribers: number;
  missed: number;
  runs: Record<string, { caughtUp: Summary; behind: number; duplicates: number; gaps: number; failed: number }>;
}

export function stormPlan(quick: boolean) {
  return quick ? { subscribers: 200, missed: 20 } : { subscribers: 5000, missed: 200 };
}

export async function storm(ctx: BenchContext): Promise<StormResult> {
  const { subscribers, missed } = stormPlan(ctx.options.quick);
  const runs: StormResult['runs'] = {};
  for (const name of ctx.options.systems) {
    runs[name] = await ctx.with(name, async (system) => {
      await ctx.load.open(system.url, system.clients(subscribers, await system.headSeq()), system.readyOn);
      await ctx.load.drop();
      await sleep(500);
      for (let k = 0; k < missed; k++) await system.publish(k);
      const target = await system.headSeq();
      const result = await ctx.load.reopen(target);
      const run = {
        caughtUp: summarize(result.caughtUpMs),
        behind: result.behind,
        duplicates: result.duplicates,
        gaps: result.gaps,
        failed: result.failed,
      };
      ctx.log(
        `storm ${name}: all caught up in ${run.caughtUp.max} ms (p50 ${run.caughtUp.p50}), behind ${run.behind}, ` +
          `dup ${run.duplicates}, gaps ${run.gaps}`,
      );
      return run;
    });
  }
  return { subscribers, missed, runs };
}
