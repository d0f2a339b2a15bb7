// The browser tests' setup (test/browser): the built package checked, the pages built and served on
// 127.0.0.1, headless Chromium launched once per file (common/browser-harness.ts), all closed after.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll } from 'vitest';
import { buildSite, forwardConsole, launchChromium, ROOT, serveSite, type Site } from '../../common/browser-harness.js';

export interface BrowserSite {
  readonly site: Site;
  readonly browser: Browser;
  /** A new page on `path` of the site (or of `from`); only its errors reach the test log (progress lines would drown it). */
  open(path: string, from?: Site): Promise<Page>;
  /** A new page before it goes anywhere (to route requests first). */
  blank(): Promise<Page>;
}

/** Registers the file's beforeAll and afterAll; the fields are there inside tests. */
export function useBrowserSite(): BrowserSite {
  let site: Site | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first (npm test does)');
    await buildSite();
    site = await serveSite();
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });
  const env: BrowserSite = {
    get site() {
      return site!;
    },
    get browser() {
      return browser!;
    },
    async blank() {
      const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
      forwardConsole(page, '\u0000never', (l) => console.log(l));
      return page;
    },
    async open(path, from = site!) {
      const page = await env.blank();
      await page.goto(`${from.url}${path}`);
      return page;
    },
  };
  return env;
}
