/**
 * Measurement 2 — saturation: at a fixed subscriber count, raise the publish rate step by
 * step until last-receiver p99 passes the limit (or a delivery goes missing); the highest
 * passing step's deliveries per second is the system's sustainable throughput.
 */
import type { BenchContext } from '../lib/context.js';
import { scheduledRun, type RunResult } from '../lib/schedule.js';
import { sleep } from '../lib/stats.js';
import { describe } from './fanout.js';

export const P99_LIMIT_MS = 250;

export interface SaturationResult {
  subscribers: number;
  stepSeconds: number;
  limitMs: number;
  steps: Record<string, RunResult[]>;
  /** The highest step that passed, per system (undefined when even the first failed). */
  sustained: Record<string, RunResult | undefined>;
}

export function saturationPlan(quick: boolean) {
  return quick
    ? { subscribers: 200, stepSeconds: 1, rates: [25, 50] }
    : { subscribers: 5000, stepSeconds: 2, rates: [1, 2, 5, 10, 20, 40, 80, 160, 320, 640] };
}

export async function saturation(ctx: BenchContext): Promise<SaturationResult> {
  const { subscribers, stepSeconds, rates } = saturationPlan(ctx.options.quick);
  const steps: Record<string, RunResult[]> = {};
  const sustained: Record<string, RunResult | undefined> = {};
  for (const name of ctx.options.systems) {
    steps[name] = await ctx.with(name, async (system) => {
      await ctx.load.open(system.url, system.clients(subscribers, await system.headSeq()), system.readyOn);
      const results: RunResult[] = [];
      let base = 0;
      for (const rate of rates) {
        const signals = Math.max(5, Math.round(rate * stepSeconds));
        const result = await scheduledRun(system, ctx.load, { subscribers, signals, rate, base });
        base += signals;
        results.push(result);
        const passed = result.completeness === 1 && result.lastReceiver.p99 <= P99_LIMIT_MS;
        ctx.log(`saturation ${name} ${rate}/s: ${passed ? 'pass' : 'FAIL'} ${describe(result)}`);
        if (!passed) break;
        sustained[name] = result;
        await sleep(500);
      }
      return results;
    });
  }
  return { subscribers, stepSeconds, limitMs: P99_LIMIT_MS, steps, sustained };
}
