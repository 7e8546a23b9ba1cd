/**
 * The Destinations page in a real browser against a real server and a real webhook receiver
 * that verifies every delivery with the `standardwebhooks` package: an admin adds a webhook,
 * copies its once-shown secret into the receiver, and watches — without reloading — signals
 * reach it, an outage turn into retries with their errors in the delivery log, and the backlog
 * drain once the receiver is back. Then the actions: test-send, disable and enable, secret
 * rotation, rename, and the log's older pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { startPushService, type PushService } from '../helpers/push-service.js';
import {
  buildAdmin,
  buildChannel,
  PASSWORD,
  publish,
  startServer,
  type Account,
  type TestServer,
} from '../helpers/server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { browserUnavailable, DESKTOP, ensureWebBuilt, launchBrowser, saveScreenshot } from './browser.js';

const skip = browserUnavailable();
const NAME = 'Order router';

/** Resolves once the destination's attributes on the page say what `expected` says (the list refreshes itself). */
async function waitFor(item: Locator, expected: Record<string, string | number>, timeout = 15_000): Promise<void> {
  const selector = Object.entries(expected)
    .map(([key, value]) => `[data-${key}="${value}"]`)
    .join('');
  await item.and(item.page().locator(selector)).waitFor({ timeout });
}

/** The destination's cursor and the log head as the page shows them. */
async function position(item: Locator): Promise<{ delivered: number; head: number; pending: number }> {
  const [delivered, head, pending] = await Promise.all(
    ['data-delivered-seq', 'data-head-seq', 'data-pending'].map((a) => item.getAttribute(a)),
  );
  return { delivered: Number(delivered), head: Number(head), pending: Number(pending) };
}

