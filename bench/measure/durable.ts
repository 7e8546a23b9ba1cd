/**
 * Measurement 3 — durable publish: acknowledgement latency of `POST` at fixed publish
 * rates. Signal-desk answers only after a WAL commit with synchronous=FULL (its store
 * refuses to open otherwise); the baselines acknowledge from memory.
 */
import type { BenchContext } from '../lib/context.js';
import { nowMs } from '../load/protocol.js';
import { sleep, summarize, type Summary } from '../lib/stats.js';
import type { Published } from '../lib/systems.js';

export interface DurableResult {
  seconds: number;
  rates: number[];
  acks: Record<string, Summary[]>;
}

export function durablePlan(quick: boolean) {
  return quick ? { rates: [10, 100], seconds: 1 } : { rates: [10, 100, 500], seconds: 5 };
}

export async function durable(ctx: BenchContext): Promise<DurableResult> {
  const { rates, seconds } = durablePlan(ctx.options.quick);
  const acks: Record<string, Summary[]> = {};
  for (const name of ctx.options.systems) {
    acks[name] = await ctx.with(name, async (system) => {
      const out: Summary[] = [];
      let index = 0;
      for (const rate of rates) {
        const count = Math.max(20, rate * seconds);
        const start = nowMs() + 50;
        const pending: Array<Promise<Published>> = [];
        for (let k = 0; k < count; k++) {
          const wait = start + (k * 1000) / rate - nowMs();
          if (wait > 1) await sleep(wait);
          pending.push(system.publish(index++));
        }
        const summary = summarize((await Promise.all(pending)).map((p) => p.ackMs));
        ctx.log(`durable ${name} ${rate}/s: ack p50 ${summary.p50} p99 ${summary.p99} max ${summary.max} ms`);
        out.push(summary);
      }
      return out;
    });
  }
  return { seconds, rates, acks };
}
