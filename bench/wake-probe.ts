/**
 * The machine's scheduler alone: how long a sleeping thread takes to run once another thread
 * wakes it, 10 ms apart (as at 100 publishes a second). Every acknowledgement crosses several
 * such wake-ups — the server woken by the request, again when its fsync completes, the client
 * by the answer — so their tail is a floor under any acknowledgement's tail, in memory or not.
 *
 *   node --import tsx bench/wake-probe.ts [--count 1000]
 *
 * Twice: with the waking thread going back to sleep at once (both CPUs idle between wake-ups),
 * and with it keeping its CPU busy, as a process does that goes on working after it has
 * written to a socket. Where the second tail is a scheduler tick (4 ms at 250 Hz) and the
 * first is not, the woken thread was queued behind the busy one instead of taking an idle CPU.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { sendTimes, sleepUntil } from './lib/schedule.js';
import { summarize } from './lib/stats.js';
import { nowMs } from './load/protocol.js';

const INTERVAL_MS = 10;
/** How long a wake-up may take before the probe gives up on the sleeping thread. */
const GIVE_UP_MS = 1000;
/** Slots of the shared flags: the wake-up flag, and how often the sleeper has run (1 once it is waiting). */
const FLAG = 0;
const WOKEN = 1;

/**
 * The sleeper: counts once when it is ready, then waits on the flag, and on each wake-up
 * records how long after the waker's timestamp it ran and counts again. Plain CommonJS, run
 * from source.
 */
const SLEEPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const flags = new Int32Array(workerData.flags);
const times = new Float64Array(workerData.times);
Atomics.add(flags, ${WOKEN}, 1);
Atomics.notify(flags, ${WOKEN});
for (;;) {
  Atomics.wait(flags, ${FLAG}, 0);
  times[1] = Number(process.hrtime.bigint()) / 1e6 - times[0];
  Atomics.store(flags, ${FLAG}, 0);
  Atomics.add(flags, ${WOKEN}, 1);
  Atomics.notify(flags, ${WOKEN});
}
`;

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000' } } });
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) {
  console.error('usage: node --import tsx bench/wake-probe.ts [--count N]');
  process.exit(2);
}

/** Node 20 has it; the ES2023 library this project compiles against does not declare it. */
const { waitAsync } = Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeout: number): { value: Promise<string> | string };
};

const flags = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
/** [the waker's timestamp, the sleeper's latency], in ms. */
const times = new Float64Array(new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT));
const sleeper = new Worker(SLEEPER_SOURCE, {
  eval: true,
  workerData: { flags: flags.buffer, times: times.buffer },
});

/** Resolves once the sleeper has counted past `woken`, sleeping meanwhile or keeping this CPU busy. */
async function sleeperRan(woken: number, busy: boolean): Promise<void> {
  if (busy) {
    const deadline = nowMs() + GIVE_UP_MS;
    while (Atomics.load(flags, WOKEN) === woken) {
      if (nowMs() > deadline) break;
    }
  } else {
    await waitAsync(flags, WOKEN, woken, GIVE_UP_MS).value;
  }
  if (Atomics.load(flags, WOKEN) === woken) throw new Error(`the sleeping thread did not run within ${GIVE_UP_MS} ms`);
}

/** Wakes the sleeper `count` times and resolves with each wake-up's latency. */
async function probe(wakerBusy: boolean): Promise<number[]> {
  const latencies: number[] = [];
  for (const at of sendTimes(count, 1000 / INTERVAL_MS, 100)) {
    await sleepUntil(at);
    const woken = Atomics.load(flags, WOKEN);
    times[0] = nowMs();
    Atomics.store(flags, FLAG, 1);
    Atomics.notify(flags, FLAG);
    await sleeperRan(woken, wakerBusy);
    latencies.push(times[1]!);
  }
  return latencies;
}

try {
  await sleeperRan(0, false); // started and about to wait: its start-up is not a wake-up
  for (const wakerBusy of [false, true]) {
    const { p50, p99, max } = summarize(await probe(wakerBusy));
    const how = wakerBusy ? 'the waker keeps its CPU busy' : 'the waker goes back to sleep';
    console.log(`${count} wake-ups ${INTERVAL_MS} ms apart, ${how}: p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`);
  }
} finally {
  await sleeper.terminate();
}
