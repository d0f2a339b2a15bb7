// Offline reloads for the demo app's pages (index.html and vad.html): registers the service worker
// (sw.js) and hands it the files the page loaded before the worker controlled it, so that the page
// reloads with no network. Shared by app.ts and vad.ts.

/** Registers sw.js and asks it to store the page's files (and `extra`: files the page will fetch
 * later, such as an AudioWorklet module, or ones resource timing does not list). Resolves with how
 * many it stored. */
export async function enableOffline(extra: readonly string[] = []): Promise<number> {
  if (!('serviceWorker' in navigator)) throw new Error('no service workers here (they need https or localhost)');
  await navigator.serviceWorker.register('./sw.js', { scope: './' });
  const worker = (await navigator.serviceWorker.ready).active;
  if (!worker) throw new Error('the service worker did not activate');
  const loaded = performance.getEntriesByType('resource').map((e) => e.name);
  const urls = [...new Set([location.href, ...loaded, ...extra.map((u) => new URL(u, location.href).href)])];
  return new Promise((resolve) => {
    const onMessage = (e: MessageEvent) => {
      if (e.data?.type !== 'cached') return;
      navigator.serviceWorker.removeEventListener('message', onMessage);
      resolve(e.data.stored);
    };
    navigator.serviceWorker.addEventListener('message', onMessage);
    worker.postMessage({ type: 'cache', urls });
  });
}
