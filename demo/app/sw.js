// The demo app's service worker: it makes the page reload and run with no network once it has been
// loaded online. Plain JavaScript, copied verbatim to the built site (vite.demo.config.ts) so that it
// lives at /demo/app/sw.js and its scope covers the page.
//
// Strategy: network first, cache as fallback, for every same-origin GET. Online, a visitor (or a
// developer running `npm run dev`) always gets fresh files; each response is also stored. Offline,
// the stored copy answers. What the page fetched before this worker controlled it (the HTML, the
// bundles, the models) is stored when the page sends its resource list ({ type: 'cache', urls }).
// Cross-origin requests are left alone.

const CACHE = 'webgpu-rnn-app-v1';

self.addEventListener('install', () => self.skipWaiting());

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

const sameOrigin = (url) => new URL(url, self.location.href).origin === self.location.origin;

/** Fetches `request` and stores a good response; throws when the network fails. */
async function fetchAndStore(request) {
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || !sameOrigin(request.url)) return;
  event.respondWith(
    fetchAndStore(request).catch(async (error) => {
      // ignoreVary: a stored response may carry Vary: Origin (Vite's servers send it), and the
      // page's module requests send an Origin header the worker's own precache requests did not.
      const cached = await caches.match(request, { ignoreSearch: request.mode === 'navigate', ignoreVary: true });
      if (cached) return cached;
      throw error;
    }),
  );
});

// The page's list of what it loaded before this worker took over; the reply says how many were stored.
self.addEventListener('message', (event) => {
  if (event.data?.type !== 'cache') return;
  const urls = event.data.urls.filter(sameOrigin);
  event.waitUntil(
    (async () => {
      const results = await Promise.allSettled(urls.map((url) => fetchAndStore(new Request(url))));
      const stored = results.filter((r) => r.status === 'fulfilled' && r.value.ok).length;
      event.source?.postMessage({ type: 'cached', stored, requested: urls.length });
    })(),
  );
});
