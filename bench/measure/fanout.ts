/** Measurement 1 — fan-out: connected subscribers receive signals published on a fixed schedule. */
import type { BenchContext } from '../lib/context.js';
import { scheduledRun, type RunResult } from '../lib/schedule.js';
import type { SystemName } from '../lib/systems.js';

export interface FanoutResult {
  sizes: number[];
  signals: number;
  rate: number;
  runs: Record<string, RunResult[]>;
}

export function fanoutPlan(quick: boolean) {
  return quick ? { sizes: [100, 300], signals: 10, rate: 10 } : { sizes: [1000, 5000, 20000], signals: 40, rate: 5 };
}

export async function fanout(ctx: BenchContext): Promise<FanoutResult> {
  const { sizes, signals, rate } = fanoutPlan(ctx.options.quick);
  const runs: Record<string, RunResult[]> = {};
  for (const name of ctx.options.systems) {
    runs[name] = await ctx.with(name, async (system) => {
      const results: RunResult[] = [];
      let base = 0;
      for (const size of sizes) {
        await ctx.load.open(system.url, system.clients(size, await system.headSeq()), system.readyOn);
        const result = await scheduledRun(system, ctx.load, { subscribers: size, signals, rate, base });
        base += signals;
        ctx.log(`fan-out ${name} ${size}: ${describe(result)}`);
        results.push(result);
        await ctx.load.closeClients();
      }
      return results;
    });
  }
  return { sizes, signals, rate, runs };
}

export function describe(r: RunResult): string {
  return (
    `last-receiver p50 ${r.lastReceiver.p50} p99 ${r.lastReceiver.p99} max ${r.lastReceiver.max} ms, ` +
    `delivery p99 ${r.delivery.p99} ms, complete ${(r.completeness * 100).toFixed(3)}%, dup ${r.duplicates}, ` +
    `gaps ${r.gaps}, server ${r.serverCores} cores, generator ${r.generatorCores} cores`
  );
}

export type { SystemName };
