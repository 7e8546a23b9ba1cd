/* global self, caches, fetch, Response */
/**
 * The app shell for offline starts, and the notifications Web Push brings.
 *
 * Offline: pages and assets are fetched from the network first (so a deploy shows at once)
 * and kept; when the network is gone, the kept copy answers, and the app opens on the signals
 * cached in IndexedDB. API and Socket.IO traffic is never cached here: the server stays the
 * only source of signals.
 *
 * Push: the server sends JSON `{ title, body, url, tag, seq, channel, signalId, type }` for
 * each event of a channel the device chose. Every push shows a notification (the browser
 * subscribed with `userVisibleOnly`, and withdraws the permission from sites that stay
 * silent); one signal's notifications share a tag, so its update replaces what it said before.
 * A click opens the signal in the app, in a tab already open when there is one.
 */
// v2: the manifest and icons joined the shell. Older caches are deleted on activation.
const CACHE = 'signal-desk-shell-v2';
const ICON = '/icons/icon-192.png';
const BADGE = '/icons/badge-96.png';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) =>
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  ),
);

// The page that registered us lists what it already loaded, so the first visit is enough.
self.addEventListener('message', (event) => {
  const urls = event.data && Array.isArray(event.data.precache) ? event.data.precache : [];
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(urls))
      .catch(() => undefined),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/socket.io')) return;
  // Every page of the app is the same index.html: keep it under one key.
  const key = request.mode === 'navigate' ? '/' : request;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
        }
        return response;
      })
      .catch(() => caches.match(key).then((cached) => cached ?? Response.error())),
  );
});

/** The push payload, or null when it is missing or not the JSON object the server sends. */
function payloadOf(data) {
  if (!data) return null;
  try {
    const payload = data.json();
    return payload && typeof payload === 'object' && typeof payload.title === 'string' ? payload : null;
  } catch {
    return null;
  }
}

/** A short string from the payload, or the fallback (a notification shows text, never markup). */
function text(value, fallback, max) {
  return typeof value === 'string' && value.trim() !== '' ? value.slice(0, max) : fallback;
}

/**
 * The app URL a notification opens, on this worker's own origin: the server may name its public
 * address (a proxy's host name), but the window with this browser's session is on this origin.
 */
function appUrl(raw) {
  try {
    const url = new URL(typeof raw === 'string' ? raw : '/', self.location.origin);
    return new URL(url.pathname + url.search + url.hash, self.location.origin).href;
  } catch {
    return new URL('/', self.location.origin).href;
  }
}

self.addEventListener('push', (event) => {
  const payload = payloadOf(event.data);
  const title = payload ? text(payload.title, 'signal-desk', 200) : 'signal-desk';
  const tag = payload ? text(payload.signalId, text(payload.tag, '', 200), 200) : '';
  const options = {
    body: payload ? text(payload.body, '', 1000) : 'Something new was published. Open signal-desk to see it.',
    icon: ICON,
    badge: BADGE,
    data: { url: appUrl(payload ? payload.url : '/') },
    timestamp: Date.now(),
  };
  if (tag !== '') {
    options.tag = tag;
    // An update of a signal replaces its earlier notification and still alerts: a TP hit matters.
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = appUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(openApp(url));
});

/**
 * Shows `url` in an open tab of the app (the one focused last), else in a new window. An open
 * tab is asked to route there itself (main.tsx listens): no reload, its live connection stays.
 */
async function openApp(url) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const tab = windows.find((client) => {
    const { origin, pathname } = new URL(client.url);
    return origin === self.location.origin && !pathname.startsWith('/api/');
  });
  if (!tab) return self.clients.openWindow(url);
  // Focusing is only allowed while handling a click; the tab is still routed if it is refused.
  const focused = await tab.focus().catch(() => tab);
  focused.postMessage({ kind: 'open', url });
  return focused;
}
