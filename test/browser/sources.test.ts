/**
 * The Sources page and the compose form's paste box in a real browser against a real server
 * (behind a trusted proxy, so an alert can arrive "from" TradingView's address): an admin
 * creates a source, copies its address from the once-shown panel, an alert posted there shows
 * up live on the dashboard and in the source's request log; a pasted text fills the form.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { TRADINGVIEW_ADDRESSES } from '../../shared/sources.js';
import { buildAdmin, buildChannel, PASSWORD, startServer, type Account, type TestServer } from '../helpers/server.js';
import { browserUnavailable, ensureWebBuilt, launchBrowser } from './browser.js';

const skip = browserUnavailable();

async function open(page: Page, link: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
}

/** Posts an alert as TradingView would, from the first of its published addresses. */
function alert(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': TRADINGVIEW_ADDRESSES[0] },
    body: JSON.stringify(body),
  });
}

describe('sources in chromium', { skip: skip ?? false, timeout: 180_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let admin: Account;
  let hookUrl: string;
  let signalId: string;

  before(async () => {
    const webRoot = ensureWebBuilt();
    server = await startServer({ webRoot, env: { TRUST_PROXY: 'true' } });
    admin = await buildAdmin(server);
    await buildChannel(admin, 'tv-alerts', 'TV Alerts');
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(server.url);
    await page.getByLabel('Email').fill('admin@example.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Signals' }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('creates a source and shows its address and the alert message once', async () => {
    await open(page, 'Sources', 'Sources');
    const form = page.getByRole('form', { name: 'Create a source' });
    await form.getByLabel('Channel').selectOption('tv-alerts');
    await form.getByLabel('Name', { exact: true }).fill('BTC Supertrend');
    await form.getByLabel('Label', { exact: true }).fill('TV: Supertrend');
    await form.getByLabel('Default market').selectOption('crypto');
    await form.getByLabel('Allowed addresses').fill('not-an-address');
    await form.getByRole('button', { name: 'Create source' }).click();
    await form.getByText('not-an-address must be an IP address').waitFor();
    await form.getByRole('button', { name: 'Use TradingView’s addresses' }).click();
    assert.equal(await form.getByLabel('Allowed addresses').inputValue(), TRADINGVIEW_ADDRESSES.join('\n'));
    await form.getByRole('button', { name: 'Create source' }).click();

    const panel = page.getByTestId('source-secret');
    await panel.waitFor();
    hookUrl = await panel.getByTestId('source-url').inputValue();
    const secret = await panel.getByTestId('source-secret-value').inputValue();
    assert.equal(hookUrl, `${server.url}/hooks/tv/${secret}`);
    assert.match(await panel.getByTestId('source-template').inputValue(), /"action":"\{\{strategy\.order\.action\}\}"/);
    await panel.getByRole('button', { name: 'Indicator alert' }).click();
    assert.match(await panel.getByTestId('source-template').inputValue(), /"tp1":"\{\{plot\("Target 1"\)\}\}"/);
    await panel.getByRole('button', { name: 'Done: I copied the address' }).click();
    await panel.waitFor({ state: 'detached' });
    const item = page.locator('[data-testid="source-item"][data-name="BTC Supertrend"]');
    await item.getByText('from 52.89.214.238').waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
  });

  it('an alert posted to the address appears live on the dashboard', async () => {
    await open(page, 'Signals', 'Signals');
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 15_000 });
    const res = await alert(hookUrl, {
      ticker: 'BINANCE:BTCUSDT',
      action: 'buy',
      marketPosition: 'long',
      price: '64000',
      sl: '63000',
      tp: '65000 66000',
      interval: '240',
      id: 'BTCUSDT-Long-2026-03-02T10:15:00Z',
    });
    assert.equal(res.status, 201);
    signalId = ((await res.json()) as { id: string }).id;
    await page.locator('[data-testid="signal-row"][data-symbol="BTCUSDT"]').waitFor({ timeout: 10_000 });
  });

  it("the source's request log shows the accepted alert with a link to it, and a refused one with its reason", async () => {
    const refused = await alert(hookUrl, { ticker: 'BTCUSDT', action: 'buy', price: '64000', sl: 'NaN', tp: '65000' });
    assert.equal(refused.status, 400);
    await open(page, 'Sources', 'Sources');
    const item = page.locator('[data-testid="source-item"][data-name="BTC Supertrend"]');
    await item.getByRole('button', { name: 'Request log' }).click();
    const accepted = item.locator('[data-testid="request-row"][data-outcome="accepted"]');
    await accepted.waitFor();
    assert.match(await accepted.innerText(), /52\.89\.214\.238[\s\S]*accepted[\s\S]*201/);
    const bad = item.locator('[data-testid="request-row"][data-outcome="refused"]');
    await bad.waitFor();
    assert.match(await bad.innerText(), /sl: is NaN/);
    await accepted.getByRole('link', { name: 'open' }).click();
    await page.waitForURL(`**/signals/${signalId}`);
    await page.getByText('BTCUSDT').first().waitFor();
  });

  it('the paste box fills the compose form for review and publishes nothing', async () => {
    const before = (await admin.api.get('/api/signals')).body.items.length;
    await open(page, 'Publish', 'Admin console');
    const form = page.getByRole('form', { name: 'Compose a signal' });
    await form.getByText('Paste a signal').click();
    await form
      .getByLabel('Signal text')
      .fill('#ETH/USDT Short 10x\nEntry zone: 3100 - 3150\nStop: 3250\nTargets: 3000, 2900\nTimeframe 4h');
    await form.getByRole('button', { name: 'Fill the form' }).click();
    await form.getByTestId('paste-result').getByText('The form is filled in').waitFor();
    assert.match(await form.getByTestId('paste-result').innerText(), /its midpoint, 3125, is the entry/);
    assert.equal(await form.getByLabel('Symbol').inputValue(), 'ETH/USDT');
    assert.equal(await form.getByLabel('Entry', { exact: true }).inputValue(), '3125');
    assert.equal(await form.getByLabel('Stop loss').inputValue(), '3250');
    assert.equal(await form.getByLabel('Take-profit 1', { exact: true }).inputValue(), '3000');
    assert.equal(await form.getByLabel('Take-profit 2', { exact: true }).inputValue(), '2900');
    assert.equal(await form.getByLabel('Leverage').inputValue(), '10');
    assert.equal(await form.getByLabel('Timeframe').inputValue(), '4h');
    assert.ok(await form.getByRole('radio', { name: 'Sell' }).isChecked());
    assert.equal(await form.getByLabel('Market').inputValue(), 'crypto');

    await form.getByLabel('Signal text').fill('gm traders');
    await form.getByRole('button', { name: 'Fill the form' }).click();
    await form.getByTestId('paste-result').getByText('Not filled in').waitFor();
    assert.equal(await form.getByLabel('Symbol').inputValue(), 'ETH/USDT', 'a refused text leaves the form');
    assert.equal((await admin.api.get('/api/signals')).body.items.length, before, 'nothing was published');
  });
});
