/**
 * The app's one service worker (`/sw.js`, hand-written in web/public): the offline shell and
 * push notifications. Registering it again is harmless, so both the start-up and the
 * notifications panel call `serviceWorkerReady` and get the same registration.
 */
import { navigate } from '../router.js';

/** Files the installed app needs to start offline besides the page and its assets. */
const SHELL = ['/', '/manifest.webmanifest', '/icons/icon-192.png', '/icons/icon-512.png', '/icons/badge-96.png'];

export function serviceWorkerSupported(): boolean {
  return 'serviceWorker' in navigator;
}

/** Registers `/sw.js` (or finds it registered) and resolves once it is active. */
export async function serviceWorkerReady(): Promise<ServiceWorkerRegistration> {
  await navigator.serviceWorker.register('/sw.js');
  return navigator.serviceWorker.ready;
}

/**
 * Called once the page has loaded: registers the worker and hands it what this page loaded, so
 * the first visit is enough for an offline start. A notification click routes this tab.
 */
export function startServiceWorker(): void {
  if (!serviceWorkerSupported()) return;
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent<unknown>) => {
    const url = openRequest(event.data);
    // Same origin only: the worker sends its own origin's URLs, and nothing else may route the app.
    if (url && url.origin === location.origin) navigate(url.pathname + url.search);
  });
  serviceWorkerReady()
    .then((registration) => {
      const assets = performance
        .getEntriesByType('resource')
        .map((entry) => new URL(entry.name))
        .filter((url) => url.origin === location.origin && url.pathname.startsWith('/assets/'))
        .map((url) => url.pathname);
      registration.active?.postMessage({ precache: [...SHELL, ...assets] });
    })
    .catch(() => undefined);
}

function openRequest(data: unknown): URL | null {
  if (typeof data !== 'object' || data === null) return null;
  const { kind, url } = data as { kind?: unknown; url?: unknown };
  if (kind !== 'open' || typeof url !== 'string') return null;
  try {
    return new URL(url, location.origin);
  } catch {
    return null;
  }
}
