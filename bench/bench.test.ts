/**
 * Smoke test of the benchmark suite: `npm run bench -- --quick` end to end (every
 * measurement, all three systems) at a small size. It checks that the scripts are
 * correct — every delivery arrives exactly once and in order, storms catch up, every
 * request is answered — and never asserts a timing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunResult } from './lib/schedule.js';
import { medianRun } from './measure/fanout.js';
import type { Summary } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Results {
  fanout: {
    sizes: number[];
    signals: number[];
    repeats: number;
    runs: Record<string, RunResult[]>;
    p99s: Record<string, number[][]>;
  };
  saturation: { steps: Record<string, RunResult[]> };
  durable: {
    rates: number[];
    acks: Record<string, Summary[]>;
    firstAckMs: Record<string, number>;
    disk?: { pages: number; commits: Summary[] };
  };
  memory: { sizes: number[]; runs: Record<string, Array<{ rssAfter: number; bytesPerSubscriber: number }>> };
  storm: {
    subscribers: number;
    runs: Record<string, { caughtUp: Summary; behind: number; duplicates: number; gaps: number; failed: number }>;
  };
  history: { requests: number; runs: Record<string, Record<string, Summary>> };
  destinations: {
    throughput: { eventsPerSecond: number; complete: number };
    lag: { complete: number; delivery: Summary };
  };
  webhooks: { ack: Summary; allCreated: boolean; requests: number };
  metrics: { ratio: number; scrapes: number; off: RunResult; on: RunResult };
  replay: {
    idle: { ack: Summary; health: Summary };
    loaded: { ack: Summary; health: Summary };
    duplicates: number;
    gaps: number;
    replayedPerSecond: number;
  };
}

test('the benchmark suite runs at smoke size: complete, in order, no duplicates', { timeout: 320_000 }, () => {
  const out = join(dir, 'quick.json');
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(run.status, 0, `bench exited with ${run.status}:\n${run.stdout}\n${run.stderr}`);
  const results = JSON.parse(readFileSync(out, 'utf8')) as Results;
  const systems = ['floor', 'plain', 'signal-desk'];

  for (const system of systems) {
    const runs = results.fanout.runs[system] ?? [];
    assert.equal(runs.length, results.fanout.sizes.length, `${system}: one fan-out run per size`);
    for (const [i, r] of runs.entries()) {
      assert.equal(r.completeness, 1, `${system} ${r.subscribers}: every delivery arrived`);
      assert.equal(r.duplicates, 0, `${system} ${r.subscribers}: no duplicate`);
      assert.equal(r.gaps, 0, `${system} ${r.subscribers}: in order, no gap`);
      assert.equal(r.lastReceiver.n, results.fanout.signals[i], `${system}: a last-receiver time per signal`);
    }
    const p99s = results.fanout.p99s[system] ?? [];
    assert.equal(p99s.length, results.fanout.sizes.length, `${system}: every run's p99 kept per size`);
    for (const each of p99s) assert.equal(each.length, results.fanout.repeats);

    const steps = results.saturation.steps[system] ?? [];
    assert.ok(steps.length > 0, `${system}: saturation ran`);
    for (const s of steps) assert.equal(s.duplicates + s.gaps, 0, `${system} ${s.rate}/s: in order, once`);

    const acks = results.durable.acks[system] ?? [];
    assert.equal(acks.length, results.durable.rates.length, `${system}: every durable rate measured`);
    for (const a of acks) assert.ok(a.n >= 20 && a.p99 > 0, `${system}: acknowledgements timed`);
    assert.ok((results.durable.firstAckMs[system] ?? 0) > 0, `${system}: first acknowledgement timed`);

    const memory = results.memory.runs[system] ?? [];
    assert.equal(memory.length, results.memory.sizes.length, `${system}: memory measured at every size`);
    for (const m of memory) assert.ok(m.rssAfter > 0 && Number.isFinite(m.bytesPerSubscriber));

    const storm = results.storm.runs[system];
    assert.ok(storm, `${system}: storm ran`);
    assert.equal(storm.failed, 0, `${system}: every client reconnected`);
    assert.equal(storm.behind, 0, `${system}: every client caught up`);
    assert.equal(storm.duplicates + storm.gaps, 0, `${system}: replay once, in order`);
    assert.equal(storm.caughtUp.n, results.storm.subscribers);
  }

  for (const system of ['plain', 'signal-desk']) {
    const pages = results.history.runs[system] ?? {};
    assert.ok(Object.keys(pages).length >= 2, `${system}: history measured`);
    for (const s of Object.values(pages)) assert.equal(s.n, results.history.requests);
  }

  const { replay } = results;
  for (const probes of [replay.idle, replay.loaded]) {
    assert.ok(probes.ack.n > 0 && probes.ack.p99 > 0, 'publishes timed beside the replays');
    assert.ok(probes.health.n > 0 && probes.health.p99 > 0, 'health checks timed beside the replays');
  }
  assert.ok(replay.replayedPerSecond > 0, 'the replays were under way while the probes ran');
  assert.equal(replay.duplicates + replay.gaps, 0, 'each replay in order, once');

  assert.ok(results.destinations.throughput.eventsPerSecond > 0, 'destinations: throughput measured');
  assert.equal(results.destinations.throughput.complete, 1, 'destinations: the whole burst reached every destination');
  assert.equal(results.destinations.lag.complete, 1, 'destinations: every event reached every destination');
  assert.ok(results.destinations.lag.delivery.n > 0);
  assert.ok(results.webhooks.ack.n > 0 && results.webhooks.ack.p99 > 0, 'webhook acknowledgements timed');
  assert.ok(results.webhooks.allCreated, 'every webhook alert was accepted');
  for (const run of [results.metrics.off, results.metrics.on]) {
    assert.equal(run.completeness, 1, 'metrics on and off: every delivery arrived');
  }
  assert.ok(results.metrics.scrapes > 0, '/metrics was scraped during the "on" run');
  assert.ok(Number.isFinite(results.metrics.ratio));

  const disk = results.durable.disk?.commits ?? [];
  assert.equal(disk.length, results.durable.rates.length, 'the disk alone ran every durable rate');
  for (const d of disk) assert.ok(d.n >= 20 && d.p99 > 0, 'disk commits timed');
});

test('the fan-out run that stands for a system is the one with the median last-receiver p99', () => {
  const run = (p99: number) => ({ lastReceiver: { n: 1, p50: p99, p99, max: p99 } }) as RunResult;
  const [a, b, c] = [run(800), run(260), run(400)];
  assert.equal(medianRun([a, b, c]), c);
  assert.equal(medianRun([a, b]), b, 'of two, the lower');
  assert.equal(medianRun([a]), a);
});

/** Runs one of the probe scripts of `bench/` with `args`, to its end. */
const probe = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', `bench/${script}`, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });

