// Issue 21, finding 6: each open SSE subscription holds ~34 KB of heap, and ~7,460 of them
// exhausted a replica run with --max-old-space-size=256, below MAX_SUBSCRIPTIONS (10,000).
// The limit is now also what the heap holds (src/live/subscription-budget.ts). Here the
// documented replica (docs/operations.md#memory: NODE_OPTIONS=--max-old-space-size=256
// --max-semi-space-size=32) holds the documented maximum, 2,048 subscriptions, stays up
// and serves, and refuses the next one with TOO_MANY_SUBSCRIPTIONS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT_ID, SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, type Standin, startStandin } from '../../tools/standin/server.ts';
import { subscriptionsTheHeapHolds } from '../../src/live/subscription-budget.ts';
import { connectInspector, type Inspector } from '../support/heap.ts';
import { freePort, type Started, startMain } from '../support/process.ts';
import { type OpenedSubscription, openSseMany } from '../support/sse-flood.ts';

const DOCUMENTED_NODE_OPTIONS = ['--max-old-space-size=256', '--max-semi-space-size=32'];
/** What docs/operations.md and docs/security.md promise for that heap. */
const DOCUMENTED_MAXIMUM = 2_048;
const MB = 1024 * 1024;
const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id modelName lastSeen } }';
// Ten well-formed devices, so that ten pollers run as the streams are held open.
const devices = sampleDevices()
  .filter((device) => device.id !== 'dev_000000000000000000000002')
  .slice(0, 10);

let standin: Standin;
let facade: Started;
let inspector: Inspector;
let port: number;
const open: OpenedSubscription[] = [];

beforeAll(async () => {
  standin = await startStandin({ logRequests: false });
  port = await freePort();
  facade = startMain(
    {
      NODE_ENV: 'production',
      PORT: String(port),
      LOG_LEVEL: 'info',
      FLATPEAK_API_URL: standin.url.href,
      FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
      FLATPEAK_API_KEY: DEMO_API_KEY,
      CALLER_AUTH: 'none',
      RATE_LIMIT_PER_SECOND: '0',
      // Every stream here comes from one address, which CALLER_AUTH=none counts as one caller.
      MAX_SUBSCRIPTIONS_PER_CALLER: '100000',
    },
    { nodeOptions: [...DOCUMENTED_NODE_OPTIONS, '--inspect=127.0.0.1:0'] },
  );
  await facade.waitForLog((line) => typeof line.url === 'string');
  inspector = await connectInspector(facade.output);
}, 60_000);
afterAll(async () => {
  for (const { socket } of open) socket.destroy();
  inspector?.close();
  facade?.child.kill('SIGKILL');
  await facade?.exit();
  await standin?.close();
});

describe('subscriptions are bounded by the heap', () => {
  it('the documented heap gives the documented maximum, and says so at start-up', async () => {
    const heapLimit = await inspector.evaluate<number>("process.getBuiltinModule('v8').getHeapStatistics().heap_size_limit");
    expect(heapLimit).toBe(352 * MB);
    expect(subscriptionsTheHeapHolds(heapLimit)).toBe(DOCUMENTED_MAXIMUM);
    const lowered = await facade.waitForLog(
      (line) => line.msg === 'MAX_SUBSCRIPTIONS lowered to what the heap holds (~48 KB each; see docs/operations.md#memory)',
    );
    expect(lowered).toMatchObject({ maxSubscriptions: DOCUMENTED_MAXIMUM, configured: 10_000 });
  });

  it('holds the documented maximum of open SSE subscriptions, keeps serving, and refuses the next with TOO_MANY_SUBSCRIPTIONS', async () => {
    const body = (index: number) => JSON.stringify({ query: WATCH, variables: { id: devices[index % devices.length]!.id } });
    const startedAt = performance.now();
    open.push(...(await openSseMany(port, DOCUMENTED_MAXIMUM, body, { concurrency: 32 })));
    const seconds = (performance.now() - startedAt) / 1000;
    const outcomes: Record<string, number> = {};
    for (const { outcome } of open) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    expect(outcomes).toEqual({ open: DOCUMENTED_MAXIMUM });

    const [refused] = await openSseMany(port, 1, body);
    expect(refused!.outcome).toBe('TOO_MANY_SUBSCRIPTIONS');

    // Still up and serving a query, with every stream open.
    expect(facade.child.exitCode).toBeNull();
    const read = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { id } }` }),
    });
    expect(await read.json()).toEqual({ data: { device: { id: SEED_DEVICE_ID } } });
    expect(open.every(({ socket }) => !socket.destroyed)).toBe(true);

    await inspector.collectGarbage();
    const heapUsed = await inspector.evaluate<number>('process.memoryUsage().heapUsed');
    console.info(
      `subscription-memory: ${DOCUMENTED_MAXIMUM} SSE subscriptions opened in ${seconds.toFixed(1)} s; heap used after GC ` +
        `${(heapUsed / MB).toFixed(1)} MB of 256 MB old space (information)`,
    );

    // One closed stream gives its place back.
    open.pop()!.socket.destroy();
    let again: OpenedSubscription | undefined;
    for (let attempt = 0; attempt < 50 && again?.outcome !== 'open'; attempt += 1) {
      again?.socket.destroy();
      [again] = await openSseMany(port, 1, body);
    }
    expect(again!.outcome).toBe('open');
    open.push(again!);
  }, 90_000);
});
