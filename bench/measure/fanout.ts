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

/**
 * 20,000 subscribers less a margin: this container's hard limit on open files is 20,000 and
 * cannot be raised (prlimit: Operation not permitted), and the server needs a few for itself.
 */
export const LARGEST = 19_900;

export function fanoutPlan(quick: boolean) {
  return quick ? { sizes: [100, 300], signals: 10, rate: 10 } : { sizes: [1000, 5000, LARGEST], signals: 20, rate: 5 };
}

export async function fanout(ctx: BenchContext): Promise<FanoutResult> {
  const plan = fanoutPlan(ctx.options.quick);
  const { signals, rate } = plan;
  const sizes = ctx.options.sizes ?? plan.sizes;
  const runs: Record<string, RunResult[]> = {};
  // Size by size, the systems back to back: each ratio compares runs minutes apart.
  for (const [i, size] of sizes.entries()) {
    for (const name of ctx.options.systems) {
      const result = await ctx.with(name, async (system) => {
        await ctx.load.open(system.url, system.clients(size, await system.headSeq()), system.readyOn);
        return scheduledRun(system, ctx.load, { subscribers: size, signals, rate, base: i * signals });
      });
      ctx.log(`fan-out ${name} ${size}: ${describe(result)}`);
      (runs[name] ??= []).push(result);
    }
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
