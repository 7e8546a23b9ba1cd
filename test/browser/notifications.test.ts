/**
 * The installable app and its notifications in a real browser against a real server: the
 * manifest and icons as Chromium reads them, the service worker's offline start, its push and
 * click handling (a push delivered to it through the DevTools protocol), and turning
 * notifications on end to end through a real local push service that checks VAPID and
 * decrypts what the server sends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startPushService, type PushService, type PushSubscriptionJson } from '../helpers/push-service.js';
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
import {
  browserUnavailable,
  CHROMIUM,
  DESKTOP,
  ensureWebBuilt,
  launchBrowser,
  PHONE,
  saveScreenshot,
} from './browser.js';

const skip = browserUnavailable();
const SUB_EMAIL = 'notified@example.test';

interface ManifestIcon {
  src: string;
  sizes: string;
  type: string;
  purpose?: string;
}

async function signIn(page: Page, url: string, email: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Signals', exact: true }).waitFor();
}

/** The dashboard's link to the notifications section of the account page. */
async function openNotifications(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Push notifications' }).click();
  await page.getByRole('heading', { level: 2, name: 'Notifications' }).waitFor();
}

/** Width and height of the PNG at `src`, decoded by the page; throws unless it is served as a PNG. */
function pngSize(page: Page, src: string): Promise<{ type: string; width: number; height: number }> {
  return page.evaluate(async (url) => {
    const response = await fetch(url);
    const blob = await response.blob();
    const bitmap = await createImageBitmap(blob);
    return { type: response.headers.get('content-type') ?? '', width: bitmap.width, height: bitmap.height };
  }, src);
}

/** The notifications the service worker is showing, as the page's registration lists them. */
function shownNotifications(page: Page) {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => ({
      title: n.title,
      body: n.body,
      tag: n.tag,
      icon: n.icon,
      url: (n.data as { url?: string } | null)?.url,
    }));
  });
}

