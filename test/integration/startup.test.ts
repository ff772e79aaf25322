import { describe, expect, it, vi } from 'vitest';
import { DEMO_ACCOUNT_ID, SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, startStandin } from '../../tools/standin/server.ts';
import { faultOn } from '../support/faults.ts';
import { startDev, startMain } from '../support/process.ts';

describe('npm start', () => {
  it('refuses to start on bad configuration, naming every bad variable and no secret', async () => {
    const main = startMain({
      PORT: 'eighty',
      FLATPEAK_API_URL: 'ftp://example',
      FLATPEAK_API_KEY: 'sk_secret_value',
      LOG_LEVEL: 'loud',
    });
    const { code } = await main.exit();
    expect(code).toBe(1);
    const output = main.output();
    expect(output).toMatch(/PORT: .*"eighty"/);
    expect(output).toMatch(/FLATPEAK_API_URL: must be an http\(s\) URL/);
    expect(output).toMatch(/LOG_LEVEL: /);
    expect(output).toMatch(/FLATPEAK_ACCOUNT_ID: must be set together/);
    expect(output).not.toContain('sk_secret_value');
    expect(output).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('starts on the development stand-in (npm run dev), serves the seed device and GraphiQL, and stops on SIGTERM', async () => {
    const main = startDev({ PORT: '0', LOG_LEVEL: 'info' });
    try {
      const listening = await main.waitForLog((line) => typeof line.url === 'string');
      expect(listening).toMatchObject({ upstream: 'standin', sampleData: true });
      const url = String(listening.url);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);

      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { modelName manufacturer } }` }),
      });
      expect(await response.json()).toEqual({ data: { device: { modelName: 'Pico Ultimate', manufacturer: 'Nova Systems' } } });

      const page = await fetch(url, { headers: { accept: 'text/html' } });
      const html = await page.text();
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(html).toContain(SEED_DEVICE_ID); // the example query
      // Works offline: no script or stylesheet from another origin.
      expect(html).not.toMatch(/<script[^>]+src=["']https?:|<link[^>]+href=["']https?:/);

      const health = await fetch(new URL('/health', url));
      expect(health.status).toBe(200);

      // One access-log line for the query: path without query string, status, no headers.
      const logged = await main.waitForLog((line) => line.msg === 'request' && line.method === 'POST');
      expect(logged).toMatchObject({ path: '/graphql', status: 200, requestId: expect.any(String) });
      expect(logged.ms).toEqual(expect.any(Number));
    } finally {
      main.child.kill('SIGTERM');
    }
    const { code } = await main.exit();
    expect(code).toBe(0);
    expect(main.output()).not.toMatch(/sk_standin|eyJstandin/);
  });

  it('on SIGTERM turns unready, then stops accepting, lets the request in flight finish, and exits 0', async () => {
    const standin = await startStandin();
    try {
      // The device answers slowly, so that the request is still in flight at SIGTERM.
      standin.setFault(faultOn(`/devices/${SEED_DEVICE_ID}`, { delayMs: 2_500 }));
      const main = startMain({
        PORT: '0',
        FLATPEAK_API_URL: standin.url.href,
        FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
        FLATPEAK_API_KEY: DEMO_API_KEY,
        CALLER_AUTH: 'none',
        SHUTDOWN_DELAY_MS: '1000',
      });
      const url = String((await main.waitForLog((line) => typeof line.url === 'string')).url);
      const inFlight = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { referenceId } }` }),
      });
      await vi.waitFor(() => expect(standin.count(`/devices/${SEED_DEVICE_ID}`)).toBe(1));

      main.child.kill('SIGTERM');
      await main.waitForLog((line) => String(line.msg).startsWith('shutting down'));
      // During SHUTDOWN_DELAY_MS the server still answers, and says it is not ready.
      expect((await fetch(new URL('/ready', url))).status).toBe(503);
      // Then it stops accepting.
      await vi.waitFor(() => expect(fetch(new URL('/health', url))).rejects.toThrow(), { timeout: 5_000 });

      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { device: { referenceId: 'DEV1234567890' } } });
      expect((await main.exit()).code).toBe(0);
      expect(main.output()).toContain('"msg":"stopped"');
    } finally {
      await standin.close();
    }
  });
});
