/**
 * How tests start the product as a process: the compiled build (what `npm start` and the
 * `signal-desk` command run) when it is at least as new as every source file — `npm ci`
 * builds it, so CI always tests the build — and otherwise the sources through tsx, so a
 * test never runs code older than what it reads. Starting from the build also spares each of
 * the suites' hundreds of processes half a second of compiling.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = ['server', 'shared'];

function mtimes(dir: string, ext: string, out: number[]): number[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) mtimes(path, ext, out);
    else if (entry.name.endsWith(ext) && !/\.(test|contract)\.[jt]s$/.test(entry.name))
      out.push(statSync(path).mtimeMs);
  }
  return out;
}

let fresh: boolean | undefined;

/** Whether `dist/` was built from the sources as they are now. */
export function buildIsFresh(): boolean {
  if (fresh === undefined) {
    const sources = SOURCES.flatMap((dir) => mtimes(join(ROOT, dir), '.ts', []));
    const built = SOURCES.flatMap((dir) => mtimes(join(ROOT, 'dist', dir), '.js', []));
    fresh = built.length > 0 && Math.max(...sources) <= Math.min(...built);
  }
  return fresh;
}

/** Node's arguments that run `server/<name>.ts` (`main`, `cli/main`). */
export function entryArgs(name: 'main' | 'cli/main'): string[] {
  return buildIsFresh()
    ? [join(ROOT, 'dist', 'server', `${name}.js`)]
    : ['--import', 'tsx', join(ROOT, 'server', `${name}.ts`)];
}
