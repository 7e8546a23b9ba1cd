#!/usr/bin/env node
// Runs every *.test.ts under server/, shared/, test/ and bench/ with node's test runner
// (Node 20 has no glob support in --test, so the files are listed here).
// Usage: npm test [-- <filter substring> ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

// Suites that start servers, browsers or the benchmark go first: the runner takes files in
// order, two at a time, and the long ones started last would leave one lane running alone.
const HEAVY = [
  'bench/',
  'test/reliability/',
  'test/security/starvation',
  'test/browser/',
  'test/cluster/',
  'test/cli/',
];
const weight = (file) => {
  const i = HEAVY.findIndex((prefix) => file.startsWith(prefix));
  return i === -1 ? 0 : HEAVY.length - i;
};

const files = ['server', 'shared', 'test', 'bench', 'web']
  .flatMap((dir) => {
    try {
      return collect(join(root, dir), []);
    } catch {
      return [];
    }
  })
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort((a, b) => weight(b) - weight(a) || a.localeCompare(b));

if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ')}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } },
);
process.exit(result.status ?? 1);