describe('destinations in chromium', { skip: skip ?? false, timeout: 90_000 }, () => {
  let push: PushService;
  let receiver: WebhookReceiver;
  let server: TestServer;
  let browser: Browser;
  let admin: Account;
  let page: Page;
  let item: Locator;
  let secret = '';

  before(async () => {
    [push, receiver] = await Promise.all([startPushService(), startWebhookReceiver()]);
    server = await startServer({
      webRoot: ensureWebBuilt(),
      env: {
        DESTINATIONS_ALLOW_PRIVATE: 'true',
        DESTINATIONS_CA_FILE: push.caFile,
        SIGNAL_DESK_TEST_RETRY_SCALE: '0.01',
      },
    });
    admin = await buildAdmin(server);
    await buildChannel(admin, 'gold', 'Gold desk');
    await buildChannel(admin, 'silver', 'Silver desk');
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await context.newPage();
    await page.goto(server.url);
    await page.getByLabel('Email').fill('admin@example.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Signals', exact: true }).waitFor();
    item = page.locator(`[data-testid="destination"][data-name="${NAME}"]`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await Promise.all([receiver?.close(), push?.close()]);
  });

  it('adds a webhook, shows its secret once, and its position reaches the head as signals go out', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Destinations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Destinations' }).waitFor();
    const form = page.getByRole('form', { name: 'Add a destination' });

    // Each kind has its fields, checked with the server's schema before anything is sent.
    await form.getByLabel('Kind').selectOption('telegram');
    await form.getByLabel('Name').fill('Desk chat');
    await form.getByLabel('Chat').fill('-1001234567890');
    await form.getByLabel('Bot token').fill('not-a-token');
    await form.getByRole('button', { name: 'Add destination' }).click();
    await form.getByText('must be a bot token as @BotFather gives it').waitFor();
    assert.deepEqual((await admin.api.get('/api/destinations')).body.items, [], 'nothing was created');

    await form.getByLabel('Kind').selectOption('webhook');
    await form.getByLabel('Name').fill(NAME);
    await form.getByLabel('URL').fill(receiver.url);
    await form.getByLabel('Gold desk').check();
    await form.getByRole('button', { name: 'Add destination' }).click();
    const shown = page.getByRole('region', { name: `Signing secret of ${NAME}` });
    secret = (await shown.getByTestId('webhook-secret').textContent()) ?? '';
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    receiver.secrets = [secret];
    await shown.getByRole('button', { name: 'Done, it is saved' }).click();
    await shown.waitFor({ state: 'detached' });
    assert.equal(await page.getByText(secret).count(), 0, 'the secret is gone from the page');

    await item.waitFor();
    assert.equal(await item.getByTestId('state').textContent(), 'active');
    await item.getByText(receiver.url).waitFor();

    const gold: number[] = [];
    for (let i = 0; i < 20; i++) {
      const signal = await publish(admin, i % 4 === 3 ? 'silver' : 'gold', { symbol: `HOOK${i}` });
      if (signal.channel === 'gold') gold.push(signal.seq);
    }
    await receiver.waitFor((messages) => messages.length >= gold.length, 15_000);
    assert.deepEqual(
      receiver.messages.map((m) => m.data.seq),
      gold,
      'its channel only, in seq order, each verified with the secret copied from the page',
    );
    const head = (await admin.api.get('/api/destinations')).body.headSeq as number;
    await waitFor(item, { 'delivered-seq': head, 'head-seq': head, pending: 0 });
    assert.equal(await item.getByTestId('position').textContent(), `seq ${head} of ${head} · nothing pending`);
    assert.equal(await item.getByTestId('lag').textContent(), 'up to date');
    assert.doesNotMatch((await item.getByTestId('worker').textContent()) ?? '', /waiting|no node/);
  });

  it('shows the retries of an outage as they happen, with the error and each attempt, and catches up after', async () => {
    receiver.failNext(100, 503);
    const failing = await publish(admin, 'gold', { symbol: 'OUTAGE' });
    await waitFor(item, { state: 'retrying' });
    await item.getByTestId('last-error').getByText(/503/).waitFor();
    await item.getByTestId('next-try').waitFor();
    assert.match((await item.getByTestId('lag').textContent()) ?? '', /^behind for /);
    const { delivered, head, pending } = await position(item);
    assert.ok(delivered < failing.seq && head >= failing.seq && pending === 1, JSON.stringify({ delivered, head }));

    await item.getByRole('button', { name: 'Delivery log' }).click();
    const log = page.getByRole('region', { name: `Delivery log of ${NAME}` });
    const retries = log.locator(`[data-testid="attempt"][data-seq="${failing.seq}"][data-outcome="retry"]`);
    await retries.nth(2).waitFor({ timeout: 10_000 });
    // Newest first: the same event, tried again and again, each refused with the receiver's 503.
    const tries = await retries.evaluateAll((rows) =>
      rows.map((row) => [row.getAttribute('data-attempt'), row.getAttribute('data-status')]),
    );
    assert.deepEqual(
      tries.map(([, status]) => status),
      tries.map(() => '503'),
    );
    assert.deepEqual(
      tries.map(([attempt]) => Number(attempt)),
      tries.map((_, i) => tries.length - i),
    );
    await retries.first().getByText(/503/).first().waitFor();

    await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await saveScreenshot(page, 'destinations-desktop');

    // The receiver is back: the waiting event goes out at its next try, by itself, and nothing is skipped.
    receiver.reset();
    await waitFor(item, { state: 'active', pending: 0 }, 20_000);
    await log
      .locator(`[data-testid="attempt"][data-seq="${failing.seq}"][data-outcome="delivered"]`)
      .waitFor({ timeout: 5_000 });
    assert.deepEqual(
      receiver.unique().map((m) => m.data.seq),
      [failing.seq],
    );
    const after = await position(item);
    assert.equal(after.delivered, after.head);
    assert.equal(await item.getByTestId('last-error').count(), 0, 'a delivery clears the error');
  });

  it('sends a test, disables and enables, rotates the secret, renames, and pages the log', async () => {
    await item.getByRole('button', { name: 'Send test' }).click();
    await item.getByTestId('action-result').getByText('Test delivered: the far side answered 204.').waitFor();

    // Disabled, it sends nothing and keeps its place; enabled again, it carries on from there.
    await item.getByRole('button', { name: 'Disable' }).click();
    await waitFor(item, { state: 'disabled' });
    receiver.reset();
    const held = await publish(admin, 'gold', { symbol: 'HELD' });
    await waitFor(item, { state: 'disabled', pending: 1 });
    assert.equal(receiver.messages.length, 0);
    await item.getByRole('button', { name: 'Enable' }).click();
    await receiver.waitFor((messages) => messages.some((m) => m.data.seq === held.seq), 10_000);
    await waitFor(item, { state: 'active', pending: 0 });

    // A new secret, shown once; the receiver that knows only it verifies what comes next.
    await item.getByRole('button', { name: 'Rotate secret' }).click();
    await item
      .getByRole('group', { name: `Rotate the secret of ${NAME}` })
      .getByLabel('Overlap')
      .selectOption('1');
    await item.getByRole('button', { name: 'Rotate now' }).click();
    const rotated = item.getByRole('region', { name: `New signing secret of ${NAME}` });
    const next = (await rotated.getByTestId('webhook-secret').textContent()) ?? '';
    assert.match(next, /^whsec_/);
    assert.notEqual(next, secret);
    await rotated.getByText(/each delivery is signed with both secrets/).waitFor();
    await item.getByText(/The previous secret also signs until/).waitFor();
    receiver.secrets = [next];
    const signed = await publish(admin, 'gold', { symbol: 'NEWKEY' });
    await receiver.waitFor((messages) => messages.some((m) => m.data.seq === signed.seq), 10_000);
    await rotated.getByRole('button', { name: 'Done, it is saved' }).click();

    await item.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: `Edit ${NAME}` });
    await edit.getByLabel('Name').fill('Order router EU');
    await edit.getByLabel('Silver desk').check();
    await edit.getByRole('button', { name: 'Save' }).click();
    const renamed = page.locator('[data-testid="destination"][data-name="Order router EU"]');
    await renamed.getByText('#silver').waitFor();
    const silver = await publish(admin, 'silver', { symbol: 'NOWSILVER' });
    await receiver.waitFor((messages) => messages.some((m) => m.data.seq === silver.seq), 10_000);

    // Opened afresh, the log shows the newest page and pages back with `before`.
    await renamed.getByRole('button', { name: 'Hide delivery log' }).click();
    await renamed.getByRole('button', { name: 'Delivery log' }).click();
    const log = page.getByRole('region', { name: 'Delivery log of Order router EU' });
    const rows = log.locator('[data-testid="attempt"]');
    await log.locator(`[data-testid="attempt"][data-seq="${silver.seq}"]`).waitFor();
    const firstPage = await rows.count();
    assert.ok(firstPage >= 20, `a full page: ${firstPage}`);
    await log.getByRole('button', { name: 'Older attempts' }).click();
    await rows.nth(firstPage).waitFor();
    const seqs = await rows.evaluateAll((all) => all.map((row) => Number(row.getAttribute('data-seq'))));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => b - a),
      'newest first across pages',
    );
    const ids = await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-seq')));
    assert.ok(ids.length > firstPage);
  });
});
