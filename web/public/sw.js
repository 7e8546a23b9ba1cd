/* global self, caches, fetch, Response */
/**
 * The app shell for offline starts. Pages and assets are fetched from the network first
 * (so a deploy shows at once) and kept; when the network is gone, the kept copy answers,
 * and the app opens on the signals cached in IndexedDB. API and Socket.IO traffic is never
 * cached here: the server stays the only source of signals.
 */
const CACHE = 'signal-desk-shell-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

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