describe('the installable app and push notifications in chromium', { skip: skip ?? false, timeout: 150_000 }, () => {
  let push: PushService;
  let server: TestServer;
  let browser: Browser;
  let admin: Account;
  let subscriber: Account;
  const contexts: BrowserContext[] = [];

  /** A page in a fresh browser context (its own cookies, storage and service worker), as another device. */
  const device = async (options: { permissions?: string[]; viewport?: typeof DESKTOP } = {}): Promise<Page> => {
    const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, locale: 'en-US' });
    contexts.push(context);
    // tsx compiles this file keeping function names through a helper (`__name`) that functions
    // sent to the page call and the page does not have.
    await context.addInitScript({ content: 'globalThis.__name ??= (fn) => fn;' });
    if (options.permissions) await context.grantPermissions(options.permissions, { origin: server.url });
    return context.newPage();
  };

  before(async () => {
    push = await startPushService();
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
    subscriber = await buildSubscriber(server, admin, { channels: ['gold', 'silver'], email: SUB_EMAIL });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.close();
    await push?.close();
  });

  it('is installable: the manifest, its icons and the page’s links are served and valid', async () => {
    const page = await device();
    await page.goto(server.url);
    const response = await page.request.get(`${server.url}/manifest.webmanifest`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'] ?? '', /^application\/manifest\+json/);
    const manifest = (await response.json()) as Record<string, unknown> & { icons: ManifestIcon[] };
    assert.equal(manifest.name, 'signal-desk');
    assert.ok(typeof manifest.short_name === 'string' && manifest.short_name.length <= 12);
    assert.equal(manifest.start_url, '/');
    assert.equal(manifest.scope, '/');
    assert.equal(manifest.display, 'standalone');
    // The colours of web/styles.css: the page background and the top bar.
    assert.equal(manifest.background_color, '#f5f7fb');
    assert.equal(manifest.theme_color, '#ffffff');
    const icons = manifest.icons.map((i) => `${i.sizes} ${i.purpose ?? 'any'}`);
    assert.deepEqual(icons, ['192x192 any', '512x512 any', '512x512 maskable']);
    for (const icon of manifest.icons) {
      const [width, height] = icon.sizes.split('x').map(Number);
      assert.equal(icon.type, 'image/png');
      assert.deepEqual(await pngSize(page, icon.src), { type: 'image/png', width, height }, icon.src);
    }

    // What index.html links: the manifest, the theme colour, a favicon and the home-screen icon for iOS.
    const head = await page.evaluate(() => ({
      manifest: document.querySelector<HTMLLinkElement>('link[rel="manifest"]')?.href,
      theme: [...document.querySelectorAll<HTMLMetaElement>('meta[name="theme-color"]')].map((m) => m.content),
      icons: [...document.querySelectorAll<HTMLLinkElement>('link[rel="icon"]')].map((l) => [l.href, l.type]),
      apple: document.querySelector<HTMLLinkElement>('link[rel="apple-touch-icon"]')?.href,
    }));
    assert.equal(head.manifest, `${server.url}/manifest.webmanifest`);
    assert.deepEqual(head.theme, ['#ffffff', '#121826']);
    assert.deepEqual(await pngSize(page, head.apple ?? ''), { type: 'image/png', width: 180, height: 180 });
    for (const [href, type] of head.icons) {
      const served = await page.request.get(href ?? '');
      assert.equal(served.status(), 200, href);
      assert.equal(served.headers()['content-type']?.split(';')[0], type, href);
    }

    // Chromium's own reading: no manifest errors, and nothing keeps the app from being installed.
    // A profile on disk, because an incognito context (as newContext makes) is never installable.
    const profile = mkdtempSync(join(tmpdir(), 'signal-desk-profile-'));
    const installed = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const tab = installed.pages()[0] ?? (await installed.newPage());
      await tab.goto(server.url);
      await tab.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 10_000 });
      const cdp = await installed.newCDPSession(tab);
      const read = await cdp.send('Page.getAppManifest');
      assert.equal(read.url, `${server.url}/manifest.webmanifest`);
      assert.deepEqual(read.errors, []);
      const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
      assert.deepEqual(installabilityErrors, []);
    } finally {
      await installed.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('the service worker takes control; after one online visit the dashboard opens offline on its cached signals', async () => {
    const page = await device();
    await signIn(page, server.url, SUB_EMAIL);
    await publish(admin, 'gold', { symbol: 'XAUUSD' });
    await publish(admin, 'silver', { symbol: 'XAGUSD' });
    await page.locator('[data-symbol="XAGUSD"]').waitFor();
    await page.waitForFunction(() => navigator.serviceWorker.controller?.scriptURL.endsWith('/sw.js') ?? false);
    // The shell is kept and the signals are in IndexedDB (both trail the screen by a moment).
    await page.waitForFunction(
      async () => {
        const shell = await caches.match('/');
        const count = await new Promise<number>((resolve) => {
          const open = indexedDB.open('signal-desk');
          open.onsuccess = () => {
            const request = open.result.transaction('signals').objectStore('signals').count();
            request.onsuccess = () => resolve(request.result);
          };
          open.onerror = () => resolve(0);
        });
        return shell !== undefined && count === 2;
      },
      undefined,
      { polling: 100, timeout: 10_000 },
    );

    await page.context().setOffline(true);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Signals', exact: true }).waitFor();
    await page.locator('[data-testid="connection"][data-state="offline"]').waitFor();
    const symbols = await page
      .locator('[data-testid="signal-row"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol')));
    assert.deepEqual(symbols, ['XAGUSD', 'XAUUSD']);
    await page.context().setOffline(false);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 15_000 });
  });

  it('the service worker shows a push as a notification, one per signal, and a click opens the signal', async () => {
    const page = await device({ permissions: ['notifications'] });
    await signIn(page, server.url, SUB_EMAIL);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    const signal = await publish(admin, 'gold', { symbol: 'PUSHED', entry: 100, stopLoss: 95, takeProfits: [110] });

    const cdp = await page.context().newCDPSession(page);
    const registered = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const ours = registrations.find((r) => r.scopeURL === `${server.url}/` && !r.isDeleted);
        if (ours) resolve(ours.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    const registrationId = await registered;
    const deliver = (data: unknown) =>
      cdp.send('ServiceWorker.deliverPushMessage', {
        origin: server.url,
        registrationId,
        data: typeof data === 'string' ? data : JSON.stringify(data),
      });
    // The shape the server sends (server/delivery/adapters/push.ts).
    const payload = {
      title: 'BUY PUSHED',
      body: 'Entry 100 · SL 95\nTP 110',
      url: `/signals/${signal.id}`,
      tag: signal.id,
      seq: signal.seq,
      channel: 'gold',
      signalId: signal.id,
      type: 'signal.created',
    };
    await deliver(payload);
    // A worker on a busy machine may take seconds to be started for a push: wait up to 20 s.
    const waitShown = async (predicate: (shown: Awaited<ReturnType<typeof shownNotifications>>) => boolean) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const shown = await shownNotifications(page);
        if (predicate(shown)) return shown;
        if (Date.now() > deadline) assert.fail(`notifications never matched: ${JSON.stringify(shown)}`);
        await page.waitForTimeout(50);
      }
    };
    const first = await waitShown((shown) => shown.length === 1);
    assert.deepEqual(first, [
      {
        title: 'BUY PUSHED',
        body: 'Entry 100 · SL 95\nTP 110',
        tag: signal.id,
        icon: `${server.url}/icons/icon-192.png`,
        url: `${server.url}/signals/${signal.id}`,
      },
    ]);

    // An update of the same signal replaces its notification rather than piling up.
    await deliver({ ...payload, title: 'TP1 hit · BUY PUSHED', body: 'Status: TP1 hit', type: 'signal.updated' });
    const replaced = await waitShown((shown) => shown[0]?.title === 'TP1 hit · BUY PUSHED');
    assert.equal(replaced.length, 1);
    assert.equal(replaced[0]?.tag, signal.id);

    // Something that is not the server's JSON still shows, as a generic notification.
    await deliver('not json');
    const generic = await waitShown((shown) => shown.length === 2);
    assert.ok(generic.some((n) => n.title === 'signal-desk' && n.tag === '' && n.url === `${server.url}/`));

    // A click: the worker's own handler runs (dispatched in the worker, as the browser would on a click).
    const [worker] = page.context().serviceWorkers();
    assert.ok(worker, 'the service worker is running');
    await worker.evaluate(async (tag) => {
      const scope = self as unknown as {
        registration: ServiceWorkerRegistration;
        NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
      };
      const [notification] = await scope.registration.getNotifications({ tag });
      if (!notification) throw new Error(`no notification tagged ${tag}`);
      self.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification }));
    }, signal.id);
    await page.waitForURL(`${server.url}/signals/${signal.id}`);
    await page.getByTestId('timeline').waitFor();
    await waitShown((shown) => shown.every((n) => n.tag !== signal.id));
  });

  it('turning notifications on subscribes this device at a push service; its channels and Turn off decide what arrives', async () => {
    const page = await device({ permissions: ['notifications'] });
    const subscribed: { clientHash: string; subscription: PushSubscriptionJson }[] = [];
    await page.exposeFunction('__registerAtPushService', async (applicationServerKey: string) => {
      const made = await push.subscribe(applicationServerKey);
      subscribed.push(made);
      return made.subscription;
    });
    // This stands in for the browser's registration at its push service, and only that: Chromium
    // has no way to reach Google's push service from here. The page's subscription is made at the
    // local push service for the key the app passes, with real P-256 keys; everything after it is
    // real: the app's request, the server's encryption and VAPID signature, the delivery to the push
    // service, which verifies that signature, and the decryption with this subscription's keys.
    await page.addInitScript(() => {
      const stored = 'test-push-subscription';
      // Looked up when called: the binding may be installed after this script runs.
      const register = (key: string) =>
        (
          window as unknown as { __registerAtPushService(key: string): Promise<PushSubscriptionJSON> }
        ).__registerAtPushService(key);
      const base64url = (bytes: Uint8Array) =>
        btoa(String.fromCharCode(...bytes))
          .replace(/\+/g, '-')
          .replace(/\//g, '_')
          .replace(/=+$/, '');
      const subscriptionOf = (json: PushSubscriptionJSON, key: Uint8Array) => ({
        endpoint: json.endpoint,
        expirationTime: null,
        options: { userVisibleOnly: true, applicationServerKey: key.slice().buffer },
        toJSON: () => json,
        unsubscribe: async () => {
          localStorage.removeItem(stored);
          return true;
        },
      });
      const read = () => {
        const raw = localStorage.getItem(stored);
        if (!raw) return null;
        const { json, key } = JSON.parse(raw) as { json: PushSubscriptionJSON; key: number[] };
        return subscriptionOf(json, Uint8Array.from(key));
      };
      PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
        const key = options?.applicationServerKey;
        if (!(key instanceof Uint8Array) || options?.userVisibleOnly !== true) {
          throw new TypeError('expected userVisibleOnly and the VAPID key as a Uint8Array');
        }
        const json = await register(base64url(key));
        localStorage.setItem(stored, JSON.stringify({ json, key: Array.from(key) }));
        return read() as unknown as PushSubscription;
      };
      PushManager.prototype.getSubscription = async function () {
        return read() as unknown as PushSubscription | null;
      };
    });

    await signIn(page, server.url, SUB_EMAIL);
    await openNotifications(page);
    const section = page.getByRole('region', { name: 'Notifications' });
    await section.getByText('No device has notifications on.').waitFor();
    await section.getByRole('button', { name: 'Turn on notifications on this device' }).click();
    await section.getByText('Notifications are on for this device.', { exact: true }).waitFor();
    const thisDevice = section.locator('[data-testid="push-device"][data-this="true"]');
    await thisDevice.getByText('Chrome on Linux').waitFor();
    await thisDevice.getByText('This device', { exact: true }).waitFor();
    assert.equal(subscribed.length, 1);
    const [{ clientHash }] = subscribed as [(typeof subscribed)[number]];

    // A signal in a ticked channel arrives, encrypted for this device and decrypted by the push service.
    const gold = await publish(admin, 'gold', { symbol: 'GOLDPUSH', entry: 2400, stopLoss: 2380, takeProfits: [2450] });
    const [first] = (await push.waitForNotifications(clientHash, 1, 10_000)) as [Record<string, unknown>];
    assert.equal(first.title, 'BUY GOLDPUSH');
    assert.equal(first.url, `/signals/${gold.id}`);
    assert.equal(first.tag, gold.id);
    assert.equal(first.channel, 'gold');
    assert.equal(first.seq, gold.seq);

    // Untick Gold: the next Gold signal is skipped. Silver, published after it, arrives, and since a
    // device gets its events in seq order, its arrival shows the Gold one was never sent.
    const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/push/'));
    await thisDevice.getByLabel('Gold desk').uncheck();
    assert.equal((await saved).status(), 200);
    await publish(admin, 'gold', { symbol: 'SKIPPED' });
    const silver = await publish(admin, 'silver', { symbol: 'SILVERPUSH' });
    const two = (await push.waitForNotifications(clientHash, 2, 10_000)) as Record<string, unknown>[];
    assert.deepEqual(
      two.map((n) => n.title),
      ['BUY GOLDPUSH', 'BUY SILVERPUSH'],
    );
    assert.equal(two[1]?.signalId, silver.id);

    await thisDevice.getByRole('button', { name: 'Send a test' }).click();
    await thisDevice.getByText(/^Test sent: the push service accepted it/).waitFor();
    const three = (await push.waitForNotifications(clientHash, 3, 10_000)) as Record<string, unknown>[];
    assert.equal(three[2]?.title, 'Notifications are on');

    await page.setViewportSize(PHONE);
    await page.evaluate(() => document.getElementById('notifications')?.scrollIntoView({ block: 'start' }));
    await saveScreenshot(page, 'notifications-phone');
    await page.setViewportSize(DESKTOP);

    // Turned off: the server forgets the device at once and the browser's subscription ends too.
    await thisDevice.getByRole('button', { name: 'Turn off' }).click();
    await section.getByText('No device has notifications on.').waitFor();
    await section.getByRole('button', { name: 'Turn on notifications on this device' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('test-push-subscription')), null);
    const sentBefore = push.pushes(clientHash).length;
    await publish(admin, 'silver', { symbol: 'AFTEROFF' });
    await publish(admin, 'gold', { symbol: 'AFTEROFF2' });
    // Nothing is waiting that could still arrive: give a send every chance to happen, then look.
    await page.waitForTimeout(1_500);
    assert.equal(push.pushes(clientHash).length, sentBefore);
    assert.equal((await push.notifications(clientHash)).length, 3);

    // Signing out turns this browser's notifications off too: a shared computer stops showing the account's signals.
    await section.getByRole('button', { name: 'Turn on notifications on this device' }).click();
    await thisDevice.waitFor();
    assert.equal((await subscriber.api.get('/api/push/subscriptions')).body.items.length, 1);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are signed out.').waitFor();
    assert.deepEqual((await subscriber.api.get('/api/push/subscriptions')).body.items, []);
    assert.equal(await page.evaluate(() => localStorage.getItem('test-push-subscription')), null);
  });

  it('says why when notifications cannot be turned on', async () => {
    const turnOn = async (page: Page) => {
      await signIn(page, server.url, SUB_EMAIL);
      await openNotifications(page);
      const section = page.getByRole('region', { name: 'Notifications' });
      await section.getByRole('button', { name: 'Turn on notifications on this device' }).click();
      return section;
    };

    // No permission: Chromium answers the question with "denied", as after a click on Block.
    const blocked = await turnOn(await device());
    await blocked
      .getByRole('alert')
      .getByText(/^Notifications are blocked for this site/)
      .waitFor();
    await blocked.getByText('Notifications are blocked for this site in this browser.').waitFor();

    // The browser's push service cannot be reached (what Chromium says when it cannot register).
    const offline = await device({ permissions: ['notifications'] });
    await offline.addInitScript(() => {
      PushManager.prototype.subscribe = () =>
        Promise.reject(new DOMException('Registration failed - push service error', 'AbortError'));
    });
    const unreachable = await turnOn(offline);
    await unreachable
      .getByRole('alert')
      .getByText(/^The browser could not reach its push service \(Registration failed - push service error\)/)
      .waitFor();

    // The server refuses the device.
    const refused = await device({ permissions: ['notifications'] });
    await refused.addInitScript(() => {
      PushManager.prototype.getSubscription = async () => null;
      PushManager.prototype.subscribe = async () =>
        ({
          endpoint: 'https://push.example.test/send/1',
          options: { applicationServerKey: null },
          toJSON: () => ({ endpoint: 'https://push.example.test/send/1', keys: { p256dh: 'short', auth: 'short' } }),
          unsubscribe: async () => true,
        }) as unknown as PushSubscription;
    });
    const server400 = await turnOn(refused);

    await server400
      .getByRole('alert')
      .getByText(/^The server did not accept this device: /)
      .waitFor();

    // A browser without the Push API is told so before anything is offered.
    const old = await device({ permissions: ['notifications'] });
    await old.addInitScript(() => {
      delete (window as { PushManager?: unknown }).PushManager;
    });
    await signIn(old, server.url, SUB_EMAIL);
    await openNotifications(old);
    const unsupported = old.getByRole('region', { name: 'Notifications' });
    await unsupported.getByText(/^This browser cannot receive push notifications/).waitFor();
    assert.equal(await unsupported.getByRole('button', { name: 'Turn on notifications on this device' }).count(), 0);
  });
});
