/**
 * Measurement 8 — destinations: one signal-desk node delivering every event to 100 signed
 * webhook destinations (a receiver process of its own, answering at once).
 * - Throughput: events published as fast as the node acknowledges them; the figure is how
 *   many events per second reach all 100 destinations (and deliveries per second).
 * - Lag: a steady 10 events/s; for every delivery, the time from the publish's acknowledgement
 *   to the receiver's arrival, p50/p99 over all of them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../lib/context.js';
import { onSchedule, sendTimes } from '../lib/schedule.js';
import { round, sleep, summarize, type Summary } from '../lib/stats.js';

export interface DestinationsResult {
  destinations: number;
  /** `complete`: the share of the burst's events that reached every destination. */
  throughput: {
    events: number;
    seconds: number;
    eventsPerSecond: number;
    deliveriesPerSecond: number;
    complete: number;
  };
  lag: { rate: number; events: number; delivery: Summary; complete: number };
}

export function destinationsPlan(quick: boolean) {
  return quick
    ? { destinations: 5, burst: 20, rate: 10, seconds: 2 }
    : { destinations: 100, burst: 2000, rate: 10, seconds: 30 };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function startSink(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/servers/webhook-sink.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`webhook sink exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) =>
      resolve((JSON.parse(line) as { port: number }).port),
    );
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

interface SinkStats {
  deliveries: number;
  arrivals: Record<string, number[]>;
}

async function stats(sink: string, from: number): Promise<SinkStats> {
  return (await (await fetch(`${sink}/stats?from=${from}`)).json()) as SinkStats;
}

/** The share of `seqs` that reached `each` destinations. */
function completeShare(stats: SinkStats, seqs: readonly number[], each: number): number {
  return round(seqs.filter((seq) => (stats.arrivals[seq]?.length ?? 0) >= each).length / seqs.length, 4);
}

/** Waits until every seq in `seqs` reached `each` destinations (or the deadline). */
async function waitAll(sink: string, seqs: readonly number[], each: number, deadlineMs: number): Promise<SinkStats> {
  const from = Math.min(...seqs);
  for (;;) {
    const s = await stats(sink, from);
    const done = seqs.every((seq) => (s.arrivals[seq]?.length ?? 0) >= each);
    if (done || Date.now() > deadlineMs) return s;
    await sleep(100);
  }
}

export async function destinations(ctx: BenchContext): Promise<DestinationsResult | { skipped: string }> {
  if (!ctx.options.systems.includes('signal-desk')) return { skipped: 'signal-desk not selected' };
  const plan = destinationsPlan(ctx.options.quick);
  const sink = await startSink();
  const system = await ctx.start('signal-desk', [], { DESTINATIONS_ALLOW_PRIVATE: 'true' });
  try {
    for (let i = 0; i < plan.destinations; i++) {
      const res = await system.call<{ id: string }>('POST', '/api/destinations', {
        kind: 'webhook',
        name: `sink ${i}`,
        url: `${sink.url}/d/${i}`,
        channels: ['bench'],
      });
      if (res.status !== 201) throw new Error(`creating destination ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    await sleep(500); // the engine takes its new destinations

    // Throughput: a burst published by 8 concurrent publishers.
    const seqs: number[] = [];
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < plan.burst) {
          const k = next++;
          seqs.push((await system.publish(8_000_000 + k)).seq);
        }
      }),
    );
    const burst = await waitAll(sink.url, seqs, plan.destinations, Date.now() + 600_000);
    const seconds = (Date.now() - started) / 1000;
    const throughput = {
      events: plan.burst,
      seconds: round(seconds),
      eventsPerSecond: round(plan.burst / seconds),
      deliveriesPerSecond: round((plan.burst * plan.destinations) / seconds),
      complete: completeShare(burst, seqs, plan.destinations),
    };
    ctx.log(
      `destinations: ${throughput.eventsPerSecond} events/s to all ${plan.destinations} (${throughput.deliveriesPerSecond} deliveries/s)`,
    );

    // Lag at a steady rate: acknowledgement → arrival, every delivery.
    const acked = new Map<number, number>();
    const times = sendTimes(plan.rate * plan.seconds, plan.rate, 100);
    const published = await onSchedule(times, async (k) => {
      const p = await system.publish(8_500_000 + k);
      acked.set(p.seq, performance.timeOrigin + performance.now());
      return p.seq;
    });
    const steady = await Promise.all(published);
    const s = await waitAll(sink.url, steady, plan.destinations, Date.now() + 60_000);
    const lags: number[] = [];
    for (const seq of steady) {
      for (const at of s.arrivals[seq] ?? []) lags.push(Math.max(0, at - acked.get(seq)!));
    }
    const lag = {
      rate: plan.rate,
      events: steady.length,
      delivery: summarize(lags),
      complete: completeShare(s, steady, plan.destinations),
    };
    ctx.log(`destinations lag at ${plan.rate}/s: p50 ${lag.delivery.p50} ms, p99 ${lag.delivery.p99} ms`);
    return { destinations: plan.destinations, throughput, lag };
  } finally {
    await system.stop();
    sink.child.kill('SIGTERM');
  }
}
