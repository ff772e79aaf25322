import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT_ID, SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, startStandin } from '../../tools/standin/server.ts';
import { freePort, type Started, startDev, startMain } from '../support/process.ts';

// Sample data is never served by mistake. The service (src/main.ts, as the image runs it)
// and the development launcher (tools/dev.ts, as `npm start` and `npm run dev` run it) are
// started as child processes with exactly the environment an operator or a newcomer gives.

/** Starting a process through tsx takes seconds on a busy machine. */
const STARTS_MS = 60_000;

const credentials = { FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID, FLATPEAK_API_KEY: DEMO_API_KEY, CALLER_AUTH: 'none' };

/** Waits for the process to end; its exit code and everything it printed. */
async function refusal(started: Started): Promise<{ code: number | null; output: string }> {
  const { code } = await started.exit();
  const output = started.output();
  expect(output).not.toMatch(/\n\s+at /); // no stack trace
  expect(output).not.toContain(DEMO_API_KEY);
  // Refused before anything listened: no stand-in was started for it.
  expect(output).not.toContain('started the development stand-in');
  expect(output).not.toContain('listening');
  return { code, output };
}

const query = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { modelName } }` }),
  }).then((response) => response.json());

/** The stand-in gauge, scraped where main.ts serves /metrics: its own port (METRICS_PORT). */
const standinGauge = async (metricsPort: number) =>
  /^flatpeak_upstream_standin (\d)$/m.exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())?.[1];

describe('start-up refusals', () => {
  it(
    'NODE_ENV=production without FLATPEAK_API_URL: the service and the launcher both refuse, naming the variable',
    async () => {
      const started = [startMain({ NODE_ENV: 'production', PORT: '0' }), startDev({ NODE_ENV: 'production', PORT: '0' })];
      for (const { code, output } of await Promise.all(started.map(refusal))) {
        expect(code).toBe(1);
        expect(output).toMatch(/FLATPEAK_API_URL: must be set when NODE_ENV is production/);
      }
    },
    STARTS_MS,
  );

  it(
    'service credentials without FLATPEAK_API_URL: refused everywhere, by the launcher too (no stand-in accepts them)',
    async () => {
      const started = [
        startMain({ ...credentials, PORT: '0' }),
        startDev({ ...credentials, PORT: '0' }),
        startDev({ ...credentials, PORT: '0', NODE_ENV: 'development' }),
      ];
      for (const { code, output } of await Promise.all(started.map(refusal))) {
        expect(code).toBe(1);
        expect(output).toMatch(/FLATPEAK_API_URL: must be set with service credentials/);
      }
    },
    STARTS_MS,
  );

  it(
    'the stand-in marker with NODE_ENV=production: refused, naming FLATPEAK_STANDIN',
    async () => {
      const standin = await startStandin();
      try {
        const { code, output } = await refusal(
          startMain({ ...credentials, PORT: '0', FLATPEAK_API_URL: standin.url.href, FLATPEAK_STANDIN: 'true', NODE_ENV: 'production' }),
        );
        expect(code).toBe(1);
        expect(output).toMatch(
          /FLATPEAK_STANDIN: the sample-data stand-in is a development tool and is refused when NODE_ENV is production/,
        );
        expect(standin.count()).toBe(0); // not even a login
      } finally {
        await standin.close();
      }
    },
    STARTS_MS,
  );

  it(
    'the service alone, without FLATPEAK_API_URL: refused, saying how to get sample data',
    async () => {
      const { code, output } = await refusal(startMain({ PORT: '0' }));
      expect(code).toBe(1);
      expect(output).toMatch(/FLATPEAK_API_URL: must be set .*run `npm start` or `npm run dev`/);
    },
    STARTS_MS,
  );
});

describe('which upstream serves, said everywhere', () => {
  it(
    'the launcher without FLATPEAK_API_URL: the stand-in, in the start-up line, /status and /metrics; a token sent is ignored',
    async () => {
      const metricsPort = await freePort();
      const dev = startDev({ PORT: '0', LOG_LEVEL: 'info', METRICS_PORT: String(metricsPort) });
      try {
        const line = await dev.waitForLog((entry) => String(entry.url).endsWith('/graphql'));
        await dev.waitForLog((entry) => entry.url === `http://127.0.0.1:${metricsPort}/metrics`);
        expect(line).toMatchObject({ upstream: 'standin', sampleData: true, callerAuth: 'none', tokens: 'ignored' });
        expect(line.msg).toMatch(/SAMPLE DATA from the development stand-in/);
        expect(line.msg).toMatch(/CALLER_AUTH=none: Authorization headers are ignored/);
        const url = String(line.url);
        expect(await (await fetch(new URL('/status', url))).json()).toMatchObject({ ready: true, upstream: 'standin', sampleData: true });
        expect(await standinGauge(metricsPort)).toBe('1');
        // As before: a token is neither checked nor refused with CALLER_AUTH=none.
        const answer = { data: { device: { modelName: 'Pico Ultimate' } } };
        expect(await query(url)).toEqual(answer);
        expect(await query(url, { authorization: 'Bearer not.a.token' })).toEqual(answer);
        expect(dev.output()).not.toContain('not.a.token');
      } finally {
        dev.child.kill('SIGTERM');
      }
      expect((await dev.exit()).code).toBe(0);
    },
    STARTS_MS,
  );

  it(
    'the service with FLATPEAK_API_URL (through the launcher too): Flatpeak, no sample data, gauge 0',
    async () => {
      const upstream = await startStandin();
      const metricsPort = await freePort();
      const dev = startDev({ PORT: '0', FLATPEAK_API_URL: upstream.url.href, METRICS_PORT: String(metricsPort), ...credentials });
      try {
        const line = await dev.waitForLog((entry) => String(entry.url).endsWith('/graphql'));
        await dev.waitForLog((entry) => entry.url === `http://127.0.0.1:${metricsPort}/metrics`);
        expect(line).toMatchObject({ upstream: 'flatpeak', sampleData: false });
        expect(line.msg).not.toMatch(/SAMPLE DATA/);
        const url = String(line.url);
        expect(await (await fetch(new URL('/status', url))).json()).toMatchObject({ upstream: 'flatpeak', sampleData: false });
        expect(await standinGauge(metricsPort)).toBe('0');
        expect(await query(url)).toEqual({ data: { device: { modelName: 'Pico Ultimate' } } });
        expect(upstream.count(`/devices/${SEED_DEVICE_ID}`)).toBe(1); // the given upstream, not a stand-in of the launcher's
        expect(dev.output()).not.toContain('started the development stand-in');
      } finally {
        dev.child.kill('SIGTERM');
        await dev.exit();
        await upstream.close();
      }
    },
    STARTS_MS,
  );
});
