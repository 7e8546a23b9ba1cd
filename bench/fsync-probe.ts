/**
 * The disk's own durable-write latency, the floor under any durable acknowledgement, in a
 * directory beside the data: 1,000 commits of one append's WAL frames and fsync, paced as at
 * 100 publishes a second (10 ms apart, when an idle CPU must be woken for the completion),
 * then back to back; and the same with a single page.
 *
 *   node --import tsx bench/fsync-probe.ts [DIR]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DiskCommits, PAGES_PER_APPEND } from './lib/disk.js';
import { summarize } from './lib/stats.js';

const ROUNDS = 1000;
const dir = process.argv[2] ?? '.';

async function probe(pages: number, pauseMs: number): Promise<void> {
  const disk = new DiskCommits(dir, pages);
  const times: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      if (pauseMs) await sleep(pauseMs);
      const start = performance.now();
      disk.commit();
      times.push(performance.now() - start);
    }
  } finally {
    disk.close();
  }
  const { p50, p99, max } = summarize(times);
  const how = pauseMs ? `${pauseMs} ms apart` : 'back to back';
  console.log(`${pages} × 4 KiB + fsync, ${ROUNDS} rounds ${how}: p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`);
}

await probe(PAGES_PER_APPEND, 10);
await probe(PAGES_PER_APPEND, 0);
await probe(1, 10);
