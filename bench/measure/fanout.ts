/**
 * Measurement 1 — fan-out: connected subscribers receive signals published on a fixed schedule.
 *
 * Client and server share two cores, and one stall on them can decide a run's p99: the same
 * system measured twice minutes apart can differ several-fold. So each size is run `repeats`
 * times, the systems interleaved, and the run with the median last-receiver p99 stands for
 * the system; every run's p99 is kept beside it. Up to 5,000 subscribers a run publishes 100
 * signals, so its p99 is the 99th of 100 rather than its slowest signal; at the largest size,
 * where each signal keeps both cores busy for a while, 20.
 *
 * Every server is fresh, and its first signals after the clients connect run code not yet
 * compiled by the JIT: in a traced run at 1,000 subscribers, most of signal-desk's slowest
 * signals came in its first 3.5 s. So each run starts with `WARMUP_SIGNALS` unmeasured
 * signals on the same schedule, delivered to every client before the measured ones — the
 * same for every system, as the durable measurement's unmeasured publishes are.
 */
import type { BenchContext } from '../lib/context.js';
import { scheduledRun, type RunResult } from '../lib/schedule.js';
import type { SystemName } from '../lib/systems.js';

export interface FanoutResult {
  sizes: number[];
  /** Signals published in each run, per size. */
  signals: number[];
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

/** Unmeasured signals at the start of every full-size run. */
export const WARMUP_SIGNALS = 10;

export function fanoutPlan(quick: boolean) {
  return quick ? { sizes: [100, 300], rate: 10, repeats: 1 } : { sizes: [1000, 5000, LARGEST], rate: 5, repeats: 3 };
}

/** Signals per run at `size` subscribers. */
export function signalsAt(size: number, quick: boolean): number {
  if (quick) return 10;
  return size <= 5000 ? 100 : 20;
}

export async function fanout(ctx: BenchContext): Promise<FanoutResult> {
  const plan = fanoutPlan(ctx.options.quick);
  const { rate, repeats } = plan;
  const sizes = ctx.options.sizes ?? plan.sizes;
  const signals = sizes.map((size) => signalsAt(size, ctx.options.quick));
  const runs: Record<string, RunResult[]> = {};
  const p99s: Record<string, number[][]> = {};
  // Size by size, the systems back to back: each ratio compares runs minutes apart.
  let base = 0;
  for (const [i, size] of sizes.entries()) {
    const count = signals[i]!;
    const all: Record<string, RunResult[]> = {};
    for (let round = 0; round < repeats; round++) {
      for (const name of ctx.options.systems) {
        const result = await ctx.with(name, async (system) => {
          await ctx.load.open(system.url, system.clients(size, await system.headSeq()), system.readyOn);
          if (!ctx.options.quick) {
            // Numbered after the measured signals, so a late warm-up delivery is never counted as one of them.
            const warm = { subscribers: size, signals: WARMUP_SIGNALS, rate, base: base + count };
            const warmup = await scheduledRun(system, ctx.load, warm);
            if (warmup.completeness !== 1) ctx.log(`fan-out ${name} ${size}: warm-up ${describe(warmup)}`);
          }
          return scheduledRun(system, ctx.load, { subscribers: size, signals: count, rate, base });
        });
        ctx.log(`fan-out ${name} ${size} (run ${round + 1}/${repeats}): ${describe(result)}`);
        (all[name] ??= []).push(result);
      }
    }
    for (const [name, results] of Object.entries(all)) {
      (p99s[name] ??= []).push(results.map((r) => r.lastReceiver.p99));
      (runs[name] ??= []).push(medianRun(results));
    }
    base += count + WARMUP_SIGNALS;
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
