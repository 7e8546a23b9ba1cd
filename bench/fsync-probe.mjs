#!/usr/bin/env node
// The disk's own durable-write latency, the floor under any durable acknowledgement:
// 300 rounds of writing 4 KiB and fdatasync, in a file beside the project's data.
// Usage: node bench/fsync-probe.mjs [DIR]
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { join } from 'node:path';

const dir = mkdtempSync(join(process.argv[2] ?? '.', '.fsync-probe-'));
const fd = openSync(join(dir, 'probe'), 'w');
const block = Buffer.alloc(4096, 1);
const times = [];
for (let i = 0; i < 300; i++) {
  const start = process.hrtime.bigint();
  writeSync(fd, block);
  fdatasyncSync(fd);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
closeSync(fd);
rmSync(dir, { recursive: true, force: true });
times.sort((a, b) => a - b);
const at = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(2);
console.log(`write + fdatasync of 4 KiB, 300 rounds: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`);
