/**
 * Accounts in a real browser: a subscriber changes their password and signs out everywhere,
 * an admin resets a password and ends someone's sessions from the Users page, and the
 * lifecycle forms that take a price (Close, Cancel). Each session that should end is watched
 * in a page of its own, signed in beforehand, as on another device.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { SignalDetail } from '../../web/api/types.js';
import {
  Api,
  buildAdmin,
  buildChannel,
  buildSubscriber,
  login,
  PASSWORD,
  publish,
  startServer,
  type Account,
  type TestServer,
} from '../helpers/server.js';
import { browserUnavailable, DESKTOP, ensureWebBuilt, launchBrowser, saveScreenshot } from './browser.js';

const skip = browserUnavailable();
const ADMIN_EMAIL = 'admin@example.test';
const SUB_EMAIL = 'account-owner@example.test';
const OTHER_EMAIL = 'account-reset@example.test';
const NEW_PASSWORD = 'a brand new passphrase';
const RESET_PASSWORD = 'set by the admin 2024';
const SIGNED_OUT = 'You were signed out. Sign in again.';

async function signIn(page: Page, url: string, email: string, password = PASSWORD): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Signals', exact: true }).waitFor();
}

async function waitLive(page: Page): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 15_000 });
}

/** The status of the session this page's cookie belongs to, as the API sees it. */
function meStatus(page: Page): Promise<number> {
  return page.evaluate(() => fetch('/api/me').then((r) => r.status));
}

