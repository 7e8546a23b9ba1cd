/**
 * The admin's operating pages in a real browser against a real server: the System page
 * follows the installation live (this node, a subscriber connecting, publish latency after a
 * few publishes) without a reload; a token made on the Tokens page publishes with the `curl`
 * body the page shows and is refused at once after being revoked; and a mirror set on the
 * Channels page with a 1-second delay releases a VIP signal into the free channel, where its
 * subscriber is told when and where it was first published.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import {
  buildAdmin,
  buildChannel,
  buildSubscriber,
  connect,
  PASSWORD,
  publish,
  startServer,
  type Account,
  type Subscriber,
  type TestServer,
} from '../helpers/server.js';
import { browserUnavailable, DESKTOP, ensureWebBuilt, launchBrowser, saveScreenshot } from './browser.js';

const skip = browserUnavailable();
const FREE_EMAIL = 'free-reader@example.test';

async function signIn(page: Page, url: string, email: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Signals', exact: true }).waitFor();
}

async function open(page: Page, link: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
}

/** Resolves once the tile's `data-value` satisfies `accept` (the page refreshes itself every 2 s). */
async function tileValue(tile: Locator, accept: (value: string) => boolean, timeout = 10_000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const value = (await tile.getAttribute('data-value')) ?? '';
    if (accept(value)) return value;
    if (Date.now() - started > timeout) throw new Error(`tile value stayed ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** POST /api/signals with an API token, as a bot does. */
function publishWithToken(server: TestServer, token: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}/api/signals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('system, tokens and mirrors in chromium', { skip: skip ?? false, timeout: 90_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let admin: Account;
  const sockets: Subscriber[] = [];

  before(async () => {
    server = await startServer({ webRoot: ensureWebBuilt() });
    admin = await buildAdmin(server);
    await buildChannel(admin, 'vip', 'VIP desk');
    await buildChannel(admin, 'free', 'Free desk');
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await context.newPage();
    await signIn(page, server.url, 'admin@example.test');
  });

  after(async () => {
    for (const socket of sockets) socket.close();
    await browser?.close();
    await server?.close();
  });

  it('shows this node, a subscriber connecting, and latency after publishes, without reloading', async () => {
    await open(page, 'System', 'System');
    // A reload would drop this mark: every change below must come from the page refreshing itself.
    await page.evaluate(() => (document.documentElement.dataset.mark = 'kept'));

    const node = page.locator(`[data-testid="node-row"][data-node="${server.runtime.nodeId}"]`);
    await node.waitFor();
    assert.equal(await node.getAttribute('data-flag'), 'ok');
    await node.getByText('(this node)').waitFor();
    assert.equal(await page.getByTestId('node-id').textContent(), server.runtime.nodeId);

    // Nothing published yet: no latency to show.
    const ack = page.getByTestId('tile-ack-p99');
    assert.equal(await ack.getAttribute('data-value'), '');
    assert.equal(await ack.locator('.system__value').textContent(), '–');
    assert.match((await page.getByTestId('database-size').textContent()) ?? '', /^\d[\d.,]* (B|KiB|MiB)$/);
    assert.match(
      (await page.getByTestId('wal-size').textContent()) ?? '',
      /^\d[\d.,]* (B|KiB|MiB)$/,
      'SQLite has a WAL',
    );

    // The admin's own page is connected; one more subscriber shows within a refresh or two.
    const connections = page.getByTestId('tile-connections');
    const before = Number(await tileValue(connections, (v) => v !== ''));
    assert.ok(before >= 1, `the admin's own page counts: ${before}`);
    const reader = await buildSubscriber(server, admin, { channels: ['vip'] });
    const socket = connect(server, { token: reader.token });
    sockets.push(socket);
    await socket.waitLive();
    await tileValue(connections, (v) => Number(v) === before + 1);
    await page
      .getByRole('img', { name: /^Connected subscribers (over the last hour|since this node started)/ })
      .waitFor();

    const headBefore = Number((await page.getByTestId('head-seq').textContent())?.replace(/\D/g, ''));
    for (let i = 0; i < 3; i++) await publish(admin, 'vip', { symbol: `LIVE${i}` });
    const p99 = await tileValue(ack, (v) => v !== '');
    assert.ok(Number(p99) > 0, `publish ack p99 is a number of ms: ${p99}`);
    assert.match((await ack.locator('.system__value').textContent()) ?? '', /^\d[\d.,]* ms$/);
    await page
      .getByTestId('head-seq')
      .getByText(String(headBefore + 3))
      .waitFor({ timeout: 5_000 });
    await socket.waitFor((events) => events.length >= 3);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.mark), 'kept');
  });

  it('makes a token that publishes with the shown curl, on its channels only, and revokes it', async () => {
    await open(page, 'Tokens', 'API tokens');
    const form = page.getByRole('form', { name: 'Create an API token' });
    await form.getByRole('button', { name: 'Create token' }).click();
    await form.getByText('is required').waitFor();
    await form.getByText('needs at least one channel').waitFor();

    await form.getByLabel('Name').fill('Grid bot');
    await form.getByLabel('VIP desk').check();
    await form.getByRole('button', { name: 'Create token' }).click();
    const once = page.getByTestId('token-once');
    const token = await once.getByTestId('token-value').inputValue();
    assert.match(token, /^sdt_[A-Za-z0-9_-]{43}$/);
    await once.getByRole('button', { name: 'Copy', exact: true }).first().click();
    await once.getByRole('button', { name: 'Copied', exact: true }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);

    // The example is a working request: its body, sent with the token, publishes.
    const curl = await once.getByTestId('token-curl').inputValue();
    assert.ok(curl.includes(`Authorization: Bearer ${token}`) && curl.includes(`${server.url}/api/signals`), curl);
    const body = JSON.parse(/-d '(.+)'$/m.exec(curl)?.[1] ?? 'null') as Record<string, unknown>;
    assert.equal(body.channel, 'vip');
    const published = await publishWithToken(server, token, body);
    assert.equal(published.status, 201, await published.clone().text());
    const elsewhere = await publishWithToken(server, token, { ...body, channel: 'free' });
    assert.equal(elsewhere.status, 403, 'not a channel of the token');

    await once.getByRole('button', { name: 'Done: I copied the token' }).click();
    await once.waitFor({ state: 'detached' });
    assert.equal(await page.getByText(token).count(), 0, 'the token is gone from the page');

    const item = page.locator('[data-testid="token-item"][data-name="Grid bot"]');
    await item.and(page.locator('[data-state="active"]')).waitFor();
    await item.getByText('#vip').waitFor();
    await item.getByRole('button', { name: 'Revoke' }).click();
    const confirm = item.getByRole('group', { name: 'Revoke Grid bot' });
    await confirm.getByText(/refused \(401\) from its next request/).waitFor();
    await confirm.getByRole('button', { name: 'Yes, revoke it' }).click();
    await item.and(page.locator('[data-state="revoked"]')).waitFor();
    await item.getByText(/revoked /).waitFor();
    const refused = await publishWithToken(server, token, body);
    assert.equal(refused.status, 401);
  });

  it('sets a 1-second mirror on the Channels page; the free subscriber sees the VIP signal with where it was first published', async () => {
    await open(page, 'Channels', 'Channels');
    await page.getByText("free gets VIP's signals 24 h later").waitFor();
    const free = page.locator('[data-testid="channel-item"][data-slug="free"]');
    await free.getByRole('button', { name: 'Receive another channel after a delay' }).click();
    const form = page.getByRole('form', { name: 'Mirror into #free' });
    await form.getByLabel('Receives the signals of').selectOption('vip');
    await form.getByLabel('After', { exact: true }).fill('0');
    await form.getByLabel('Unit').selectOption({ label: 'seconds' });
    await form.getByRole('button', { name: 'Save mirror' }).click();
    await form.getByText('must be at least 1 second').waitFor();
    await form.getByLabel('After', { exact: true }).fill('1');
    await form.getByRole('button', { name: 'Save mirror' }).click();
    await free.getByText('Receives #vip after 1 s').waitFor();
    const mirrors = (await admin.api.get('/api/mirrors')).body.items as { channel: string; delaySeconds: number }[];
    assert.deepEqual(
      mirrors.map((m) => [m.channel, m.delaySeconds]),
      [['free', 1]],
    );

    await buildSubscriber(server, admin, { channels: ['free'], email: FREE_EMAIL });
    const readerContext = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    const reader = await readerContext.newPage();
    await signIn(reader, server.url, FREE_EMAIL);
    await reader.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 15_000 });

    const original = await publish(admin, 'vip', { symbol: 'DELAYED' });
    const row = reader.locator('[data-testid="signal-row"][data-symbol="DELAYED"]');
    await row.waitFor({ timeout: 10_000 });
    assert.notEqual(await row.getAttribute('data-id'), original.id, 'a new event of the free channel');
    await row.getByText('#free').waitFor();
    assert.match((await row.getByTestId('origin').textContent()) ?? '', /^First published \d+ s earlier in #vip$/);
    assert.match((await row.getAttribute('aria-label')) ?? '', /First published \d+ s earlier in #vip$/);

    await row.click();
    const notice = reader.getByTestId('origin');
    await notice.waitFor();
    assert.match(
      (await notice.textContent()) ?? '',
      new RegExp(`^First published .+ in #vip, released in #free \\d+ s later .+\\(seq ${original.seq}, `),
    );
    await reader.getByTestId('timeline').getByText('Released from #vip').waitFor();
    await readerContext.close();
  });

  it('screenshot of the System page', async () => {
    // A few connections to show: two more subscribers, as WebSocket clients.
    const reader = await buildSubscriber(server, admin, { channels: ['vip', 'free'] });
    for (let i = 0; i < 2; i++) {
      const socket = connect(server, { token: reader.token });
      sockets.push(socket);
      await socket.waitLive();
    }
    await open(page, 'System', 'System');
    await tileValue(page.getByTestId('tile-connections'), (v) => Number(v) >= 4);
    await page.getByTestId('tile-delivery-p99').and(page.locator(':not([data-value=""])')).waitFor();
    await page.mouse.move(0, 0);
    await saveScreenshot(page, 'system-desktop', { fullPage: true });
  });
});
