#!/usr/bin/env node
// The installed command. Runs the compiled CLI (built by `npm install` via the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/server/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error('signal-desk is not built yet: run `npm install` (or `npm run build`) in its folder first.');
  process.exit(1);
}
await import(compiled.href);
