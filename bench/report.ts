/**
 * Renders bench/results/full.json into bench/RESULTS.md (the block between the
 * `results:start` / `results:end` markers; the prose around it is kept) and draws
 * bench/results/last-receiver-p99.svg. Usage: node --import tsx bench/report.ts [results.json]
 * Sections 7–10 (signal-desk alone: replays, destinations, alert intake, metrics) come from
 * bench/results/reach.json when it is there, with the command that wrote it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DurableResult } from './measure/durable.js';
import type { FanoutResult } from './measure/fanout.js';
import type { HistoryResult } from './measure/history.js';
import type { MemoryResult } from './measure/memory.js';
import type { SaturationResult } from './measure/saturation.js';
import type { StormResult } from './measure/storm.js';
import type { ReplayLoadResult } from './measure/replay-load.js';
import type { DestinationsResult } from './measure/destinations.js';
import type { WebhookAckResult } from './measure/webhook-ack.js';
import type { MetricsCostResult } from './measure/metrics-cost.js';
import type { Summary } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SYSTEMS = ['floor', 'plain', 'signal-desk'] as const;
const COLORS: Record<string, string> = { floor: '#888888', plain: '#d9822b', 'signal-desk': '#2b6cd9' };

interface Results {
  startedAt: string;
  finishedAt?: string;
  command: string;
  machine: {
    cpus: number;
    model?: string;
    memoryGiB: number;
    node: string;
    loadAtStart: number[];
    loadAtEnd?: number[];
  };
  fanout?: FanoutResult;
  saturation?: SaturationResult;
  durable?: DurableResult;
  memory?: MemoryResult;
  storm?: StormResult;
  history?: HistoryResult;
  replay?: ReplayLoadResult;
  destinations?: DestinationsResult;
  webhooks?: WebhookAckResult;
  metrics?: MetricsCostResult;
}

/** A figure, or '–' where there is none: a NaN in the run (null once written to JSON) or a missing one. */
const known = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n);
const fmt = (n: number | null | undefined, digits = 1) => (known(n) ? n.toFixed(digits) : '–');
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  known(a) && known(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–';
const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: Array<Array<string | number>>) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

function fanoutSection(f: FanoutResult): string {
  const rows: Array<Array<string | number>> = [];
  f.sizes.forEach((size, i) => {
    const floor = f.runs.floor?.[i];
    const plain = f.runs.plain?.[i];
    for (const name of SYSTEMS) {
      const r = f.runs[name]?.[i];
      if (!r) continue;
      rows.push([
        size.toLocaleString('en'),
        name,
        r.lastReceiver.n,
        fmt(r.lastReceiver.p50),
        fmt(r.lastReceiver.p99),
        fmt(r.lastReceiver.max),
        fmt(r.delivery.p50),
        fmt(r.delivery.p99),
        `${(r.completeness * 100).toFixed(2)}%`,
        r.duplicates,
        fmt(r.serverCores, 2),
        fmt(r.generatorCores, 2),
        ratio(r.lastReceiver.p99, floor?.lastReceiver.p99),
        ratio(r.lastReceiver.p99, plain?.lastReceiver.p99),
        (f.p99s[name]?.[i] ?? []).map((p) => fmt(p)).join(', '),
      ]);
    }
  });
  return [
    `### 1. Fan-out (signals published at ${f.rate}/s, as many per run as the signals column says; ms from the planned send time` +
      (f.repeats > 1
        ? `; each size run ${f.repeats} times with the systems interleaved, the run with the median last-receiver p99 shown)`
        : ')'),
    '',
    table(
      [
        'subscribers',
        'system',
        'signals',
        'last-receiver p50',
        'last-receiver p99',
        'last-receiver max',
        'delivery p50',
        'delivery p99',
        'complete',
        'dup',
        'server cores',
        'generator cores',
        'p99 ÷ floor',
        'p99 ÷ plain',
        'p99 of each run',
      ],
      rows,
    ),
    '',
    '![last-receiver p99 against subscribers](results/last-receiver-p99.svg)',
  ].join('\n');
}

