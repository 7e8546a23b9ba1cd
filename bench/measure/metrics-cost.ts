/**
 * Measurement 9 — what metrics cost the fan-out: signal-desk at 5,000 subscribers, the same
 * schedule as the fan-out measurement, run with metrics off (no METRICS_TOKEN) and on (the
 * token set and `/metrics` scraped every second, as Prometheus would), interleaved
 * `repeats` times each. The figure is the ratio of the median last-receiver p99 (on ÷ off);
 * the runs of one setting differ from each other by more than that ratio should be trusted.
 */
import type { BenchContext } from '../lib/context.js';
import { scheduledRun, type RunResult } from '../lib/schedule.js';
import { round } from '../lib/stats.js';
import { describe, medianRun, WARMUP_SIGNALS } from './fanout.js';

export interface MetricsCostResult {
  subscribers: number;
  signals: number;
  rate: number;
  repeats: number;
  off: RunResult;
  on: RunResult;
  /** Every run's last-receiver p99, in the order run. */
  p99s: { off: number[]; on: number[] };
  scrapes: number;
  /** on ÷ off, of the median runs' last-receiver p99. */
  ratio: number;
}

export function metricsCostPlan(quick: boolean) {
  return quick
    ? { subscribers: 200, signals: 10, rate: 10, repeats: 1 }
    : { subscribers: 5000, signals: 100, rate: 5, repeats: 3 };
}

const TOKEN = 'bench-metrics-token-0123456789abcdef';

export async function metricsCost(ctx: BenchContext): Promise<MetricsCostResult | { skipped: string }> {
  if (!ctx.options.systems.includes('signal-desk')) return { skipped: 'signal-desk not selected' };
  const plan = metricsCostPlan(ctx.options.quick);
  const results = { off: [] as RunResult[], on: [] as RunResult[] };
  let scrapes = 0;
  let base = 9_600_000;
  for (let r = 0; r < plan.repeats; r++) {
    for (const setting of ['off', 'on'] as const) {
      const env: Record<string, string> = setting === 'on' ? { METRICS_TOKEN: TOKEN } : {};
      const system = await ctx.start('signal-desk', [], env);
      let scraping: NodeJS.Timeout | undefined;
      try {
        await ctx.load.open(system.url, system.clients(plan.subscribers, await system.headSeq()), system.readyOn);
        if (setting === 'on') {
          scraping = setInterval(() => {
            void fetch(`${system.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
              .then(async (res) => {
                await res.text();
                if (res.status === 200) scrapes++;
              })
              .catch(() => {});
          }, 1000);
        }
        if (!ctx.options.quick) {
          await scheduledRun(system, ctx.load, {
            subscribers: plan.subscribers,
            signals: WARMUP_SIGNALS,
            rate: plan.rate,
            base: base + plan.signals,
          });
        }
        const result = await scheduledRun(system, ctx.load, {
          subscribers: plan.subscribers,
          signals: plan.signals,
          rate: plan.rate,
          base,
        });
        ctx.log(`metrics ${setting} ${plan.subscribers} (run ${r + 1}/${plan.repeats}): ${describe(result)}`);
        results[setting].push(result);
      } finally {
        clearInterval(scraping);
        await ctx.load.closeClients();
        await system.stop();
      }
      base += plan.signals + WARMUP_SIGNALS;
    }
  }
  const off = medianRun(results.off);
  const on = medianRun(results.on);
  const ratio = round(on.lastReceiver.p99 / off.lastReceiver.p99);
  ctx.log(
    `metrics on ÷ off at ${plan.subscribers}: ${ratio} (p99 ${on.lastReceiver.p99} vs ${off.lastReceiver.p99} ms)`,
  );
  return {
    ...plan,
    off,
    on,
    p99s: { off: results.off.map((x) => x.lastReceiver.p99), on: results.on.map((x) => x.lastReceiver.p99) },
    scrapes,
    ratio,
  };
}
