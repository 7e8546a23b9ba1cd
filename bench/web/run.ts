/**
 * Browser benchmark of the web app with 100,000 signals in the log (not a test):
 *   1. navigation → first screen of signals, with an empty browser (cold) and with the
 *      IndexedDB cache of a previous visit (warm);
 *   2. loading the whole history by scrolling to the end (pages of 500);
 *   3. frame times while scrolling through the 100,000-row virtualized feed.
 * Real server on a real SQLite file, Debian's chromium. Writes bench/web/RESULTS.md.
 *
 *   node --import tsx bench/web/run.ts [--signals 100000] [--runs 5]
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { seedAccounts, seedHistory } from '../lib/seed.js';
import { tempDir } from '../../test/helpers/databases.js';
import { startServer } from '../../test/helpers/server.js';
import { CHROMIUM, ensureWebBuilt, launchBrowser } from '../../test/browser/browser.js';

const { values } = parseArgs({
  options: { signals: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' } },
});
const TOTAL = Number(values.signals);
const RUNS = Number(values.runs);
const SCREEN = { width: 1280, height: 800 };
const FIRST_SCREEN_ROWS = 8;
const log = (line: string) => console.error(line);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const median = (xs: number[]) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Records, inside the page, when the first screen of rows exists (ms since navigation start). */
const FIRST_SCREEN_PROBE = `(() => {
  const probe = new MutationObserver(() => {
    if (document.querySelectorAll('[data-testid="signal-row"]').length >= ${FIRST_SCREEN_ROWS}) {
      window.__firstScreen = performance.now();
      probe.disconnect();
    }
  });
  probe.observe(document, { childList: true, subtree: true });
})()`;

async function firstScreen(page: Page, url: string): Promise<number> {
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction('window.__firstScreen !== undefined', undefined, { timeout: 60_000, polling: 50 });
  return (await page.evaluate('window.__firstScreen')) as number;
}

/** Scrolls to the end until the feed holds every signal; returns the time taken. */
async function loadAll(page: Page): Promise<number> {
  const started = performance.now();
  for (;;) {
    const count = Number(await page.locator('[data-testid="feed"]').getAttribute('data-count'));
    if (count >= TOTAL) break;
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForFunction(
      (before) => Number(document.querySelector('[data-testid="feed"]')?.getAttribute('data-count')) > before,
      count,
      { timeout: 60_000, polling: 20 },
    );
  }
  return performance.now() - started;
}

/** Frame-to-frame times while scrolling `frames` frames at `step` px per frame. */
async function scrollFrames(page: Page, frames: number, step: number): Promise<number[]> {
  await page.evaluate(() => window.scrollTo(0, 0));
  // A string, not a function: the TypeScript loader would decorate a function with helpers the page lacks.
  return page.evaluate(`new Promise((resolve) => {
    const times = [];
    let last = performance.now();
    let n = 0;
    const tick = (now) => {
      times.push(now - last);
      last = now;
      window.scrollBy(0, ${step});
      if (++n < ${frames}) requestAnimationFrame(tick);
      else resolve(times.slice(1));
    };
    requestAnimationFrame(tick);
  })`);
}

