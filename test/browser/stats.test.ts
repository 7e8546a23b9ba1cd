/**
 * The statistics page in chromium: figures and charts a subscriber sees for its channels
 * only, the history check verifying in the browser (and matching the signed head) while
 * events arrive, and the same check naming the event an operator edited in the database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import type { SqlStore } from '../../server/store/sql-store.js';
import {
  buildAdmin,
  buildChannel,
  buildSubscriber,
  PASSWORD,
  publish,
  startServer,
  type Account,
  type TestServer,
} from '../helpers/server.js';
import { browserUnavailable, ensureWebBuilt, launchBrowser } from './browser.js';

const skip = browserUnavailable();
const SUB_EMAIL = 'stats-reader@example.test';

async function tileText(page: Page, id: string): Promise<string> {
  return ((await page.getByTestId(`tile-${id}`).locator('strong').textContent()) ?? '').trim();
}

async function waitTile(page: Page, id: string, text: string): Promise<void> {
  await page.getByTestId(`tile-${id}`).locator('strong', { hasText: text }).waitFor({ timeout: 20_000 });
}

describe('statistics page in chromium', { skip: skip ?? false, timeout: 180_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let admin: Account;

  const update = async (id: string, body: Record<string, unknown>) => {
    const res = await admin.api.post(`/api/signals/${id}/updates`, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { seq: number };
  };

  before(async () => {
    const webRoot = ensureWebBuilt();
    server = await startServer({ webRoot });
    admin = await buildAdmin(server);
    await buildChannel(admin, 'gold', 'Gold Desk');
    await buildChannel(admin, 'silver', 'Silver Desk');
    await buildSubscriber(server, admin, { channels: ['gold'], email: SUB_EMAIL });
    // gold: a win at TP1, R (110 − 100) / (100 − 95) = +2; a loss at the stop, R −1.
    const win = await publish(admin, 'gold', { symbol: 'XAUUSD', entry: 100, stopLoss: 95, takeProfits: [110] });
    await update(win.id, { type: 'tp_hit', level: 1 });
    const loss = await publish(admin, 'gold', { symbol: 'XAUUSD', entry: 100, stopLoss: 95, takeProfits: [110] });
    await update(loss.id, { type: 'sl_hit' });
    // silver, which the subscriber may not see: two losses that must not count.
    for (let i = 0; i < 2; i++) {
      const s = await publish(admin, 'silver', { symbol: 'XAGUSD' });
      await update(s.id, { type: 'sl_hit' });
    }
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })).newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a subscriber the figures and charts of its own channels, and verifies each chain', async () => {
    await page.goto(server.url);
    await page.getByLabel('Email').fill(SUB_EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Signals' }).waitFor();
    await page.getByRole('link', { name: 'Statistics' }).click();
    await page.getByRole('heading', { name: 'Statistics' }).waitFor();

    // gold only: 2 signals, 1 won 1 lost → 50 %; R +2 − 1 = +1, average 0.5.
    await waitTile(page, 'signals', '2');
    assert.equal(await tileText(page, 'win-rate'), '50%');
    assert.equal(await tileText(page, 'won-lost'), '1 / 1');
    assert.equal(await tileText(page, 'total-r'), '+1 R');
    assert.equal(await tileText(page, 'average-r'), '+0.5 R');
    const points = page.getByTestId('equity-point');
    assert.deepEqual(
      await points.evaluateAll((dots) => dots.map((d) => Number(d.getAttribute('data-cumulative')))),
      [2, 1],
    );
    const bars = await page
      .getByTestId('month-bar')
      .evaluateAll((rects) => rects.map((r) => [r.getAttribute('data-kind'), Number(r.getAttribute('data-value'))]));
    assert.deepEqual(bars, [
      ['win', 1],
      ['loss', 1],
    ]);
    assert.deepEqual(
      await page
        .locator('[data-testid="breakdown"] tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key'))),
      ['gold'],
    );

    // The browser checked gold's 4 events itself and matched the server's signed head.
    const badge = page.locator('[data-testid="chain-badge"][data-channel="gold"]');
    await page.locator('[data-testid="chain-badge"][data-channel="gold"][data-state="verified"]').waitFor();
    assert.equal(await badge.getAttribute('data-count'), '4');
    assert.equal(await badge.getAttribute('data-signed'), 'matches');
    assert.equal(await page.getByTestId('chain-badge').count(), 1, 'no badge for a channel it cannot see');
  });

  it('keeps verifying and refreshes the figures as events arrive live', async () => {
    const next = await publish(admin, 'gold', { symbol: 'XAUUSD', entry: 100, stopLoss: 95, takeProfits: [110] });
    await update(next.id, { type: 'sl_hit' });
    await page.locator('[data-testid="chain-badge"][data-channel="gold"][data-count="6"]').waitFor({ timeout: 20_000 });
    assert.equal(
      await page.locator('[data-testid="chain-badge"][data-channel="gold"]').getAttribute('data-state'),
      'verified',
    );
    // 3 signals: 1 won, 2 lost → 33.3 %; R +2 − 1 − 1 = 0.
    await waitTile(page, 'signals', '3');
    await waitTile(page, 'won-lost', '1 / 2');
    assert.equal(await tileText(page, 'win-rate'), '33.3%');
    assert.equal(await tileText(page, 'total-r'), '0 R');
    assert.equal(await page.getByTestId('equity-point').count(), 3);
  });

  it('names the first bad event once an operator edits the history in the database', async () => {
    // The seq of gold's second event (the win's TP hit): the database refuses edits, so the
    // operator drops the guard first, as someone covering up a call would have to.
    const events = (await admin.api.get('/api/events?after=0&limit=100&channel=gold')).body.events as Array<{
      seq: number;
      type: string;
    }>;
    const target = events[1];
    assert.ok(target && target.type === 'signal.updated');
    const { db } = server.runtime.store as SqlStore;
    await sql.raw('DROP TRIGGER events_no_update').execute(db);
    await sql`UPDATE events SET data = ${JSON.stringify({ type: 'tp_hit', level: 1, price: 130 })} WHERE seq = ${target.seq}`.execute(
      db,
    );
    await page.reload();
    await page.getByRole('heading', { name: 'Statistics' }).waitFor();
    const broken = page.locator('[data-testid="chain-badge"][data-channel="gold"][data-state="broken"]');
    await broken.waitFor({ timeout: 20_000 });
    assert.equal(await broken.getAttribute('data-bad-seq'), String(target.seq));
    assert.match((await broken.textContent()) ?? '', /Broken.*first bad event: seq \d+.*altered/);
  });
});