function saturationSection(s: SaturationResult): string {
  const floor = s.sustained.floor;
  const rows = SYSTEMS.filter((n) => s.steps[n]).map((name) => {
    const ok = s.sustained[name];
    const steps = s.steps[name] ?? [];
    const failed = steps[steps.length - 1];
    return [
      name,
      ok ? `${ok.rate}/s` : 'none',
      ok ? Math.round(ok.deliveriesPerSecond).toLocaleString('en') : '–',
      fmt(ok?.lastReceiver.p99),
      failed && failed !== ok
        ? `${failed.rate}/s: p99 ${fmt(failed.lastReceiver.p99)} ms, ${(failed.completeness * 100).toFixed(2)}%`
        : 'never (top of ladder)',
      fmt(ok?.serverCores, 2),
      fmt(ok?.generatorCores, 2),
      ratio(ok?.deliveriesPerSecond, floor?.deliveriesPerSecond),
    ];
  });
  return [
    `### 2. Saturation (${s.subscribers.toLocaleString('en')} subscribers, ${s.stepSeconds} s per step, limit last-receiver p99 ≤ ${s.limitMs} ms and 100% complete)`,
    '',
    table(
      [
        'system',
        'highest passing rate',
        'deliveries/s there',
        'last-receiver p99',
        'first failing step',
        'server cores',
        'generator cores',
        'throughput ÷ floor',
      ],
      rows,
    ),
  ].join('\n');
}

function durableSection(d: DurableResult): string {
  const pair = (s: Summary | undefined) => (s ? `${fmt(s.p50, 2)} / ${fmt(s.p99, 2)}` : '–');
  const rows = d.rates.map((rate, i) => {
    const desk = d.acks['signal-desk']?.[i];
    const disk = d.disk?.commits[i];
    return [
      `${rate}/s`,
      ...SYSTEMS.map((n) => pair(d.acks[n]?.[i])),
      pair(disk),
      ratio(desk?.p99, d.acks.plain?.[i]?.p99),
      ratio(desk?.p99, disk?.p99),
    ];
  });
  rows.push([
    'first publish after start',
    ...SYSTEMS.map((n) => (d.firstAckMs[n] === undefined ? '–' : fmt(d.firstAckMs[n], 2))),
    '–',
    ratio(d.firstAckMs['signal-desk'], d.firstAckMs.plain),
    '–',
  ]);
  return [
    `### 3. Durable publish (acknowledgement ms, p50 / p99; ${d.seconds} s per rate, after ${d.warmup} unmeasured publishes per server; signal-desk commits with synchronous=FULL, the baselines store nothing)`,
    '',
    table(
      [
        'rate',
        ...SYSTEMS,
        'disk alone (an append’s WAL frames + fsync)',
        'signal-desk p99 ÷ plain',
        'signal-desk p99 ÷ disk alone',
      ],
      rows,
    ),
    ...(d.disk
      ? [
          '',
          `The disk alone ran the same schedule right after signal-desk, in the same directory: ${d.disk.pages} WAL frames written and fsync per publish, each timed from its start to the end of its fsync (\`bench/lib/disk.ts\`).`,
        ]
      : []),
  ].join('\n');
}

function memorySection(m: MemoryResult): string {
  const rows: Array<Array<string | number>> = [];
  m.sizes.forEach((size, i) => {
    for (const name of SYSTEMS) {
      const r = m.runs[name]?.[i];
      if (!r) continue;
      rows.push([
        size.toLocaleString('en'),
        name,
        fmt(r.rssBefore / 2 ** 20),
        fmt(r.rssAfter / 2 ** 20),
        fmt(r.bytesPerSubscriber / 1024, 1),
        ratio(r.bytesPerSubscriber, m.runs.floor?.[i]?.bytesPerSubscriber),
        ratio(r.bytesPerSubscriber, m.runs.plain?.[i]?.bytesPerSubscriber),
      ]);
    }
  });
  return [
    '### 4. Memory (server RSS growth per idle connected subscriber)',
    '',
    table(
      ['subscribers', 'system', 'RSS before (MiB)', 'RSS after (MiB)', 'KB per subscriber', '÷ floor', '÷ plain'],
      rows,
    ),
  ].join('\n');
}