describe('accounts and lifecycle prices in chromium', { skip: skip ?? false, timeout: 120_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let admin: Account;
  let subApi: Account;
  const contexts: BrowserContext[] = [];

  /** A page in a fresh browser context: its own cookies, as another device. */
  const device = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    contexts.push(context);
    return context.newPage();
  };
  const errorUnder = (page: Page, label: string) =>
    page.locator('.field', { has: page.getByLabel(label, { exact: true }) }).locator('.field__error');

  before(async () => {
    server = await startServer({ webRoot: ensureWebBuilt() });
    admin = await buildAdmin(server);
    await buildChannel(admin, 'desk', 'Trading Desk');
    subApi = await buildSubscriber(server, admin, { channels: ['desk'], email: SUB_EMAIL });
    await buildSubscriber(server, admin, { channels: ['desk'], email: OTHER_EMAIL });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.close();
  });

  let owner: Page;
  let laptop: Page;

  it('a password change shows each error under its field, then ends the other sessions only', async () => {
    owner = await device();
    laptop = await device();
    await signIn(owner, server.url, SUB_EMAIL);
    await signIn(laptop, server.url, SUB_EMAIL);
    await waitLive(laptop);

    await owner.getByRole('banner').getByRole('link', { name: SUB_EMAIL }).click();
    await owner.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
    const form = owner.getByRole('form', { name: 'Change password' });
    const submit = form.getByRole('button', { name: 'Change password' });

    // The shared schema, checked before anything is sent.
    await form.getByLabel('New password', { exact: true }).fill('short');
    await form.getByLabel('Confirm new password').fill('shorter');
    await submit.click();
    assert.equal(await errorUnder(owner, 'Current password').textContent(), 'is required');
    assert.equal(await errorUnder(owner, 'New password').textContent(), 'must be at least 10 characters');
    assert.equal(await errorUnder(owner, 'Confirm new password').textContent(), 'does not match the new password');

    // The server's answer, under the field it is about.
    await form.getByLabel('Current password').fill('not my password at all');
    await form.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await form.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await submit.click();
    await errorUnder(owner, 'Current password').getByText('is not your current password').waitFor();
    assert.equal(await form.getByLabel('Current password').getAttribute('aria-invalid'), 'true');

    await form.getByLabel('Current password').fill(PASSWORD);
    await submit.click();
    await form.getByText('Password changed; your other sessions were signed out.').waitFor();
    assert.equal(await form.getByLabel('Current password').inputValue(), '', 'the form is emptied');

    // The other browser is told at once (its socket was closed), the API token is dead, this page lives on.
    await laptop.getByText(SIGNED_OUT).waitFor({ timeout: 15_000 });
    assert.equal((await subApi.api.get('/api/me')).status, 401);
    assert.equal(await meStatus(owner), 200);
    assert.equal(
      (await new Api(server.url).post('/api/auth/login', { email: SUB_EMAIL, password: PASSWORD })).status,
      401,
    );

    await owner.mouse.move(0, 0);
    await saveScreenshot(owner, 'account-desktop');

    await signIn(laptop, server.url, SUB_EMAIL, NEW_PASSWORD);
    await waitLive(laptop);
  });

  it('signing out everywhere asks first, ends this session too and returns to sign-in', async () => {
    const token = await login(server, SUB_EMAIL, NEW_PASSWORD);
    const sessions = owner.getByRole('region', { name: 'Sessions' });
    await sessions.getByRole('button', { name: 'Sign out everywhere' }).click();
    // A second thought is allowed.
    await sessions.getByRole('button', { name: 'Stay signed in' }).click();
    assert.equal(await meStatus(owner), 200);

    await sessions.getByRole('button', { name: 'Sign out everywhere' }).click();
    await sessions.getByRole('button', { name: 'Yes, sign out everywhere' }).click();
    await owner.getByText('You are signed out on every device.').waitFor();
    await owner.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(new URL(owner.url()).pathname, '/');

    await laptop.getByText(SIGNED_OUT).waitFor({ timeout: 15_000 });
    assert.equal((await token.api.get('/api/me')).status, 401, 'the bearer token no longer works');
    assert.equal(await meStatus(owner), 401, 'nor does the cookie');
  });

  it('an admin resets a password and signs a user out everywhere from the Users page', async () => {
    const adminPage = await device();
    const user = await device();
    await signIn(adminPage, server.url, ADMIN_EMAIL);
    await signIn(user, server.url, OTHER_EMAIL);
    await waitLive(user);

    await adminPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    const item = adminPage.locator(`[data-testid="user-item"][data-email="${OTHER_EMAIL}"]`);
    await item.getByRole('button', { name: 'Reset password' }).click();
    const reset = item.getByRole('form', { name: `Reset the password of ${OTHER_EMAIL}` });
    await reset.getByLabel('New password').fill('short');
    await reset.getByRole('button', { name: 'Set password' }).click();
    await reset.getByText('must be at least 10 characters').waitFor();
    await reset.getByLabel('New password').fill(RESET_PASSWORD);
    await reset.getByRole('button', { name: 'Set password' }).click();
    await item.getByText(`New password set for ${OTHER_EMAIL}; their sessions were signed out.`).waitFor();

    await user.getByText(SIGNED_OUT).waitFor({ timeout: 15_000 });
    await signIn(user, server.url, OTHER_EMAIL, RESET_PASSWORD);
    await waitLive(user);

    await item.getByRole('button', { name: 'Sign out everywhere' }).click();
    await item.getByRole('group', { name: `Sign ${OTHER_EMAIL} out everywhere` }).waitFor();
    assert.equal(await meStatus(user), 200, 'nothing happens before the confirmation');
    await item.getByRole('button', { name: 'Yes, sign out' }).click();
    await item.getByText(`${OTHER_EMAIL} is signed out everywhere.`).waitFor();
    await user.getByText(SIGNED_OUT).waitFor({ timeout: 15_000 });
    assert.equal(await meStatus(user), 401);
  });

  it('Cancel and Close take a mark or exit price; TP buttons send none', async () => {
    const page = await device();
    const cancelled = await publish(admin, 'desk', {
      symbol: 'CANCELME',
      entry: 100,
      stopLoss: 95,
      takeProfits: [110],
    });
    const closed = await publish(admin, 'desk', {
      symbol: 'CLOSEME',
      entry: 100,
      stopLoss: 95,
      takeProfits: [110, 120],
    });
    await signIn(page, server.url, ADMIN_EMAIL);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Publish' }).click();

    const cancelItem = page.locator('[data-testid="manage-item"][data-symbol="CANCELME"]');
    await cancelItem.getByRole('button', { name: 'Cancel', exact: true }).click();
    const cancelForm = cancelItem.getByRole('form', { name: 'Cancel CANCELME' });
    await cancelForm.getByText('Optional now; required 10 min after publishing').waitFor();
    const mark = cancelForm.getByLabel('Mark price');
    await mark.fill('lots');
    await cancelForm.getByRole('button', { name: 'Cancel signal' }).click();
    await cancelForm.getByText('must be a number').waitFor();
    // The shared rule, checked in the page before sending: within 100× of the entry.
    await mark.fill('20000');
    await cancelForm.getByRole('button', { name: 'Cancel signal' }).click();
    await cancelForm.getByText('must be within 100× of the entry (100)').waitFor();
    await mark.fill('98.5');
    await cancelForm.getByRole('button', { name: 'Cancel signal' }).click();
    await cancelItem.locator('[data-status="cancelled"]').getByText('Cancelled').waitFor();
    assert.equal(await cancelForm.count(), 0, 'the form closes');
    const cancelDetail = await admin.api.get<SignalDetail>(`/api/signals/${cancelled.id}`);
    assert.equal(cancelDetail.body.signal.exitPrice, 98.5);
    assert.equal(cancelDetail.body.events.length, 2, 'refused attempts sent nothing');

    const closeItem = page.locator('[data-testid="manage-item"][data-symbol="CLOSEME"]');
    await closeItem.getByRole('button', { name: 'TP1 hit' }).click();
    await closeItem.locator('[data-status="tp_hit"]').waitFor();
    // Cancelling is over once a take-profit is hit; closing is still offered.
    assert.equal(await closeItem.getByRole('button', { name: 'Cancel', exact: true }).count(), 0);
    await closeItem.getByRole('button', { name: 'Close', exact: true }).click();
    await closeItem.getByLabel('Exit price').fill('104.25');
    await closeItem.getByRole('button', { name: 'Close signal' }).click();
    await closeItem.locator('[data-status="closed"]').waitFor();

    const closeDetail = await admin.api.get<SignalDetail>(`/api/signals/${closed.id}`);
    const data = closeDetail.body.events.flatMap((event) => (event.type === 'signal.updated' ? [event.data] : []));
    assert.deepEqual(
      data.map((d) => [d.type, d.price]),
      [
        ['tp_hit', undefined],
        ['closed', 104.25],
      ],
    );
    await closeItem.getByRole('link', { name: 'CLOSEME' }).click();
    const levels = page.getByRole('region', { name: 'Levels' });
    await levels
      .locator('div', { has: page.getByText('Exit', { exact: true }) })
      .getByText('104.25')
      .waitFor();
    await page.getByTestId('timeline').getByText('at 104.25').waitFor();
  });

  it('a signal older than the grace period cannot be cancelled without a mark price', async () => {
    // The server cannot be made older, but the page's clock can: 11 minutes ahead, the shared
    // rule asks for the price before anything is sent.
    const page = await device();
    await page.clock.setFixedTime(Date.now() + 11 * 60_000);
    const old = await publish(admin, 'desk', { symbol: 'AGED', entry: 100, stopLoss: 95, takeProfits: [110] });
    await signIn(page, server.url, ADMIN_EMAIL);
    await page.goto(`${server.url}/signals/${old.id}`);
    const levels = page.getByRole('region', { name: 'Levels' });
    await levels.getByRole('button', { name: 'Cancel', exact: true }).click();
    const form = levels.getByRole('form', { name: 'Cancel AGED' });
    await form.getByText('Required: published more than 10 min ago').waitFor();
    assert.equal(await form.getByLabel('Mark price').getAttribute('aria-required'), 'true');
    await form.getByRole('button', { name: 'Cancel signal' }).click();
    await form.getByText('is required to cancel more than 10 minutes after publishing: give the mark price').waitFor();
    const detail = await admin.api.get<SignalDetail>(`/api/signals/${old.id}`);
    assert.equal(detail.body.signal.status, 'open', 'nothing was sent');
  });
});
