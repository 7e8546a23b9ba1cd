#!/usr/bin/env node
// What a V8 heap snapshot holds, by kind of object: count, total size and average size, the
// largest first, and the snapshot's total. Divide by the subscribers connected to read it per
// connection. Snapshots of 10,000 connections are a few hundred MB of JSON, so give node room:
//   node --max-old-space-size=8192 bench/heap-summary.mjs FILE.heapsnapshot [ROWS]
// (`npm run bench -- --only memory --heap-snapshots DIR` writes one per server.)
import { readFileSync } from 'node:fs';

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node --max-old-space-size=8192 bench/heap-summary.mjs FILE.heapsnapshot [ROWS]');
  process.exit(2);
}
const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8'));
const fields = snapshot.meta.node_fields;
const types = snapshot.meta.node_types[0];
const width = fields.length;
const TYPE = fields.indexOf('type');
const NAME = fields.indexOf('name');
const SIZE = fields.indexOf('self_size');
const STRINGS = new Set(['string', 'concatenated string', 'sliced string']);

const kinds = new Map();
let total = 0;
for (let i = 0; i < nodes.length; i += width) {
  const type = types[nodes[i + TYPE]];
  const size = nodes[i + SIZE];
  // Strings and numbers are named by their value: group them by type alone.
  const key = STRINGS.has(type) || type === 'number' ? `(${type})` : `${strings[nodes[i + NAME]]} (${type})`;
  const kind = kinds.get(key) ?? { count: 0, size: 0 };
  kind.count++;
  kind.size += size;
  kinds.set(key, kind);
  total += size;
}

const mib = (bytes) => (bytes / 2 ** 20).toFixed(2);
console.log(`${file}: ${mib(total)} MiB in ${(nodes.length / width).toLocaleString('en')} objects`);
console.log(`${'MiB'.padStart(8)} ${'count'.padStart(9)} ${'avg B'.padStart(6)}  kind`);
for (const [key, { count, size }] of [...kinds].sort((a, b) => b[1].size - a[1].size).slice(0, Number(rowsArg ?? 30))) {
  console.log(
    `${mib(size).padStart(8)} ${String(count).padStart(9)} ${String(Math.round(size / count)).padStart(6)}  ${key}`,
  );
}
