import { describe, expect, it, vi } from 'vitest';
import { DEMO_ACCOUNT_ID, SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, startStandin } from '../../tools/standin/server.ts';
import { faultOn } from '../support/faults.ts';
import { descendantsOf, isAlive, startCommand } from '../support/process.ts';

/**
 * The commands of the processes that serve, leaving out the esbuild service tsx may still
 * hold open after transforming tools/dev.ts (a helper of the loader, not a second server).
 */
const processesOf = (processes: ReadonlyArray<{ command?: string }>) =>
  processes.map((process) => process.command).filter((command) => !/\/esbuild --service=/.test(command ?? ''));

// The quick start as a newcomer (or a careless container entry) runs it: the real `npm
// start`, which builds and then serves. A signal sent to npm alone must reach the service,
// which drains and exits 0; nothing may be left running.
describe('npm start', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves from one node process; ${signal} sent to npm drains the request in flight, exits 0, leaves no process`, async () => {
      const standin = await startStandin();
      const left: Array<{ pid: number }> = [];
      try {
        standin.setFault(faultOn(`/devices/${SEED_DEVICE_ID}`, { delayMs: 1_500 }));
        const npm = startCommand('npm', ['start'], {
          HOME: process.env.HOME ?? '/tmp',
          npm_config_update_notifier: 'false',
          PORT: '0',
          FLATPEAK_API_URL: standin.url.href,
          FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
          FLATPEAK_API_KEY: DEMO_API_KEY,
          CALLER_AUTH: 'none',
        });
        left.push({ pid: npm.child.pid! });
        const url = String((await npm.waitForLog((line) => typeof line.url === 'string')).url);

        // npm, and under it one node: the launcher running the compiled service in its own
        // process (tsx only as a loader for the launcher), no shell, no second node.
        const serving = descendantsOf(npm.child.pid!);
        left.push(...serving);
        expect(processesOf(serving)).toEqual(['node --import tsx tools/dev.ts dist/main.js']);

        const inFlight = fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { referenceId } }` }),
        });
        await vi.waitFor(() => expect(standin.count(`/devices/${SEED_DEVICE_ID}`)).toBe(1));
        npm.child.kill(signal);

        const response = await inFlight;
        expect(await response.json()).toEqual({ data: { device: { referenceId: 'DEV1234567890' } } });
        expect(await npm.exit()).toEqual({ code: 0, signal: null });
        expect(npm.output()).toContain('"msg":"stopped"');
        expect(serving.filter((process) => isAlive(process.pid))).toEqual([]);
        await expect(fetch(new URL('/health', url))).rejects.toThrow();
      } finally {
        // A failed run must not leave its processes behind to hold ports.
        const npmPid = left[0]?.pid;
        const all = [...left, ...(npmPid !== undefined && isAlive(npmPid) ? descendantsOf(npmPid) : [])];
        for (const { pid } of all.filter((process) => isAlive(process.pid))) process.kill(pid, 'SIGKILL');
        await standin.close();
      }
    }, 60_000);
  }

  it('from a clone, with nothing set: serves GraphiQL and the sample devices from the development stand-in, and says so', async () => {
    const npm = startCommand('npm', ['start'], { HOME: process.env.HOME ?? '/tmp', npm_config_update_notifier: 'false', PORT: '0' });
    const left: Array<{ pid: number; command?: string }> = [{ pid: npm.child.pid! }];
    try {
      const line = await npm.waitForLog((entry) => typeof entry.url === 'string');
      expect(line).toMatchObject({ upstream: 'standin', sampleData: true, callerAuth: 'none' });
      const url = String(line.url);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      left.push(...descendantsOf(npm.child.pid!));
      // The stand-in lives in the service's own process: one node under npm, as above.
      expect(processesOf(left.slice(1))).toEqual(['node --import tsx tools/dev.ts dist/main.js']);
      expect(npm.output()).toMatch(/started the development stand-in with SAMPLE devices at http:\/\/127\.0\.0\.1:\d+/);

      const page = await fetch(url, { headers: { accept: 'text/html' } });
      expect(await page.text()).toContain(SEED_DEVICE_ID);
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { referenceId } }` }),
      });
      expect(await answer.json()).toEqual({ data: { device: { referenceId: 'DEV1234567890' } } });
      expect(await (await fetch(new URL('/status', url))).json()).toMatchObject({ upstream: 'standin', sampleData: true });

      npm.child.kill('SIGTERM');
      expect(await npm.exit()).toEqual({ code: 0, signal: null });
      expect(left.filter((process) => isAlive(process.pid))).toEqual([]);
    } finally {
      for (const { pid } of left.filter((process) => isAlive(process.pid))) process.kill(pid, 'SIGKILL');
    }
  }, 60_000);
});