test('the append probe times every append on a real SQLite file, and refuses bad options', () => {
  const run = probe('append-probe.ts', '--rate', '200', '--count', '20', '--checkpoints', 'sqlite', '--slowest', '2');
  assert.equal(run.status, 0, run.stderr);
  const slow = run.stdout.split('\n').filter((line) => line.startsWith('  '));
  assert.equal(slow.length, 2, run.stdout);
  for (const line of slow) assert.match(line, /ms: in SQLite [\d.]+ \(slowest: .+\), between statements [\d.]+/);
  assert.match(
    run.stdout,
    /^append at 200\/s, 20 after 300 unmeasured, sqlite checkpoints: p50 [\d.]+ ms, p99 [\d.]+ ms/,
  );
  const bad = probe('append-probe.ts', '--checkpoints', 'never');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage:/);
});

test('the wake probe times each wake-up both ways, and refuses a bad count', () => {
  const run = probe('wake-probe.ts', '--count', '20');
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 2, run.stdout);
  assert.match(lines[0]!, /^20 wake-ups 10 ms apart, the waker goes back to sleep: p50 [\d.]+ ms, p99 [\d.]+ ms/);
  assert.match(lines[1]!, /^20 wake-ups 10 ms apart, the waker keeps its CPU busy: p50 [\d.]+ ms, p99 [\d.]+ ms/);
  const bad = probe('wake-probe.ts', '--count', '0');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage:/);
});