function stormSection(s: StormResult): string {
  const floor = s.runs.floor?.caughtUp.max;
  const rows = SYSTEMS.filter((n) => s.runs[n]).map((name) => {
    const r = s.runs[name]!;
    return [
      name,
      fmt(r.caughtUp.p50),
      fmt(r.caughtUp.p99),
      fmt(r.caughtUp.max),
      r.behind,
      r.duplicates,
      r.gaps,
      ratio(r.caughtUp.max, floor),
    ];
  });
  return [
    `### 5. Reconnect storm (${s.subscribers.toLocaleString('en')} subscribers reconnect at once after missing ${s.missed} signals; ms until caught up)`,
    '',
    table(['system', 'p50', 'p99', 'all caught up', 'behind', 'dup', 'gaps', 'all ÷ floor'], rows),
  ].join('\n');
}

function historySection(h: HistoryResult): string {
  const kinds = [...new Set(Object.values(h.runs).flatMap((r) => Object.keys(r)))];
  const rows = kinds.map((kind) => [
    kind,
    ...(['plain', 'signal-desk'] as const).map((n) => {
      const s = h.runs[n]?.[kind];
      return s ? `${fmt(s.p50, 2)} / ${fmt(s.p99, 2)}` : '–';
    }),
  ]);
  return [
    `### 6. History (${h.events.toLocaleString('en')} events in the log, ${h.requests} sequential requests each; ms p50 / p99)`,
    '',
    table(['request', 'plain (in memory)', 'signal-desk (SQLite)'], rows),
    '',
    'The floor keeps no history. `events after` asks for 100 events after a point spread over the whole log; the subscriber sees one of four channels.',
  ].join('\n');
}

const pair = (s: Summary) => `${fmt(s.p50, 2)} / ${fmt(s.p99, 2)}`;

function replaySection(r: ReplayLoadResult): string {
  const probes = [
    ['publish acknowledgement', (p: ReplayLoadResult['idle']) => p.ack],
    ['`GET /healthz`', (p: ReplayLoadResult['idle']) => p.health],
  ] as const;
  return [
    `### 7. Replays beside publishes (${r.replayers} clients replay a ${r.events.toLocaleString('en')}-event log from seq 0 over Socket.IO while publishes at 10/s and health checks at 20/s are timed, ${r.probeSeconds} s each phase; ms p50 / p99)`,
    '',
    table(
      ['probe', 'idle, before', `while ${r.replayers} replay`, 'idle, after', 'p99 loaded ÷ lower idle p99'],
      probes.map(([name, pick]) => [
        name,
        pair(pick(r.idle)),
        pair(pick(r.loaded)),
        pair(pick(r.idleAfter)),
        ratio(pick(r.loaded).p99, Math.min(pick(r.idle).p99, pick(r.idleAfter).p99)),
      ]),
    ),
    '',
    `The replaying clients received ${Math.round(r.replayedPerSecond).toLocaleString('en')} events/s together meanwhile, with ${r.duplicates} duplicates and ${r.gaps} gaps.`,
  ].join('\n');
}

