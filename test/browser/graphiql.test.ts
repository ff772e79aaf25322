import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';

/**
 * GraphiQL as people use it: the page the service serves, in a real browser (Debian's
 * chromium, driven by playwright-core), with every request that is not to the service
 * blocked, so that it proves the page works without a CDN.
 */

// Debian's chromium; CHROMIUM_PATH points elsewhere on other machines (any Chromium or Chrome).
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
// Chromium as root in a container: no sandbox, no GPU, nothing that phones home.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const installed = existsSync(CHROMIUM);
// On a developer machine without chromium the test is skipped; in CI it must run.
const unavailable = installed
  ? undefined
  : `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH to run the GraphiQL browser test`;

describe('GraphiQL in headless Chromium', () => {
  let h: Harness;
  let browser: BrowserContext | undefined;
  let profile: string | undefined;
  const blocked: string[] = [];

  beforeAll(async () => {
    h = await startHarness();
    if (!installed) return;
    profile = await mkdtemp(join(tmpdir(), 'flatpeak-graph-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    await browser.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.host === h.url.host) return route.continue();
      blocked.push(url.href);
      return route.abort('blockedbyclient');
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await h?.close();
  });

  it('runs the example query, shows the seed device and the schema’s documentation', async (context) => {
    if (!browser) {
      if (process.env.CI) throw new Error(`${unavailable} (CI must run it: .ci/run installs it)`);
      console.warn(`Skipped: ${unavailable}`);
      context.skip(unavailable);
      return;
    }
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.setViewportSize({ width: 1600, height: 900 });
    await page.goto(h.url.href, { waitUntil: 'load' });

    // The example query is in the editor.
    const editor = page.locator('.graphiql-query-editor');
    await editor.getByText('query SeedDevice').waitFor();
    // The editors render spaces as non-breaking spaces.
    const text = async (locator: Locator) => (await locator.innerText()).replace(/\s+/g, ' ');
    expect(await text(editor)).toContain(`device(id: "${SEED_DEVICE_ID}")`);

    h.standin.resetLog();
    await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
    const result = page.locator('.graphiql-response');
    await result.getByText('"Pico Ultimate"').waitFor();
    const shown = await text(result);
    expect(shown).toContain(`"id": "${SEED_DEVICE_ID}"`);
    expect(shown).toContain('"manufacturer": "Nova Systems"');
    expect(shown).toContain('"referenceId": "DEV1234567890"');
    expect(h.standin.count('/devices/')).toBe(1);

    // The documentation explorer shows the schema's descriptions.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByRole('link', { name: 'Query' }).first().click();
    await docs.getByText('Retrieve a device by its Flatpeak ID.').waitFor();
    await docs.getByRole('link', { name: 'Device', exact: true }).first().click();
    await docs.getByText('This object represents a device or another asset of a compatible type.').waitFor();
    expect(await docs.innerText()).toContain('Model name, as declared by the manufacturer.');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'graphiql.png') });

    // Everything the page needed came from the service itself.
    expect(blocked).toEqual([]);
  }, 60_000);
});
