#!/usr/bin/env node
// The disk's own durable-write latency, the floor under any durable acknowledgement, in a
// file beside the project's data: 300 rounds of writing and fdatasync, first back to back,
// then paced as at 100 publishes a second (10 ms apart, when an idle CPU must be woken for
// the completion), with one 4 KiB page and with 13 pages (what one SQLite append writes to
// the WAL). Usage: node bench/fsync-probe.mjs [DIR]
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROUNDS = 300;
const PAGE = 4096;
const dir = mkdtempSync(join(process.argv[2] ?? '.', '.fsync-probe-'));
const block = Buffer.alloc(PAGE, 1);

async function probe(pages, pauseMs) {
  const fd = openSync(join(dir, `probe-${pages}-${pauseMs}`), 'w');
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (pauseMs) await sleep(pauseMs);
    const start = process.hrtime.bigint();
    for (let p = 0; p < pages; p++) writeSync(fd, block);
    fdatasyncSync(fd);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  closeSync(fd);
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2);
  const how = pauseMs ? `${pauseMs} ms apart` : 'back to back';
  console.log(
    `write ${pages * 4} KiB + fdatasync, ${ROUNDS} rounds ${how}: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`,
  );
}

try {
  await probe(1, 0);
  await probe(1, 10);
  await probe(13, 10);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
