/**
 * One scheduled publishing run: send times are planned before the first publish, so a
 * server that is slow to accept a request cannot hide its own delay — latency is counted
 * from the planned send time to each arrival.
 */
import { nowMs } from '../load/protocol.js';
import type { LoadGenerators } from './load.js';
import { round, sleep, summarize, type Summary } from './stats.js';
import type { RunningSystem } from './systems.js';

export interface RunResult {
  subscribers: number;
  signals: number;
  rate: number;
  /** Scheduled send → arrival, every delivery. */
  delivery: Summary;
  /** Scheduled send → arrival at the last subscriber, one value per signal. */
  lastReceiver: Summary;
  /** Delivered / expected. */
  completeness: number;
  duplicates: number;
  gaps: number;
  ack: Summary;
  /** Deliveries per second from the first planned send to the last arrival. */
  deliveriesPerSecond: number;
  /** CPU as a share of one core, over the run. */
  serverCores: number;
  generatorCores: number;
}

export interface Plan {
  subscribers: number;
  signals: number;
  /** Publishes per second. */
  rate: number;
  /** Index of the first signal (signals are numbered across a system's runs). */
  base: number;
}

const SETTLE_MS = 2000;
const MAX_WAIT_MS = 30_000;

/** Waits until `at` on the `nowMs` clock (timers are no finer than a millisecond). */
export async function sleepUntil(at: number): Promise<void> {
  const wait = at - nowMs();
  if (wait > 1) await sleep(wait);
}

/**
 * `count` send times `1000 / rate` ms apart on the `nowMs` clock, the first `leadMs` from now:
 * planned before the first send, so a slow callee cannot push the later ones back.
 */
export function sendTimes(count: number, rate: number, leadMs: number): number[] {
  const start = nowMs() + leadMs;
  return Array.from({ length: count }, (_, k) => start + (k * 1000) / rate);
}

/** Calls `call(k)` at each of `times`, without waiting for what it returns, and resolves with all it returned. */
export async function onSchedule<T>(times: readonly number[], call: (k: number) => T): Promise<T[]> {
  const returned: T[] = [];
  for (const [k, at] of times.entries()) {
    await sleepUntil(at);
    returned.push(call(k));
  }
  return returned;
}

export async function scheduledRun(system: RunningSystem, load: LoadGenerators, plan: Plan): Promise<RunResult> {
  const expected = plan.subscribers * plan.signals;
  load.expect(plan.base, plan.signals);
  await load.delivered(); // the window is open in every generator before the first publish
  const cpuBefore = system.cpuMs();
  const planned = sendTimes(plan.signals, plan.rate, 100);
  const start = planned[0] ?? nowMs();
  const published = await Promise.all(await onSchedule(planned, (k) => system.publish(plan.base + k)));

  // Wait for the deliveries: until all arrived, or nothing new came for a while.
  let last = -1;
  let lastChange = nowMs();
  for (const deadline = nowMs() + MAX_WAIT_MS; nowMs() < deadline;) {
    const delivered = await load.delivered();
    if (delivered >= expected) break;
    if (delivered !== last) {
      last = delivered;
      lastChange = nowMs();
    } else if (nowMs() - lastChange > SETTLE_MS) {
      break;
    }
    await sleep(50);
  }
  const cpuMs = system.cpuMs() - cpuBefore;
  const result = await load.collect();

  const latencies = new Float64Array(result.arrivals.reduce((s, a) => s + a.length, 0));
  const lastArrivals: number[] = [];
  let at = 0;
  let lastArrival = start;
  result.arrivals.forEach((arrivals, k) => {
    let latest = -Infinity;
    for (const t of arrivals) {
      latencies[at++] = t - planned[k]!;
      if (t > latest) latest = t;
    }
    // A signal that did not reach everyone has no last-receiver time; completeness shows it.
    if (arrivals.length === plan.subscribers) lastArrivals.push(latest - planned[k]!);
    if (latest > lastArrival) lastArrival = latest;
  });
  const wallMs = Math.max(1, lastArrival - start);
  return {
    subscribers: plan.subscribers,
    signals: plan.signals,
    rate: plan.rate,
    delivery: summarize(latencies),
    lastReceiver: summarize(lastArrivals),
    completeness: round(latencies.length / expected, 6),
    duplicates: result.duplicates,
    gaps: result.gaps,
    ack: summarize(published.map((p) => p.ackMs)),
    deliveriesPerSecond: Math.round((latencies.length * 1000) / wallMs),
    serverCores: round(cpuMs / wallMs),
    generatorCores: round(result.generatorCores),
  };
}