function destinationsSection(d: DestinationsResult): string {
  return [
    `### 8. Destinations (${d.destinations} signed webhooks to a local receiver that answers 200 at once)`,
    '',
    table(
      ['run', 'figure'],
      [
        [
          `burst of ${d.throughput.events.toLocaleString('en')} events, all to every destination`,
          `${fmt(d.throughput.eventsPerSecond, 1)} events/s (${Math.round(d.throughput.deliveriesPerSecond).toLocaleString('en')} deliveries/s), ${fmt(d.throughput.seconds, 1)} s`,
        ],
        [
          `${d.lag.rate} events/s for ${d.lag.events / d.lag.rate} s, publish acknowledged → arrived at the receiver, every delivery`,
          `p50 ${fmt(d.lag.delivery.p50, 1)} ms, p99 ${fmt(d.lag.delivery.p99, 1)} ms, max ${fmt(d.lag.delivery.max, 1)} ms; ${fmt(d.lag.complete * 100, 1)} % delivered`,
        ],
      ],
    ),
  ].join('\n');
}

function webhookSection(w: WebhookAckResult): string {
  const statuses = Object.entries(w.statuses)
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ');
  return [
    `### 9. TradingView alert intake (${w.rate} alerts/s for ${w.seconds} s after ${w.warmup} unmeasured; request sent → 201 read)`,
    '',
    table(
      ['alerts', 'p50 ms', 'p99 ms', 'max ms', 'answers'],
      [[w.requests, fmt(w.ack.p50, 2), fmt(w.ack.p99, 2), fmt(w.ack.max, 2), statuses]],
    ),
  ].join('\n');
}

function metricsSection(m: MetricsCostResult): string {
  const rows = (['off', 'on'] as const).map((side) => {
    const r = m[side];
    return [
      side === 'off' ? 'metrics off' : `metrics on, scraped every second (${m.scrapes} scrapes)`,
      pair(r.lastReceiver),
      `${fmt(r.completeness * 100, 1)} %`,
      r.duplicates,
      m.p99s[side].map((p) => fmt(p, 1)).join(', '),
    ];
  });
  return [
    `### 10. Cost of metrics (fan-out to ${m.subscribers.toLocaleString('en')} subscribers, ${m.signals} signals at ${m.rate}/s, ${m.repeats} runs each way interleaved, the median run shown; ms from the planned send time)`,
    '',
    table(['server', 'last receiver p50 / p99', 'complete', 'duplicates', "every run's p99"], rows),
    '',
    `Last-receiver p99, on ÷ off: **${fmt(m.ratio, 2)}×**.`,
  ].join('\n');
}

