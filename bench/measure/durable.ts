/**
 * Measurement 3 — durable publish: acknowledgement latency of `POST` at fixed publish
 * rates. Signal-desk answers only after a WAL commit with synchronous=FULL (its store
 * refuses to open otherwise); the baselines acknowledge from memory.
 *
 * Each fresh server first takes a run of unmeasured publishes, the same for every system,
 * so the rates measure the steady state rather than the first calls' JIT compilation and
 * statement preparation. The very first acknowledgement is kept and reported on its own.
 */
import type { BenchContext } from '../lib/context.js';
import { DiskCommits, PAGES_PER_APPEND } from '../lib/disk.js';
import { nowMs } from '../load/protocol.js';
import { onSchedule, sendTimes } from '../lib/schedule.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface DurableResult {
  seconds: number;
  rates: number[];
  /** Unmeasured publishes each server took before the rates. */
  warmup: number;
  acks: Record<string, Summary[]>;
  /** Each system's first acknowledgement after start (ms): the cold path. */
  firstAckMs: Record<string, number>;
  /**
   * The disk alone at each rate, right after signal-desk (when it ran): one append's WAL
   * frames and fsync per publish, in the directory its databases live in (lib/disk.ts).
   */
  disk?: { pages: number; commits: Summary[] };
}

export function durablePlan(quick: boolean) {
  return quick ? { rates: [10, 100], seconds: 1, warmup: 20 } : { rates: [10, 100, 500], seconds: 10, warmup: 300 };
}

export async function durable(ctx: BenchContext): Promise<DurableResult> {
  const { rates, seconds, warmup } = durablePlan(ctx.options.quick);
  const acks: Record<string, Summary[]> = {};
  const firstAckMs: Record<string, number> = {};
  for (const name of ctx.options.systems) {
    acks[name] = await ctx.with(name, async (system) => {
      const out: Summary[] = [];
      let index = 0;
      firstAckMs[name] = (await system.publish(index++)).ackMs;
      while (index < warmup) await system.publish(index++);
      ctx.log(
        `durable ${name}: first ack ${firstAckMs[name]!.toFixed(2)} ms, then ${warmup - 1} more unmeasured publishes`,
      );
      for (const rate of rates) {
        const pending = await onSchedule(timesAt(rate, seconds), () => system.publish(index++));
        const summary = summarize((await Promise.all(pending)).map((p) => p.ackMs));
        ctx.log(`durable ${name} ${rate}/s: ack p50 ${summary.p50} p99 ${summary.p99} max ${summary.max} ms`);
        out.push(summary);
      }
      return out;
    });
  }
  const result: DurableResult = { seconds, rates, warmup, acks, firstAckMs };
  if (ctx.options.systems.includes('signal-desk')) result.disk = await diskAlone(ctx, rates, seconds);
  return result;
}

/** The send times of one rate: `rate` a second for `seconds`, at least 20 of them. */
const timesAt = (rate: number, seconds: number) => sendTimes(Math.max(20, rate * seconds), rate, 50);

/**
 * The same schedule of commits on the disk alone, each timed from its start to the end of its
 * fsync (a timer that wakes early would otherwise credit the disk with the wait).
 */
async function diskAlone(
  ctx: BenchContext,
  rates: readonly number[],
  seconds: number,
): Promise<NonNullable<DurableResult['disk']>> {
  const disk = new DiskCommits(ctx.dataDir);
  try {
    const commits: Summary[] = [];
    for (const rate of rates) {
      const ms = await onSchedule(timesAt(rate, seconds), () => {
        const started = nowMs();
        disk.commit();
        return nowMs() - started;
      });
      const summary = summarize(ms);
      ctx.log(`durable disk alone ${rate}/s: commit p50 ${summary.p50} p99 ${summary.p99} max ${summary.max} ms`);
      commits.push(summary);
    }
    return { pages: PAGES_PER_APPEND, commits };
  } finally {
    disk.close();
  }
}
