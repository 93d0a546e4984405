/* global self, caches, URL, location, fetch */
// The test page's service worker: keeps the app shell so the page reloads with no network.
// Page files are fetched from the network first and answered from the cache when it fails;
// the sync API (/v1/) always goes to the network.
const CACHE = 'concord-test-page';
const SHELL = ['/', '/assets/main.js'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin || url.pathname.startsWith('/v1/')) return;
  event.respondWith(
    fetch(event.request).catch(() => caches.match(event.request, { ignoreSearch: true, cacheName: CACHE })),
  );
});
