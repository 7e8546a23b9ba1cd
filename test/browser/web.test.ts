/**
 * The web app in a real browser against a real server: an admin and subscribers in
 * separate browser contexts, each step building on the one before, as people use it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { login, PASSWORD, publish, startServer, type Account, type TestServer } from '../helpers/server.js';
import { browserUnavailable, DESKTOP, ensureWebBuilt, launchBrowser, PHONE, saveScreenshot } from './browser.js';

const skip = browserUnavailable();
const ADMIN_EMAIL = 'admin@example.test';
const SUB_EMAIL = 'trader@example.test';
const OUTSIDER_EMAIL = 'outsider@example.test';

/** Symbols of the feed rows on screen, top to bottom. */
async function feedSymbols(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="signal-row"]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol') ?? ''));
}

async function signIn(page: Page, url: string, email: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Signals' }).waitFor();
}

/** Follows a navigation link and waits for the page (pages other than the feed load on demand). */
async function open(page: Page, link: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
}

async function waitLive(page: Page): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 15_000 });
}

describe('web app in chromium', { skip: skip ?? false, timeout: 180_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let adminContext: BrowserContext;
  let subContext: BrowserContext;
  let admin: Page;
  let sub: Page;
  let adminApi: Account;

  before(async () => {
    const webRoot = ensureWebBuilt();
    server = await startServer({ webRoot });
    browser = await launchBrowser();
    adminContext = await browser.newContext({ viewport: DESKTOP });
    subContext = await browser.newContext({ viewport: DESKTOP });
    admin = await adminContext.newPage();
    sub = await subContext.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('first run: setup, then the admin creates channels and a subscriber with a grant', async () => {
    await admin.goto(server.url);
    await admin.getByRole('heading', { name: 'Set up signal-desk' }).waitFor();
    await admin.getByLabel('Setup code').fill('WRONG-CODE-0000-0000');
    await admin.getByLabel('Name').fill('Ada Admin');
    await admin.getByLabel('Email').fill(ADMIN_EMAIL);
    await admin.getByLabel('Password').fill('short');
    await admin.getByRole('button', { name: 'Create admin and sign in' }).click();
    await admin.getByText('must be at least 10 characters').waitFor();
    await admin.getByLabel('Password').fill(PASSWORD);
    await admin.getByRole('button', { name: 'Create admin and sign in' }).click();
    await admin.getByText("the setup code is wrong: paste the code from the server's log").waitFor();
    // As people paste it: lower case, with spaces around.
    const code = await server.runtime.accounts.setupCode();
    await admin.getByLabel('Setup code').fill(` ${code?.toLowerCase()} `);
    await admin.getByRole('button', { name: 'Create admin and sign in' }).click();
    await admin.getByRole('heading', { name: 'Signals' }).waitFor();
    adminApi = await login(server, ADMIN_EMAIL);

    await open(admin, 'Channels', 'Channels');
    for (const [slug, name] of [
      ['vip', 'VIP Crypto'],
      ['forex-desk', 'Forex Desk'],
    ] as const) {
      await admin.getByLabel('Slug').fill(slug);
      await admin.getByLabel('Name').fill(name);
      await admin.getByRole('button', { name: 'Create channel' }).click();
      await admin.getByText(`Channel #${slug} created.`).waitFor();
    }

    await open(admin, 'Users', 'Users');
    for (const [email, channel] of [
      [SUB_EMAIL, 'VIP Crypto'],
      [OUTSIDER_EMAIL, 'Forex Desk'],
    ] as const) {
      await admin.getByLabel('Email').fill(email);
      await admin.getByLabel('Password').fill(PASSWORD);
      await admin.getByLabel(channel).check();
      await admin.getByRole('button', { name: 'Create user' }).click();
      await admin.getByText(`${email} can now sign in.`).waitFor();
    }
    const trader = admin.locator(`[data-testid="user-item"][data-email="${SUB_EMAIL}"]`);
    await trader.getByText('#vip').waitFor();

    await signIn(sub, server.url, SUB_EMAIL);
    await waitLive(sub);
    await sub.getByText('No signals yet').waitFor();
  });

  it('the compose form shows each validation error next to its field and publishes nothing', async () => {
    await open(admin, 'Publish', 'Admin console');
    await admin.getByLabel('Channel').selectOption('vip');
    await admin.getByLabel('Symbol').fill('ETHUSDT');
    await admin.getByLabel('Entry', { exact: true }).fill('100');
    await admin.getByLabel('Stop loss').fill('105');
    await admin.getByLabel('Take-profit 1', { exact: true }).fill('90');
    await admin.getByLabel('Leverage').fill('5000');
    await admin.getByRole('button', { name: 'Publish signal' }).click();

    const errorOf = (label: string) =>
      admin.locator('.field', { has: admin.getByLabel(label, { exact: true }) }).locator('.field__error');
    assert.equal(await errorOf('Stop loss').textContent(), 'must be below the entry for a buy');
    assert.equal(await errorOf('Take-profit 1').textContent(), 'must be above the entry for a buy');
    assert.equal(await errorOf('Leverage').textContent(), 'must be between 1 and 1000');
    assert.equal(await admin.getByLabel('Stop loss').getAttribute('aria-invalid'), 'true');
    const list = await adminApi.api.get('/api/signals');
    assert.deepEqual(list.body.items, [], 'nothing was published');
  });

  it('the admin publishes; the open dashboard shows it at once, highlighted, without a reload', async () => {
    await admin.getByLabel('Stop loss').fill('95');
    await admin.getByLabel('Take-profit 1', { exact: true }).fill('110');
    await admin.getByLabel('Leverage').fill('');
    await admin.getByRole('button', { name: '+ Add take-profit' }).click();
    await admin.getByLabel('Take-profit 2', { exact: true }).fill('120');
    await admin.getByLabel('Notes').fill('<img src=x onerror="window.__pwned=1"> breakout retest');
    await admin.getByTestId('preview').getByText('Ready to publish.').waitFor();
    // A double click must not create two signals.
    await admin.getByRole('button', { name: 'Publish signal' }).dblclick();
    await admin.getByTestId('compose-status').getByText('Published buy ETHUSDT').waitFor();

    const row = sub.locator('[data-testid="signal-row"][data-symbol="ETHUSDT"]');
    await row.waitFor({ timeout: 10_000 });
    assert.match((await row.getAttribute('class')) ?? '', /signal-row--fresh/);
    assert.deepEqual(await feedSymbols(sub), ['ETHUSDT']);
    const list = await adminApi.api.get('/api/signals');
    assert.equal(list.body.items.length, 1, 'a double click published once');

    // Notes are text, never markup.
    await row.click();
    await sub.getByTestId('timeline').getByText('Published').waitFor();
    await sub.getByText('<img src=x onerror="window.__pwned=1"> breakout retest').waitFor();
    assert.equal(await sub.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    await sub.getByRole('link', { name: '← All signals' }).click();
  });

  it('survives a reload, and a logout and login (which clears the local cache)', async () => {
    await publish(adminApi, 'vip', { symbol: 'SOLUSDT', side: 'sell', entry: 150, stopLoss: 160, takeProfits: [140] });
    await sub.locator('[data-symbol="SOLUSDT"]').waitFor();
    await sub.reload();
    await sub.locator('[data-symbol="SOLUSDT"]').waitFor();
    assert.deepEqual(await feedSymbols(sub), ['SOLUSDT', 'ETHUSDT']);

    // The cache is only a copy: when it disagrees with the server, the server wins.
    await sub.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('signal-desk');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const tx = open.result.transaction('signals', 'readwrite');
            const signals = tx.objectStore('signals');
            const all = signals.getAll();
            all.onsuccess = () => {
              for (const view of all.result) {
                if (view.symbol === 'SOLUSDT') signals.put({ ...view, status: 'sl_hit' });
                if (view.symbol === 'ETHUSDT') signals.put({ ...view, id: 'forged-id', symbol: 'GHOST' });
              }
            };
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(tx.error);
          };
        }),
    );
    await sub.reload();
    await waitLive(sub);
    await sub.locator('[data-symbol="SOLUSDT"][data-status="open"]').waitFor();
    assert.deepEqual(await feedSymbols(sub), ['SOLUSDT', 'ETHUSDT']);

    await sub.getByRole('button', { name: 'Log out' }).click();
    await sub.getByText('You are signed out.').waitFor();
    const cached = await sub.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const open = indexedDB.open('signal-desk');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const count = open.result.transaction('signals').objectStore('signals').count();
            count.onsuccess = () => resolve(count.result);
          };
        }),
    );
    assert.equal(cached, 0, 'logout deleted the cached signals');

    await signIn(sub, server.url, SUB_EMAIL);
    await sub.locator('[data-symbol="SOLUSDT"]').waitFor();
    assert.deepEqual(await feedSymbols(sub), ['SOLUSDT', 'ETHUSDT']);
    await waitLive(sub);
  });

  it('offline: five publishes and a TP1 hit arrive once, in order, after reconnecting', async () => {
    await sub.evaluate(() => {
      const el = document.querySelector('[data-testid="connection"]') as HTMLElement;
      const states = [el.dataset.state ?? ''];
      (window as unknown as { __states: string[] }).__states = states;
      new MutationObserver(() => {
        if (states.at(-1) !== el.dataset.state) states.push(el.dataset.state ?? '');
      }).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });
    await subContext.setOffline(true);
    await sub.locator('[data-testid="connection"][data-state="offline"]').waitFor();

    const symbols = ['AAA1', 'BBB2', 'CCC3', 'DDD4', 'EEE5'];
    const published = [];
    for (const symbol of symbols) published.push(await publish(adminApi, 'vip', { symbol }));
    const tp = await adminApi.api.post(`/api/signals/${published[1]?.id}/updates`, { type: 'tp_hit', level: 1 });
    assert.equal(tp.status, 201);
    // While offline the dashboard still shows what it had, and nothing new.
    assert.deepEqual(await feedSymbols(sub), ['SOLUSDT', 'ETHUSDT']);

    await subContext.setOffline(false);
    await waitLive(sub);
    await sub.locator('[data-symbol="EEE5"]').waitFor();
    assert.deepEqual(await feedSymbols(sub), [...symbols].reverse().concat(['SOLUSDT', 'ETHUSDT']));
    assert.equal(await sub.locator('[data-symbol="BBB2"]').getAttribute('data-status'), 'tp_hit');
    await sub.locator('[data-symbol="BBB2"]').getByText('TP1 hit').waitFor();
    const states = await sub.evaluate(() => (window as unknown as { __states: string[] }).__states);
    const offline = states.indexOf('offline');
    const reconnecting = states.indexOf('reconnecting', offline);
    assert.ok(offline >= 0 && reconnecting > offline, `went offline then reconnecting: ${states.join(' → ')}`);
    assert.ok(states.indexOf('live', reconnecting) > reconnecting, `then live: ${states.join(' → ')}`);
  });

  it('a reload while offline shows the saved signals at once, then catches up', async () => {
    const expected = await feedSymbols(sub);
    // Writing the cache trails the screen by a moment: wait until it holds what is shown.
    await sub.waitForFunction(
      (symbols) =>
        new Promise<boolean>((resolve) => {
          const open = indexedDB.open('signal-desk');
          open.onsuccess = () => {
            const all = open.result.transaction('signals').objectStore('signals').getAll();
            all.onsuccess = () => {
              const cached = new Set(all.result.map((view: { symbol: string }) => view.symbol));
              resolve(symbols.every((symbol) => cached.has(symbol)));
            };
          };
        }),
      expected,
      { polling: 100, timeout: 10_000 },
    );
    await subContext.setOffline(true);
    await sub.reload();
    await sub.locator('[data-testid="connection"][data-state="offline"]').waitFor();
    await sub.locator('[data-symbol="EEE5"]').waitFor();
    assert.deepEqual(await feedSymbols(sub), expected);
    await publish(adminApi, 'vip', { symbol: 'LATE1' });
    await subContext.setOffline(false);
    await waitLive(sub);
    await sub.locator('[data-symbol="LATE1"]').waitFor();
    assert.deepEqual(await feedSymbols(sub), ['LATE1', ...expected]);
  });

  it('a subscriber without the grant never sees the channel', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const outsider = await context.newPage();
    await signIn(outsider, server.url, OUTSIDER_EMAIL);
    await waitLive(outsider);
    await publish(adminApi, 'forex-desk', {
      symbol: 'EURUSD',
      market: 'forex',
      entry: 1.1,
      stopLoss: 1.09,
      takeProfits: [1.12],
    });
    await publish(adminApi, 'vip', { symbol: 'SECRET' });
    await outsider.locator('[data-symbol="EURUSD"]').waitFor();
    await sub.locator('[data-symbol="SECRET"]').waitFor();
    assert.deepEqual(await feedSymbols(outsider), ['EURUSD']);
    await outsider.reload();
    await outsider.locator('[data-symbol="EURUSD"]').waitFor();
    assert.deepEqual(await feedSymbols(outsider), ['EURUSD']);
    const viaApi = await outsider.evaluate(() => fetch('/api/signals?channel=vip').then((r) => r.json()));
    assert.deepEqual(viaApi.items, []);

    // Disabled by an admin: the open session ends with a message saying why.
    await open(admin, 'Users', 'Users');
    await admin
      .locator(`[data-testid="user-item"][data-email="${OUTSIDER_EMAIL}"]`)
      .getByRole('button', { name: 'Disable' })
      .click();
    // Its sessions are revoked at once; signing in again says why.
    await outsider.getByText('You were signed out. Sign in again.').waitFor({ timeout: 15_000 });
    await outsider.getByLabel('Email').fill(OUTSIDER_EMAIL);
    await outsider.getByLabel('Password').fill(PASSWORD);
    await outsider.getByRole('button', { name: 'Sign in' }).click();
    await outsider.getByText('This account is disabled. Ask an admin.').waitFor();
    await context.close();
  });

  it('admin console: lifecycle buttons and receipts; screenshots at desktop and phone width', async () => {
    await open(admin, 'Publish', 'Admin console');
    const item = admin.locator('[data-testid="manage-item"][data-symbol="CCC3"]');
    await item.getByRole('button', { name: 'Breakeven' }).click();
    await item.getByRole('button', { name: 'Note' }).click();
    await item.getByLabel('Note for CCC3').fill('Moved stop to entry; trail from here.');
    await item.getByRole('button', { name: 'Add note' }).click();
    await admin
      .locator('[data-testid="manage-item"][data-symbol="DDD4"]')
      .getByRole('button', { name: 'SL hit' })
      .click();
    await sub.locator('[data-symbol="DDD4"][data-status="sl_hit"]').waitFor();
    await sub.locator('[data-symbol="CCC3"]').getByText('Open · BE').waitFor();
    // Its audience is the one granted subscriber (admins are not counted): online, and it has it.
    await item.getByTestId('receipts').getByText('1/1 online').waitFor();
    await item.getByTestId('receipts').getByText('1/1 received').waitFor();

    await sub.locator('[data-symbol="CCC3"]').click();
    await sub.getByTestId('timeline').getByText('Stop moved to breakeven').waitFor();
    await sub.getByTestId('timeline').getByText('Moved stop to entry; trail from here.').waitFor();
    await sub.getByRole('link', { name: '← All signals' }).click();

    // A composition in progress, so the console's picture shows the live preview.
    await admin.getByLabel('Channel').selectOption('vip');
    await admin.getByLabel('Market').selectOption('commodities');
    await admin.getByLabel('Symbol').fill('XAUUSD');
    await admin.getByLabel('Sell').check();
    await admin.getByLabel('Entry', { exact: true }).fill('2385.5');
    await admin.getByLabel('Stop loss').fill('2398');
    await admin.getByLabel('Take-profit 1', { exact: true }).fill('2370');
    await admin.getByRole('button', { name: '+ Add take-profit' }).click();
    await admin.getByLabel('Take-profit 2', { exact: true }).fill('2355');
    await admin.getByLabel('Timeframe').fill('1h');
    await admin.getByLabel('Source').fill('Gold desk');
    await admin.getByTestId('preview').getByText('Ready to publish.').waitFor();

    await sub.mouse.move(0, 0);
    for (const [name, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await sub.setViewportSize(viewport);
      await admin.setViewportSize(viewport);
      await sub.waitForTimeout(300); // let the highlight and layout settle before the picture
      await saveScreenshot(sub, `dashboard-${name}`);
      await admin.evaluate(() => window.scrollTo(0, 0));
      await saveScreenshot(admin, `admin-${name}`);
    }
    await sub.setViewportSize(DESKTOP);
    await sub.emulateMedia({ colorScheme: 'dark' });
    await saveScreenshot(sub, 'dashboard-desktop-dark');
  });

  it('the unread count follows the user from one device to another', async () => {
    await sub.emulateMedia({ colorScheme: 'light' });
    const secondDevice = await browser.newContext({ viewport: PHONE });
    const phone = await secondDevice.newPage();
    await signIn(phone, server.url, SUB_EMAIL);
    await phone.locator('[data-symbol="SECRET"]').click();
    await phone.getByTestId('timeline').waitFor();
    await sub.locator('[data-symbol="SECRET"]').click();
    await sub.getByTestId('timeline').waitFor();

    // Neither device shows the feed: new signals count as unread on both.
    await publish(adminApi, 'vip', { symbol: 'UNREAD1' });
    await publish(adminApi, 'vip', { symbol: 'UNREAD2' });
    await phone.getByTestId('unread').getByText('2').waitFor();
    await sub.getByTestId('unread').getByText('2').waitFor();

    // Read on one device (the desktop opens the feed) …
    await sub.getByRole('link', { name: /^Signals/ }).click();
    await sub.locator('[data-symbol="UNREAD2"]').waitFor();
    await sub.getByTestId('unread').waitFor({ state: 'detached' });
    // … and the other device learns it from the server when it looks again.
    await phone.waitForFunction(
      () => {
        document.dispatchEvent(new Event('visibilitychange'));
        return document.querySelector('[data-testid="unread"]') === null;
      },
      undefined,
      { polling: 500, timeout: 10_000 },
    );
    await secondDevice.close();
  });

  it('filters and search narrow the feed; a revoked channel leaves it at once', async () => {
    await sub.getByRole('searchbox').fill('bbb');
    await sub.locator('[data-testid="feed"][data-count="1"]').waitFor();
    assert.deepEqual(await feedSymbols(sub), ['BBB2']);
    await sub.getByRole('searchbox').fill('');
    await sub.getByLabel('Status').selectOption('sl_hit');
    await sub.locator('[data-testid="feed"][data-count="1"]').waitFor();
    assert.deepEqual(await feedSymbols(sub), ['DDD4']);
    await sub.getByRole('button', { name: 'Clear' }).click();
    await sub.locator('[data-symbol="ETHUSDT"]').waitFor();

    await open(admin, 'Users', 'Users');
    await admin.getByRole('button', { name: `Revoke #vip from ${SUB_EMAIL}` }).click();
    await sub.getByText('No signals yet').waitFor();
    assert.deepEqual(await feedSymbols(sub), []);
  });

  it('a page whose code cannot be fetched says so, and the rest of the app keeps working', async () => {
    // As when offline on a page not opened before, or in a tab older than the last deploy.
    const chunk = '**/assets/stats-page-*.js';
    await subContext.route(chunk, (route) => route.abort());
    const tab = await subContext.newPage();
    try {
      await tab.goto(server.url);
      await tab.getByRole('heading', { level: 1, name: 'Signals', exact: true }).waitFor();
      const nav = tab.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Statistics' }).click();
      await tab.getByRole('heading', { name: 'This page could not be loaded' }).waitFor();
      await tab.getByRole('button', { name: 'Reload' }).waitFor();
      await nav.getByRole('link', { name: 'Signals' }).click();
      await tab.getByRole('heading', { level: 1, name: 'Signals', exact: true }).waitFor();
    } finally {
      await subContext.unroute(chunk);
      await tab.close();
    }
  });

  it('an expired session ends with a message saying so', async () => {
    // Time passes: every session of the database reaches its expiry.
    const store = server.runtime.store as unknown as {
      raw: { prepare(sql: string): { run(...args: unknown[]): void } };
    };
    store.raw.prepare('UPDATE sessions SET expires_at = ?').run(new Date(Date.now() - 1000).toISOString());
    await sub.reload();
    await sub.getByText('Your session expired. Sign in again.').waitFor();
    await sub.getByRole('button', { name: 'Sign in' }).waitFor();
  });
});