async function main(): Promise<void> {
  const webRoot = ensureWebBuilt();
  const dir = tempDir('signal-desk-web-bench-');
  const file = join(dir.path, 'bench.db');
  log(`seeding ${TOTAL.toLocaleString('en')} signals…`);
  const { adminToken } = await seedAccounts(file, 0);
  await seedHistory(file, TOTAL, 4);
  const server = await startServer({ database: { url: `sqlite:${file}`, drop: async () => dir.remove() }, webRoot });
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser();
    const cookie = { name: 'sd_session', value: adminToken, url: server.url };
    const cold: number[] = [];
    const warm: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ viewport: SCREEN, bypassCSP: true });
      await context.addCookies([cookie]);
      await context.addInitScript(FIRST_SCREEN_PROBE);
      const page = await context.newPage();
      cold.push(await firstScreen(page, server.url));
      await page.waitForTimeout(1000); // let the cache write land before the warm visit
      warm.push(await firstScreen(page, server.url));
      await context.close();
      log(`run ${run + 1}: cold ${ms(cold.at(-1) ?? 0)}, warm ${ms(warm.at(-1) ?? 0)}`);
    }

    const context = await browser.newContext({ viewport: SCREEN, bypassCSP: true });
    await context.addCookies([cookie]);
    await context.addInitScript(FIRST_SCREEN_PROBE);
    const page = await context.newPage();
    await firstScreen(page, server.url);
    log('loading the whole history by scrolling…');
    const loadMs = await loadAll(page);
    const domRows = await page.locator('[data-testid="signal-row"]').count();
    log(`history loaded in ${ms(loadMs)}; ${domRows} rows in the DOM`);
    const scrolls: Array<{ step: number; frames: number[] }> = [];
    // Step 0 is the baseline: frames of the same page standing still, so a busy machine shows as such.
    for (const step of [0, 40, 200, 1000]) {
      await scrollFrames(page, 60, step); // warm-up
      scrolls.push({ step, frames: await scrollFrames(page, 600, step) });
    }
    await context.close();

    const lines = [
      '# Web app benchmark',
      '',
      `${TOTAL.toLocaleString('en')} signals in the log (4 channels, admin view: all of them), ` +
        `real server on SQLite, Debian chromium (${CHROMIUM}, headless) at ${SCREEN.width}×${SCREEN.height}, ` +
        `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
        `${new Date().toISOString().slice(0, 10)}; load average at the end ${loadavg()
          .map((n) => n.toFixed(1))
          .join(' / ')} (the machine is shared: frame times suffer first when it is busy).`,
      '',
      'Reproduce: `npm run build && node --import tsx bench/web/run.ts` (`--signals N --runs N`).',
      '',
      '## Navigation to the first screen of signals',
      '',
      `Time from navigation start to the ${FIRST_SCREEN_ROWS}th row of the feed in the page (\`performance.now()\` in a MutationObserver), ${RUNS} runs each.`,
      '',
      '| visit | median | min | max |',
      '|---|---|---|---|',
      `| cold (empty browser: page, \`/api/me\`, first page from the server) | ${ms(median(cold))} | ${ms(Math.min(...cold))} | ${ms(Math.max(...cold))} |`,
      `| warm (reload: rows from the IndexedDB cache, then reconciled) | ${ms(median(warm))} | ${ms(Math.min(...warm))} | ${ms(Math.max(...warm))} |`,
      '',
      '## The whole history',
      '',
      `Scrolling to the end until all ${TOTAL.toLocaleString('en')} signals are in the feed (pages of 500): ` +
        `${(loadMs / 1000).toFixed(1)} s. Rows in the DOM afterwards: ${domRows} (virtualized).`,
      '',
      '## Scrolling frame times with every signal loaded',
      '',
      '`requestAnimationFrame` intervals while scrolling by a fixed step per frame, 600 frames each ' +
        '(16.7 ms is one frame at 60 Hz).',
      '',
      '| step per frame | p50 | p95 | p99 | max | frames > 16.7 ms | frames > 33.4 ms |',
      '|---|---|---|---|---|---|---|',
      ...scrolls.map(({ step, frames }) => {
        const sorted = [...frames].sort((a, b) => a - b);
        const over = (limit: number) =>
          `${((100 * frames.filter((f) => f > limit).length) / frames.length).toFixed(1)} %`;
        return `| ${step === 0 ? '0 px (standing still: baseline)' : `${step} px`} | ${ms(pct(sorted, 50))} | ${ms(pct(sorted, 95))} | ${ms(pct(sorted, 99))} | ${ms(sorted.at(-1) ?? 0)} | ${over(17.5)} | ${over(34)} |`;
      }),
      '',
    ];
    const out = new URL('./RESULTS.md', import.meta.url).pathname;
    writeFileSync(out, lines.join('\n'));
    log(`wrote ${out}`);
    console.log(lines.join('\n'));
  } finally {
    await browser?.close();
    await server.close();
  }
}

await main();
