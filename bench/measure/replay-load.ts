/**
 * Measurement 7 — replay load: what long replays cost everyone else. Twenty subscribers
 * reconnect with `lastSeq` 0 to a 1,000,000-event log (each entitled to every channel, so
 * each replays the whole log from the database) while the bench publishes at 10/s and asks
 * `/healthz` at 20/s. The publish acknowledgement and health-check latency under that load
 * are compared with the same probes on the idle server, in the same run, before the replays
 * and again after their clients have gone: the ratio to the lower of the two idle p99s is the
 * figure (a replay reads one page per event-loop turn, see server/core/backlog.ts).
 */
import { randomUUID } from 'node:crypto';
import { newToken, tokenHash } from '../../server/auth/tokens.js';
import { openSqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { nowMs } from '../load/protocol.js';
import type { BenchContext } from '../lib/context.js';
import { servingHistory } from '../lib/history-db.js';
import { onSchedule, sendTimes } from '../lib/schedule.js';
import { round, sleep, summarize, type Summary } from '../lib/stats.js';
import type { RunningSystem } from '../lib/systems.js';

export interface Probes {
  /** Publish: request sent → 201 read (ms). */
  ack: Summary;
  /** `GET /healthz`: request sent → answer read (ms). */
  health: Summary;
}

export interface ReplayLoadResult {
  events: number;
  replayers: number;
  probeSeconds: number;
  /** Before the replays start. */
  idle: Probes;
  loaded: Probes;
  /** Once the replaying clients have gone: the same server, idle again. */
  idleAfter: Probes;
  /** loaded p99 ÷ the lower of the two idle p99s. */
  ratio: { ack: number; health: number };
  /** Events the replaying clients received per second during the loaded probes, all together. */
  replayedPerSecond: number;
  duplicates: number;
  gaps: number;
}

export function replayPlan(quick: boolean) {
  return quick
    ? { events: 5000, replayers: 4, probeSeconds: 3 }
    : { events: 1_000_000, replayers: 20, probeSeconds: 20 };
}

const PUBLISH_RATE = 10;
const HEALTH_RATE = 20;

/** Subscribers entitled to every channel of the history log, each with a session. */
async function addReplayers(file: string, count: number): Promise<string[]> {
  const store = openSqliteStore(file);
  try {
    await store.migrate();
    const channels = (await store.listChannels()).map((c) => c.slug);
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const user = await store.createUser({
        email: `replayer-${i}-${randomUUID()}@bench.test`,
        name: null,
        role: 'subscriber',
        passwordHash: '!benchmark-user-without-password',
      });
      for (const channel of channels) await store.grant(user.id, channel);
      const token = newToken();
      await store.createSession({
        id: randomUUID(),
        tokenHash: tokenHash(token),
        userId: user.id,
        expiresAt: '2999-01-01T00:00:00.000Z',
      });
      tokens.push(token);
    }
    return tokens;
  } finally {
    await store.close();
  }
}

/** Publishes at 10/s and asks /healthz at 20/s for `seconds`, on planned send times. */
async function probe(system: RunningSystem, seconds: number, base: number): Promise<Probes> {
  const publishes = sendTimes(seconds * PUBLISH_RATE, PUBLISH_RATE, 50);
  const checks = sendTimes(seconds * HEALTH_RATE, HEALTH_RATE, 75);
  const timedHealth = async () => {
    const started = nowMs();
    const res = await system.call('GET', '/healthz');
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
    return nowMs() - started;
  };
  const [acks, health] = await Promise.all([
    onSchedule(publishes, (k) => system.publish(base + k).then((p) => p.ackMs)),
    onSchedule(checks, () => timedHealth()),
  ]);
  return { ack: summarize(await Promise.all(acks)), health: summarize(await Promise.all(health)) };
}

export async function replayLoad(ctx: BenchContext): Promise<ReplayLoadResult | { skipped: string }> {
  if (!ctx.options.systems.includes('signal-desk')) return { skipped: 'signal-desk not selected' };
  const { events, replayers, probeSeconds } = replayPlan(ctx.options.quick);
  return servingHistory(
    ctx,
    events,
    async (system, _db, tokens) => {
      try {
        await probe(system, 2, 9_000_000); // warm-up
        const idle = await probe(system, probeSeconds, 9_100_000);
        ctx.log(`replay load idle: ack p99 ${idle.ack.p99} ms, /healthz p99 ${idle.health.p99} ms`);

        // The order checks count from here: what earlier measurements left is theirs.
        ctx.load.expect(0, 0);
        await ctx.load.open(
          system.url,
          tokens.map((token) => ({ token, lastSeq: 0 })),
          'connect',
        );
        // Every replay under way before the probes start.
        const deadline = Date.now() + 60_000;
        while ((await ctx.load.positions()).seqs.some((seq) => seq <= 0)) {
          if (Date.now() > deadline) throw new Error('the replays did not start within 60 s');
          await sleep(100);
        }
        const before = await ctx.load.positions();
        const started = nowMs();
        const loaded = await probe(system, probeSeconds, 9_200_000);
        const after = await ctx.load.positions();
        const sum = (seqs: number[]) => seqs.reduce((a, b) => a + b, 0);
        const replayedPerSecond = Math.round((sum(after.seqs) - sum(before.seqs)) / ((nowMs() - started) / 1000));
        ctx.log(
          `replay load with ${replayers} replays: ack p99 ${loaded.ack.p99} ms, /healthz p99 ${loaded.health.p99} ms; ` +
            `${replayedPerSecond} events/s replayed`,
        );
        await ctx.load.closeClients();
        const idleAfter = await probe(system, probeSeconds, 9_300_000);
        ctx.log(`replay load idle again: ack p99 ${idleAfter.ack.p99} ms, /healthz p99 ${idleAfter.health.p99} ms`);
        const idleP99 = (pick: (p: Probes) => Summary) => Math.min(pick(idle).p99, pick(idleAfter).p99);
        return {
          events,
          replayers,
          probeSeconds,
          idle,
          loaded,
          idleAfter,
          ratio: {
            ack: round(loaded.ack.p99 / idleP99((p) => p.ack)),
            health: round(loaded.health.p99 / idleP99((p) => p.health)),
          },
          replayedPerSecond,
          duplicates: after.duplicates,
          gaps: after.gaps,
        };
      } finally {
        await ctx.load.closeClients();
      }
    },
    (file: string) => addReplayers(file, replayers),
  );
}
