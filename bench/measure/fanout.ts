/**
 * Measurement 1 — fan-out: connected subscribers receive signals published on a fixed schedule.
 *
 * Client and server share two cores, and near 20,000 sockets one stall decides a run's p99
 * (with 20 signals it is the slowest signal): the same system measured twice minutes apart
 * can differ several-fold. So each size is run `repeats` times, the systems interleaved,
 * and the run with the median last-receiver p99 stands for the system; every run's p99 is
 * kept beside it.
 */
import type { BenchContext } from '../lib/context.js';
import { scheduledRun, type RunResult } from '../lib/schedule.js';
import type { SystemName } from '../lib/systems.js';

export interface FanoutResult {
  sizes: number[];
  signals: number;
  rate: number;
  repeats: number;
  /** Per system, per size: the run with the median last-receiver p99. */
  runs: Record<string, RunResult[]>;
  /** Per system, per size: every run's last-receiver p99, in the order run. */
  p99s: Record<string, number[][]>;
}

/**
 * 20,000 subscribers less a margin: this container's hard limit on open files is 20,000 and
 * cannot be raised (prlimit: Operation not permitted), and the server needs a few for itself.
 */
export const LARGEST = 19_900;

export function fanoutPlan(quick: boolean) {
  return quick
    ? { sizes: [100, 300], signals: 10, rate: 10, repeats: 1 }
    : { sizes: [1000, 5000, LARGEST], signals: 20, rate: 5, repeats: 3 };
}

export async function fanout(ctx: BenchContext): Promise<FanoutResult> {
  const plan = fanoutPlan(ctx.options.quick);
  const { signals, rate, repeats } = plan;
  const sizes = ctx.options.sizes ?? plan.sizes;
  const runs: Record<string, RunResult[]> = {};
  const p99s: Record<string, number[][]> = {};
  // Size by size, the systems back to back: each ratio compares runs minutes apart.
  for (const [i, size] of sizes.entries()) {
    const all: Record<string, RunResult[]> = {};
    for (let round = 0; round < repeats; round++) {
      for (const name of ctx.options.systems) {
        const result = await ctx.with(name, async (system) => {
          await ctx.load.open(system.url, system.clients(size, await system.headSeq()), system.readyOn);
          return scheduledRun(system, ctx.load, { subscribers: size, signals, rate, base: i * signals });
        });
        ctx.log(`fan-out ${name} ${size} (run ${round + 1}/${repeats}): ${describe(result)}`);
        (all[name] ??= []).push(result);
      }
    }
    for (const [name, results] of Object.entries(all)) {
      (p99s[name] ??= []).push(results.map((r) => r.lastReceiver.p99));
      (runs[name] ??= []).push(medianRun(results));
    }
  }
  return { sizes, signals, rate, repeats, runs, p99s };
}

/** The run whose last-receiver p99 is the median (the lower middle one of an even count). */
export function medianRun(results: readonly RunResult[]): RunResult {
  const sorted = [...results].sort((a, b) => a.lastReceiver.p99 - b.lastReceiver.p99);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

export function describe(r: RunResult): string {
  return (
    `last-receiver p50 ${r.lastReceiver.p50} p99 ${r.lastReceiver.p99} max ${r.lastReceiver.max} ms, ` +
    `delivery p99 ${r.delivery.p99} ms, complete ${(r.completeness * 100).toFixed(3)}%, dup ${r.duplicates}, ` +
    `gaps ${r.gaps}, server ${r.serverCores} cores, generator ${r.generatorCores} cores`
  );
}

export type { SystemName };
