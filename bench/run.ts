/**
 * `npm run bench [-- options]` — runs the benchmark suite against the floor, plain and
 * signal-desk servers side by side and writes the raw results to bench/results/.
 *
 *   --quick                 CI smoke size (seconds, a few hundred clients)
 *   --only fanout,storm     measurements to run (fanout, saturation, durable, memory, storm, history, replay,
 *                           destinations, webhooks, metrics)
 *   --systems floor,plain   systems to run (floor, plain, signal-desk)
 *   --sizes 5000,20000      fan-out subscriber counts instead of the plan's
 *   --server-args=--cpu-prof  extra node flags for every server started (profiling)
 *   --heap-snapshots DIR    the memory measurement's servers each write a heap snapshot to DIR
 *   --generators 2          load-generator processes
 *   --out FILE              where to write the JSON (default: bench/results/full.json for a whole
 *                           full-size run, quick.json for --quick, partial.json for any part of one;
 *                           a run that fails leaves what it measured in FILE's .unfinished.json)
 *
 * Then `node --import tsx bench/report.ts` renders bench/RESULTS.md's tables and the chart.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { main as clusterLatency } from './cluster/latency.js';
import { BenchContext } from './lib/context.js';
import { SYSTEMS, type SystemName } from './lib/systems.js';
import { destinations } from './measure/destinations.js';
import { metricsCost, metricsCostPlan } from './measure/metrics-cost.js';
import { webhookAck } from './measure/webhook-ack.js';
import { durable } from './measure/durable.js';
import { fanout, fanoutPlan } from './measure/fanout.js';
import { history } from './measure/history.js';
import { memory, memoryPlan } from './measure/memory.js';
import { replayLoad, replayPlan } from './measure/replay-load.js';
import { saturation, saturationPlan } from './measure/saturation.js';
import { storm, stormPlan } from './measure/storm.js';

const MEASUREMENTS = [
  'fanout',
  'memory',
  'storm',
  'durable',
  'history',
  'saturation',
  'replay',
  'destinations',
  'webhooks',
  'metrics',
] as const;
type Measurement = (typeof MEASUREMENTS)[number];
const HERE = dirname(fileURLToPath(import.meta.url));
const FD_LIMIT = 200_000;

function fdLimit(): number {
  return Number(execFileSync('bash', ['-c', 'ulimit -n']).toString().trim()) || 0;
}

/**
 * Tens of thousands of sockets need more descriptors than the default: re-run under a raised
 * limit where the system allows it (where it does not, the hard limit is used and recorded).
 */
function reexecWithMoreFiles(): boolean {
  if (process.env.BENCH_FD_RAISED || fdLimit() >= FD_LIMIT) return false;
  const args = [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  const quoted = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const result = spawnSync(
    'bash',
    ['-c', `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n $(ulimit -Hn); exec ${quoted}`],
    {
      stdio: 'inherit',
      env: { ...process.env, BENCH_FD_RAISED: '1' },
    },
  );
  process.exit(result.status ?? 1);
}

/** The processes busiest right now, so the report can say what shared the machine. */
function busiest(): string[] {
  try {
    return execFileSync('ps', ['-eo', 'pcpu,etime,args', '--sort=-pcpu'])
      .toString()
      .split('\n')
      .slice(1, 8)
      .map((l) => l.trim().slice(0, 160))
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Linux pressure-stall figures: the share of time some runnable task waited for a CPU. */
function cpuPressure(): string {
  try {
    return readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? '';
  } catch {
    return 'unavailable';
  }
}

function list<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] {
  if (!value) return [...allowed];
  const items = value.split(',').map((s) => s.trim()) as T[];
  for (const item of items)
    if (!allowed.includes(item)) throw new Error(`unknown ${what} ${item}: use ${allowed.join(', ')}`);
  return items;
}

/** One load-generator process per core of the 2-core machine the plan is sized for. */
const DEFAULT_GENERATORS = '2';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      systems: { type: 'string' },
      generators: { type: 'string', default: DEFAULT_GENERATORS },
      sizes: { type: 'string' },
      'server-args': { type: 'string' },
      'heap-snapshots': { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (reexecWithMoreFiles()) return;
  const quick = values.quick ?? false;
  const measurements = list<Measurement>(values.only, MEASUREMENTS, 'measurement');
  const systems = list<SystemName>(values.systems, SYSTEMS, 'system');
  // Only a whole run replaces full.json, which bench/RESULTS.md is rendered from.
  const partial = Boolean(
    values.only ||
    values.systems ||
    values.sizes ||
    values['server-args'] ||
    values['heap-snapshots'] ||
    values.generators !== DEFAULT_GENERATORS,
  );
  const out = values.out ?? join(HERE, 'results', quick ? 'quick.json' : partial ? 'partial.json' : 'full.json');
  const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);

  const sizes = values.sizes?.split(',').map(Number);
  const needed = Math.max(
    measurements.includes('fanout') ? Math.max(...(sizes ?? fanoutPlan(quick).sizes)) : 0,
    measurements.includes('saturation') ? saturationPlan(quick).subscribers : 0,
    measurements.includes('memory') ? Math.max(...memoryPlan(quick).sizes) : 0,
    measurements.includes('storm') ? stormPlan(quick).subscribers : 0,
    measurements.includes('replay') ? replayPlan(quick).replayers : 0,
    measurements.includes('metrics') ? metricsCostPlan(quick).subscribers : 0,
    1,
  );
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    quick,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      fdLimit: fdLimit(),
      loadAtStart: loadavg(),
      cpuPressureAtStart: cpuPressure(),
      busiestAtStart: busiest(),
    },
  };
  // Until the run has finished, what it has measured goes to a file beside `out`: a run that
  // fails half-way must not replace the results of a whole one.
  const unfinished = out.replace(/\.json$/, '') + '.unfinished.json';
  const save = () => {
    mkdirSync(dirname(unfinished), { recursive: true });
    writeFileSync(unfinished, `${JSON.stringify(results, null, 1)}\n`);
  };
  log(`systems ${systems.join(', ')}; measurements ${measurements.join(', ')}; ${quick ? 'quick' : 'full'} size`);
  const serverArgs = values['server-args']?.split(' ').filter(Boolean);
  const heapSnapshots = values['heap-snapshots'] && resolve(values['heap-snapshots']);
  if (heapSnapshots) mkdirSync(heapSnapshots, { recursive: true });
  const ctx = new BenchContext(
    { quick, systems, sizes, serverArgs, heapSnapshots, generators: Number(values.generators), log },
    needed,
  );
  const run = {
    fanout,
    saturation,
    durable,
    memory,
    storm,
    history,
    replay: replayLoad,
    destinations,
    webhooks: webhookAck,
    metrics: metricsCost,
  } as const;
  try {
    for (const m of measurements) {
      const started = Date.now();
      results[m] = {
        ...(await run[m](ctx)),
        startedAt: new Date(started).toISOString(),
        wallSeconds: (Date.now() - started) / 1000,
      };
      save();
    }
    // The cluster latency suite (bench/cluster/) runs with full-size runs.
    if (!values.only && !quick) {
      log('running bench/cluster/latency.ts');
      results.cluster = await clusterLatency();
      save();
    }
  } finally {
    ctx.close();
    (results.machine as Record<string, unknown>).loadAtEnd = loadavg();
    (results.machine as Record<string, unknown>).busiestAtEnd = busiest();
    (results.machine as Record<string, unknown>).cpuPressureAtEnd = cpuPressure();
    results.finishedAt = new Date().toISOString();
    save();
  }
  renameSync(unfinished, out);
  log(`results written to ${out}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