function reachSections(r: Results): string {
  const m = r.machine;
  const sections = [
    r.replay && replaySection(r.replay),
    r.destinations && destinationsSection(r.destinations),
    r.webhooks && webhookSection(r.webhooks),
    r.metrics && metricsSection(r.metrics),
  ].filter(Boolean);
  return [
    `Sections 7–10: run ${r.startedAt} → ${r.finishedAt ?? '?'} with \`${r.command}\` on ${m.cpus} × ${m.model ?? 'CPU'}, Node ${m.node}; load average ${m.loadAtStart.map((l) => l.toFixed(2)).join(' ')} at the start.`,
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
}

function chart(f: FanoutResult): string {
  const W = 640;
  const H = 380;
  const left = 70;
  const right = 150;
  const top = 30;
  const bottom = 50;
  // Both axes are logarithmic: the sizes span 20 ×, the latencies 200 ×, and on a linear
  // axis the smaller sizes would lie flat on the baseline.
  const values = SYSTEMS.flatMap((n) => (f.runs[n] ?? []).map((r) => r.lastReceiver.p99)).filter((v) => v > 0);
  const lMin = Math.floor(Math.log10(Math.min(10, ...values)));
  const lMax = Math.max(Math.ceil(Math.log10(Math.max(1, ...values))), lMin + 1);
  const xs = f.sizes.map((s) => Math.log10(s));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const x = (size: number) => left + ((Math.log10(size) - xMin) / (xMax - xMin)) * (W - left - right);
  const y = (v: number) => top + (1 - (Math.log10(v) - lMin) / (lMax - lMin)) * (H - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="14">Last-receiver p99 latency (ms, log scale) against connected subscribers</text>`,
    `<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="black"/>`,
  ];
  for (let decade = lMin; decade <= lMax; decade++) {
    for (const step of [1, 2, 5]) {
      const v = step * 10 ** decade;
      if (Math.log10(v) > lMax) break;
      parts.push(
        `<line x1="${left}" y1="${y(v)}" x2="${W - right}" y2="${y(v)}" stroke="${step === 1 ? '#d0d0d0' : '#eeeeee'}"/>`,
        `<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end">${v.toLocaleString('en')}</text>`,
      );
    }
  }
  for (const size of f.sizes) {
    parts.push(`<text x="${x(size)}" y="${H - bottom + 18}" text-anchor="middle">${size.toLocaleString('en')}</text>`);
  }
  parts.push(`<text x="${(left + W - right) / 2}" y="${H - 10}" text-anchor="middle">subscribers (log scale)</text>`);
  SYSTEMS.forEach((name, i) => {
    // A size where no signal reached every subscriber has no p99 (null in the JSON): no point.
    const runs = (f.runs[name] ?? []).filter((r) => r.lastReceiver.p99 > 0);
    if (!runs.length) return;
    const points = runs.map((r) => `${x(r.subscribers).toFixed(1)},${y(r.lastReceiver.p99).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${COLORS[name]}" stroke-width="2.5" points="${points.join(' ')}"/>`);
    for (const r of runs) {
      parts.push(
        `<circle cx="${x(r.subscribers).toFixed(1)}" cy="${y(r.lastReceiver.p99).toFixed(1)}" r="4" fill="${COLORS[name]}"/>`,
      );
    }
    const ly = top + 20 + i * 22;
    parts.push(
      `<line x1="${W - right + 15}" y1="${ly}" x2="${W - right + 40}" y2="${ly}" stroke="${COLORS[name]}" stroke-width="2.5"/>`,
      `<text x="${W - right + 46}" y="${ly + 4}">${name}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function render(r: Results): string {
  const m = r.machine;
  return [
    `Run ${r.startedAt} → ${r.finishedAt ?? '?'} with \`${r.command}\` on ${m.cpus} × ${m.model ?? 'CPU'}, ${m.memoryGiB} GiB, Node ${m.node}; load average ${m.loadAtStart.map((l) => l.toFixed(2)).join(' ')} at the start, ${(m.loadAtEnd ?? []).map((l) => l.toFixed(2)).join(' ')} at the end.`,
    '',
    ...(r.fanout ? [fanoutSection(r.fanout), ''] : []),
    ...(r.saturation ? [saturationSection(r.saturation), ''] : []),
    ...(r.durable ? [durableSection(r.durable), ''] : []),
    ...(r.memory ? [memorySection(r.memory), ''] : []),
    ...(r.storm ? [stormSection(r.storm), ''] : []),
    ...(r.history ? [historySection(r.history), ''] : []),
  ].join('\n');
}

const input = process.argv[2] ?? join(HERE, 'results', 'full.json');
const results = JSON.parse(readFileSync(input, 'utf8')) as Results;
let reach: Results | undefined;
try {
  reach = JSON.parse(readFileSync(join(HERE, 'results', 'reach.json'), 'utf8')) as Results;
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
if (results.fanout) writeFileSync(join(HERE, 'results', 'last-receiver-p99.svg'), chart(results.fanout));
const file = join(HERE, 'RESULTS.md');
let doc: string;
try {
  doc = readFileSync(file, 'utf8');
} catch {
  doc = '# Benchmark results\n\n<!-- results:start -->\n<!-- results:end -->\n';
}
const start = '<!-- results:start -->';
const end = '<!-- results:end -->';
const before = doc.slice(0, doc.indexOf(start) + start.length);
const after = doc.slice(doc.indexOf(end));
writeFileSync(file, `${before}\n\n${render(results)}\n${reach ? `${reachSections(reach)}\n` : ''}${after}`);
console.log(`wrote ${file}`);
