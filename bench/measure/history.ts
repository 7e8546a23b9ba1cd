/**
 * Measurement 6 — history: latency of the first page of `GET /api/signals` and of
 * `GET /api/events?after=` (a random point in the log) with a large log, requests one at a
 * time. Signal-desk reads its SQLite file (entitlement-filtered for a subscriber); plain
 * slices its in-memory array; the floor keeps no history.
 */
import { nowMs } from '../load/protocol.js';
import type { BenchContext } from '../lib/context.js';
import { servingHistory } from '../lib/history-db.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface HistoryResult {
  events: number;
  requests: number;
  runs: Record<string, Record<string, Summary>>;
}

export function historyPlan(quick: boolean) {
  return quick ? { events: 2000, requests: 30 } : { events: 1_000_000, requests: 500 };
}

async function timed(requests: number, call: (i: number) => Promise<{ status: number }>): Promise<Summary> {
  for (let i = 0; i < 20; i++) await call(i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = nowMs();
    const res = await call(i);
    times.push(nowMs() - started);
    if (res.status !== 200) throw new Error(`history request answered ${res.status}`);
  }
  return summarize(times);
}

/** A deterministic spread of `after` values over the log. */
const afterAt = (i: number, head: number) => Math.floor((((i * 7919) % 1000) / 1000) * Math.max(1, head - 100));

export async function history(ctx: BenchContext): Promise<HistoryResult> {
  const { events, requests } = historyPlan(ctx.options.quick);
  const runs: HistoryResult['runs'] = {};
  for (const name of ctx.options.systems) {
    if (name === 'floor') continue;
    if (name === 'plain') {
      runs[name] = await ctx.with('plain', async (system) => {
        await system.call('POST', `/seed?count=${events}`);
        const signals = await timed(requests, () => system.call('GET', '/api/signals?limit=50'));
        const after = await timed(requests, (i) =>
          system.call('GET', `/api/events?after=${afterAt(i, events)}&limit=100`),
        );
        return { 'signals first page': signals, 'events after': after };
      });
    } else {
      runs[name] = await servingHistory(ctx, events, async (system, db) => {
        const subscriber = db.tokens[0]!;
        return {
          'signals first page': await timed(requests, () =>
            system.call('GET', '/api/signals?limit=50', undefined, subscriber),
          ),
          'signals first page (admin)': await timed(requests, () => system.call('GET', '/api/signals?limit=50')),
          'events after': await timed(requests, (i) =>
            system.call('GET', `/api/events?after=${afterAt(i, db.headSeq)}&limit=100`, undefined, subscriber),
          ),
        };
      });
    }
    for (const [what, s] of Object.entries(runs[name] ?? {}))
      ctx.log(`history ${name} ${what}: p50 ${s.p50} p99 ${s.p99} ms`);
  }
  return { events, requests, runs };
}
