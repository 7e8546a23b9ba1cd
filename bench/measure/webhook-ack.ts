/**
 * Measurement — webhook acknowledgement: how long TradingView waits for its answer. A source
 * is created through the API with the admin token, then TradingView-style JSON alerts, each
 * with its own `id`, are posted to its address at 50 a second for 20 s (3 s quick) on send
 * times planned before the first one, over keep-alive connections as TradingView's senders
 * hold them. Each time runs from the request being sent to the 201 being read: the alert's
 * lookup, rate count, validation and durable append included. TradingView gives up after
 * 3 seconds, so the maximum is the figure that matters; every request must have been a 201.
 */
import { Agent, request } from 'node:http';
import { SOURCE_LIMITS } from '../../shared/sources.js';
import { nowMs } from '../load/protocol.js';
import type { BenchContext } from '../lib/context.js';
import { CHANNEL } from '../lib/payload.js';
import { onSchedule, sendTimes } from '../lib/schedule.js';
import { summarize, type Summary } from '../lib/stats.js';
import type { RunningSystem } from '../lib/systems.js';

export interface WebhookAckResult {
  rate: number;
  seconds: number;
  /** Unmeasured alerts the server took first (JIT, prepared statements). */
  warmup: number;
  requests: number;
  /** Request sent → 201 read (ms), every measured alert. */
  ack: Summary;
  /** How many answers had each status. */
  statuses: Record<string, number>;
  allCreated: boolean;
}

export function webhookAckPlan(quick: boolean) {
  return { rate: 50, seconds: quick ? 3 : 20, warmup: quick ? 20 : 200 };
}

/** A strategy alert as TradingView renders the template: every value a string, a unique id. */
function alertBody(index: number): string {
  return JSON.stringify({
    ticker: `BINANCE:BTC${index % 100}USDT`,
    action: 'buy',
    marketPosition: 'long',
    price: '64250.5',
    sl: '63100',
    tp: '65000 66500 68000',
    interval: '240',
    id: `bench-${index}`,
  });
}

interface Answer {
  status: number;
  ms: number;
}

function postAlert(agent: Agent, url: string, body: string): Promise<Answer> {
  const payload = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const started = nowMs();
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: nowMs() - started }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function createSource(system: RunningSystem): Promise<string> {
  const created = await system.call<{ url: string }>('POST', '/api/sources', {
    kind: 'tradingview',
    channel: CHANNEL,
    name: 'bench alerts',
    label: 'bench',
    market: 'crypto',
    // The measurement is of the answer, not of the per-source limit.
    ratePerMinute: SOURCE_LIMITS.ratePerMinuteMax,
  });
  if (created.status !== 201) {
    throw new Error(`creating the source answered ${created.status}: ${JSON.stringify(created.body)}`);
  }
  return `${system.url}${created.body.url}`;
}

export async function webhookAck(ctx: BenchContext): Promise<WebhookAckResult | { skipped: string }> {
  if (!ctx.options.systems.includes('signal-desk')) return { skipped: 'signal-desk not selected' };
  const { rate, seconds, warmup } = webhookAckPlan(ctx.options.quick);
  return ctx.with('signal-desk', async (system) => {
    const url = await createSource(system);
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    try {
      for (let i = 0; i < warmup; i++) await postAlert(agent, url, alertBody(i));
      const times = sendTimes(rate * seconds, rate, 50);
      const answers = await Promise.all(await onSchedule(times, (k) => postAlert(agent, url, alertBody(warmup + k))));
      const statuses: Record<string, number> = {};
      for (const { status } of answers) statuses[status] = (statuses[status] ?? 0) + 1;
      const ack = summarize(answers.map((a) => a.ms));
      const allCreated = answers.every((a) => a.status === 201);
      ctx.log(
        `webhook ack ${rate}/s for ${seconds} s: p50 ${ack.p50} p99 ${ack.p99} max ${ack.max} ms; ` +
          `statuses ${JSON.stringify(statuses)}`,
      );
      return { rate, seconds, warmup, requests: answers.length, ack, statuses, allCreated };
    } finally {
      agent.destroy();
    }
  });
}
