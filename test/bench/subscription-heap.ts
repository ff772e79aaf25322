/**
 * `npx tsx test/bench/subscription-heap.ts [N …]`: the heap one open `deviceUpdated`
 * subscription over SSE costs the facade. Starts the stand-in here and the facade as a child
 * (`node --max-old-space-size=… --inspect=127.0.0.1:0 --import tsx src/main.ts`, the
 * inspector for this script only), opens N subscriptions on raw loopback connections (to
 * SUB_HEAP_DEVICES devices, shared pollers), and reads the child's heap after a full GC
 * through its inspector. Prints the heap per open subscription; asserts nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_ACCOUNT_ID, sampleDevices } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, startStandin } from '../../tools/standin/server.ts';
import { connectInspector } from '../support/heap.ts';
import { freePort, startMain } from '../support/process.ts';
import { openSseMany } from '../support/sse-flood.ts';

const counts = process.argv.slice(2).map(Number);
const steps = counts.length > 0 ? counts : [1_000, 2_000, 4_000];
const HEAP_MB = Number(process.env.SUB_HEAP_MB ?? 256);
const DEVICES = Number(process.env.SUB_HEAP_DEVICES ?? 10);
const MB = 1024 * 1024;

// Well-formed devices only (the stand-in's dev_…0002 is deliberately malformed, and refused).
const devices = sampleDevices().filter((device) => device.id !== 'dev_000000000000000000000002');
const standin = await startStandin({ logRequests: false });
const port = await freePort();
const facade = startMain(
  {
    NODE_ENV: 'production',
    PORT: String(port),
    LOG_LEVEL: 'error',
    FLATPEAK_API_URL: standin.url.href,
    FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
    FLATPEAK_API_KEY: DEMO_API_KEY,
    CALLER_AUTH: 'none',
    RATE_LIMIT_PER_SECOND: '0',
    MAX_SUBSCRIPTIONS_PER_CALLER: '100000',
    MAX_SUBSCRIPTIONS: '1000000',
    ...(process.env.SUB_HEAP_ENV ? (JSON.parse(process.env.SUB_HEAP_ENV) as Record<string, string>) : {}),
  },
  { nodeOptions: [`--max-old-space-size=${HEAP_MB}`, '--inspect=127.0.0.1:0'] },
);
for (let attempt = 0; ; attempt += 1) {
  if (facade.child.exitCode !== null || attempt > 400) throw new Error(`the facade did not start:\n${facade.output()}`);
  if (
    await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  await sleep(50);
}
const inspector = await connectInspector(facade.output);
const heapAfterGc = async () => {
  await inspector.collectGarbage();
  return inspector.evaluate<number>('process.memoryUsage().heapUsed');
};

const body = (index: number) =>
  JSON.stringify({
    query: 'subscription ($id: ID!) { deviceUpdated(id: $id) { id modelName lastSeen } }',
    variables: { id: devices[index % DEVICES]!.id },
  });
// Warm up (compiled code, the pollers, Yoga's caches), then a baseline with nothing open.
const warm = await openSseMany(port, 50, body);
for (const { socket } of warm) socket.destroy();
await sleep(500);
const idle = await heapAfterGc();
console.log(`heap limit ${HEAP_MB} MB; idle after GC: ${(idle / MB).toFixed(1)} MB`);
const open: Awaited<ReturnType<typeof openSseMany>> = [];
for (const total of steps) {
  const startedAt = performance.now();
  const added = await openSseMany(port, total - open.length, (index) => body(open.length + index));
  open.push(...added);
  const outcomes: Record<string, number> = {};
  for (const { outcome } of open) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  const refused = open.length - (outcomes.open ?? 0);
  const heap = await heapAfterGc();
  console.log(
    `${total} subscriptions (${JSON.stringify(outcomes)}) in ${((performance.now() - startedAt) / 1000).toFixed(1)} s: heap ${(heap / MB).toFixed(1)} MB, ` +
      `${((heap - idle) / (total - refused) / 1024).toFixed(1)} KB per open subscription`,
  );
}
for (const { socket } of open) socket.destroy();
inspector.close();
facade.child.kill('SIGTERM');
await facade.exit();
await standin.close();
