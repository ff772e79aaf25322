import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { connectInspector, type Inspector, memoryOf } from '../support/heap.ts';
import { type HostileKind, hostileBody } from '../support/hostile-documents.ts';
import { freePorts, type Started, startDev } from '../support/process.ts';

// A bounded version of test/bench/memory-flood.ts: a few thousand distinct hostile documents
// against `src/main.ts` with a small heap. Without byte bounds on its caches the service
// dies of the first few hundred (issue 11).
const HEAP_MB = 128;
const DOCUMENT_CACHE_MB = 4;
const APQ_CACHE_MB = 2;
const LIMITS = { maxTokens: 5_000, bodyBytes: 128 * 1024, apqDocumentLength: 16 * 1024 };
const FLOOD: Array<[HostileKind, number]> = [
  ['unknown-fields', 500],
  ['token-limit', 20],
  ['apq', 500],
  ['parse-errors', 500],
  ['malformed-json', 200],
];
const CONCURRENCY = 4;
const MB = 1024 * 1024;

let main: Started;
const alive = () => main.child.exitCode === null && main.child.signalCode === null;
let inspector: Inspector;
let url: URL;
let metricsUrl: URL;

beforeAll(async () => {
  const [port, metricsPort] = (await freePorts(2)) as [number, number];
  metricsUrl = new URL(`http://127.0.0.1:${metricsPort}/metrics`);
  main = startDev(
    {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'error',
      RATE_LIMIT_PER_SECOND: '0',
      DOCUMENT_CACHE_MB: String(DOCUMENT_CACHE_MB),
      APQ_CACHE_MB: String(APQ_CACHE_MB),
    },
    // The inspector only lets this test ask for a full garbage collection before measuring.
    { nodeOptions: [`--max-old-space-size=${HEAP_MB}`, '--inspect=127.0.0.1:0'] },
  );
  url = new URL(`http://127.0.0.1:${port}/graphql`);
  for (
    let attempt = 0;
    !(await fetch(new URL('/health', url)).then(
      (r) => r.ok,
      () => false,
    ));
    attempt += 1
  ) {
    if (!alive() || attempt > 300) throw new Error(`main did not start:\n${main.output()}`);
    await sleep(50);
  }
  inspector = await connectInspector(main.output);
}, 30_000);

afterAll(async () => {
  inspector?.close();
  main.child.kill('SIGTERM');
  await main.exit();
});

const ordinaryQuery = JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { id modelName } }` });

it('stays up, answers other clients and keeps its heap within its cache budgets under a flood of distinct documents', async () => {
  await inspector.collectGarbage();
  const idle = await memoryOf(metricsUrl);

  const bodies = FLOOD.flatMap(([kind, count]) => Array.from({ length: count }, (_, i) => () => hostileBody(kind, i, LIMITS)));
  let next = 0;
  let flooding = true;
  const statuses = new Set<number | string>();
  const flood = Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length && alive()) {
        const body = bodies[next++]!();
        const status = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
          async (response) => (await response.arrayBuffer(), response.status),
          (error: Error) => `${error.message}: ${(error.cause as Error | undefined)?.message}`,
        );
        statuses.add(status);
      }
    }),
  ).finally(() => (flooding = false));

  // Another client meanwhile: every query answered, and in well under the usual 10 s client timeout.
  const probes: number[] = [];
  let peakHeap = idle.heap;
  const answers = new Set<string>();
  while (flooding && alive()) {
    const started = performance.now();
    const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ordinaryQuery }).then(
      (response) => response.text(),
      (error: Error) => error.message,
    );
    answers.add(answer);
    probes.push(performance.now() - started);
    peakHeap = Math.max(peakHeap, (await memoryOf(metricsUrl).catch(() => idle)).heap);
    await sleep(100);
  }
  await flood;

  expect(alive(), main.output().slice(-1_000)).toBe(true);
  expect([...answers]).toEqual([JSON.stringify({ data: { device: { id: SEED_DEVICE_ID, modelName: 'Pico Ultimate' } } })]);
  expect(next).toBe(bodies.length);
  expect([...statuses].sort()).toEqual([200, 400]);
  expect(probes.length).toBeGreaterThan(5);
  expect(Math.max(...probes)).toBeLessThan(2_000);
  expect(peakHeap).toBeLessThan(HEAP_MB * MB);

  // What the flood left behind is bounded by the cache budgets (plus a little for JIT code and metrics).
  await inspector.collectGarbage();
  const after = await memoryOf(metricsUrl);
  expect(after.heap - idle.heap).toBeLessThan((DOCUMENT_CACHE_MB + APQ_CACHE_MB + 8) * MB);
}, 60_000);
