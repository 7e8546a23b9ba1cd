/**
 * The real browser for the web tests: Debian's chromium driven by playwright-core, and
 * the built web app (built here when missing or older than its sources). In CI a missing
 * chromium fails the suite; locally the suite is skipped with a message saying why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = new URL('../..', import.meta.url).pathname;
export const WEB_ROOT = join(root, 'dist', 'web');
const SCREENSHOTS = join(root, 'docs', 'screenshots');

/** The viewports the pictures in the docs are taken at. */
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Saves what `page` shows as `docs/screenshots/<name>.png`, a picture the docs show. */
export async function saveScreenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), ...options });
}

/** Why the browser suite cannot run here, or null when it can. Throws in CI instead of skipping. */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const reason = `chromium not found at ${CHROMIUM} (set CHROMIUM_PATH)`;
  if (process.env.CI) throw new Error(`browser tests are required in CI: ${reason}`);
  console.warn(`\n  ⚠ SKIPPING browser tests: ${reason}\n`);
  return reason;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestMtime(path) : stat.mtimeMs);
  }
  return newest;
}

/** Builds dist/web unless it is newer than everything under web/ and shared/. */
export function ensureWebBuilt(): string {
  const index = join(WEB_ROOT, 'index.html');
  const stale =
    !existsSync(index) ||
    statSync(index).mtimeMs < Math.max(newestMtime(join(root, 'web')), newestMtime(join(root, 'shared')));
  if (stale) {
    const result = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, encoding: 'utf8' });
    if (result.status !== 0 || !existsSync(index)) {
      throw new Error(`dist/web is missing and "npx vite build" failed:\n${result.stdout}\n${result.stderr}`);
    }
  }
  return WEB_ROOT;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000,
  });
}
