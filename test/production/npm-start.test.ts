import { describe, expect, it, vi } from 'vitest';
import { DEMO_ACCOUNT_ID, SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, startStandin } from '../../tools/standin/server.ts';
import { faultOn } from '../support/faults.ts';
import { descendantsOf, isAlive, startCommand } from '../support/process.ts';

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
        expect(serving.map((process) => process.command)).toEqual(['node --import tsx tools/dev.ts dist/main.js']);

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
});
