/**
 * `npx tsx test/bench/memory-flood.ts [phase …]`: what hostile traffic does to the facade's
 * memory. Each phase runs against a fresh facade (`node --max-old-space-size=256 --import tsx
 * src/main.ts`, as a container would run it) with the stand-in in a process of its own:
 *
 * - benchmark: ordinary load (32 connections, closed loop), for the "busy" figure;
 * - unknown-fields, token-limit, alias-depth, apq, malformed-json, parse-errors: 20,000
 *   distinct documents each, sent by a few concurrent clients, while a "probe" client sends
 *   an ordinary query every 50 ms and times it.
 *
 * Figures come from the facade's own `/metrics` (prom-client's default process metrics).
 * "after GC" asks the facade's inspector (started here on a loopback port, for this script
 * only) for a full garbage collection first, so that it shows what is retained, not garbage
 * that has not been collected yet. Prints a table; asserts nothing. Loopback only, bounded
 * in documents (FLOOD_DOCUMENTS) and time (FLOOD_TIME_LIMIT_S per phase).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { connectInspector, type Inspector, type Memory, memoryOf } from '../support/heap.ts';
import { HOSTILE_KINDS, type HostileKind, hostileBody } from '../support/hostile-documents.ts';
import { freePort, type Started, startMain } from '../support/process.ts';
import { facadeEnv } from './servers.ts';
import { forkStandin } from './standin.ts';

const HEAP_MB = Number(process.env.FLOOD_HEAP_MB ?? 256);
const DOCUMENTS = Number(process.env.FLOOD_DOCUMENTS ?? 20_000);
const CONCURRENCY = Number(process.env.FLOOD_CONCURRENCY ?? 8);
const TIME_LIMIT_MS = 1_000 * Number(process.env.FLOOD_TIME_LIMIT_S ?? 600);
const LIMITS = { maxTokens: Number(process.env.FLOOD_MAX_TOKENS ?? 5_000), bodyBytes: 128 * 1024, apqDocumentLength: 16 * 1024 };
const MB = 1024 * 1024;

const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };

interface Row {
  phase: string;
  sent: number;
  seconds: number;
  statuses: Record<string, number>;
  alive: boolean;
  diedAfter?: number;
  idle: Memory;
  peak: Memory;
  end?: Memory;
  afterGc?: Memory;
  probeIdle: Latency;
  probeDuring: Latency;
  /** The start of the answer to the first document, to see that the flood is what it says. */
  example?: string;
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
  count: number;
  failed: number;
}

const standin = await forkStandin();
const standinUrl = standin.url;

class Facade {
  readonly url: URL;
  private constructor(
    readonly process: Started,
    port: number,
    private readonly inspector: Inspector,
    private readonly metricsUrl: URL,
  ) {
    this.url = new URL(`http://127.0.0.1:${port}/graphql`);
  }

  static async start(): Promise<Facade> {
    const port = await freePort();
    const metricsPort = await freePort();
    const started = startMain(
      {
        ...facadeEnv(standinUrl, port),
        METRICS_PORT: String(metricsPort),
        ...(process.env.FLOOD_FACADE_ENV ? (JSON.parse(process.env.FLOOD_FACADE_ENV) as Record<string, string>) : {}),
      },
      { nodeOptions: [`--max-old-space-size=${HEAP_MB}`, '--inspect=127.0.0.1:0'] },
    );
    const url = new URL(`http://127.0.0.1:${port}/health`);
    for (let attempt = 0; ; attempt += 1) {
      if (started.child.exitCode !== null || attempt > 400) throw new Error(`the facade did not start:\n${started.output()}`);
      if (
        await fetch(url).then(
          (response) => response.ok,
          () => false,
        )
      )
        break;
      await sleep(50);
    }
    return new Facade(started, port, await connectInspector(started.output), new URL(`http://127.0.0.1:${metricsPort}/metrics`));
  }

  get alive(): boolean {
    return this.process.child.exitCode === null && this.process.child.signalCode === null;
  }

  memory(): Promise<Memory> {
    return memoryOf(this.metricsUrl);
  }

  async memoryAfterGc(): Promise<Memory> {
    await this.inspector.collectGarbage();
    return this.memory();
  }

  async stop(): Promise<void> {
    this.inspector.close();
    if (this.alive) this.process.child.kill('SIGTERM');
    await this.process.exit();
  }
}

const probeQuery = JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { id modelName } }` });

/** An ordinary client: one query every 50 ms, timed, until `stop` resolves. */
async function probe(facade: Facade, stop: Promise<unknown>): Promise<Latency> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const times: number[] = [];
  let failed = 0;
  while (!stopped) {
    const started = performance.now();
    const ok = await fetch(facade.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: probeQuery,
      signal: AbortSignal.timeout(10_000),
    }).then(
      async (response) => response.ok && !(await response.text()).includes('"errors"'),
      () => false,
    );
    if (ok) times.push(performance.now() - started);
    else failed += 1;
    if (!facade.alive) break;
    await sleep(50);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN);
  return { p50: at(0.5), p99: at(0.99), max: Math.round(times.at(-1) ?? NaN), count: times.length, failed };
}

async function runFlood(phase: HostileKind): Promise<Row> {
  const facade = await Facade.start();
  try {
    for (let i = 0; i < 50; i += 1)
      await fetch(facade.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: probeQuery }).then((r) => r.text());
    const idle = await facade.memoryAfterGc();
    const probeIdle = await probe(facade, sleep(2_000));

    const statuses: Record<string, number> = {};
    const peak = { ...idle };
    let next = 0;
    let sent = 0;
    const started = Date.now();
    let diedAfter: number | undefined;
    let example: string | undefined;
    const floodDone = (async () => {
      const worker = async () => {
        while (next < DOCUMENTS && Date.now() - started < TIME_LIMIT_MS && facade.alive) {
          const index = next++;
          const body = hostileBody(phase, index, LIMITS);
          const status = await fetch(facade.url, { method: 'POST', headers, body }).then(
            async (response) => {
              const text = await response.text();
              if (index === 0) example = text.slice(0, 300);
              return String(response.status);
            },
            () => 'socket error',
          );
          statuses[status] = (statuses[status] ?? 0) + 1;
          sent += 1;
          if (!facade.alive && diedAfter === undefined) diedAfter = sent;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    })();
    const sampler = (async () => {
      let done = false;
      void floodDone.then(() => (done = true));
      while (!done && facade.alive) {
        const now = await facade.memory().catch(() => undefined);
        if (now) {
          peak.rss = Math.max(peak.rss, now.rss);
          peak.heap = Math.max(peak.heap, now.heap);
        }
        await sleep(500);
      }
    })();
    const probeDuring = await probe(facade, floodDone);
    await sampler;
    const seconds = (Date.now() - started) / 1_000;
    const alive = facade.alive;
    const end = alive ? await facade.memory() : undefined;
    const afterGc = alive ? await facade.memoryAfterGc() : undefined;
    if (!alive) console.error(`[${phase}] the facade died:\n${facade.process.output().slice(-2_000)}`);
    return { phase, sent, seconds, statuses, alive, diedAfter, idle, peak, end, afterGc, probeIdle, probeDuring, example };
  } finally {
    await facade.stop();
  }
}

async function runBenchmark(): Promise<Row> {
  const facade = await Facade.start();
  try {
    const idle = await facade.memoryAfterGc();
    const allFields = `id liveMode referenceId locations { id } manufacturer modelCode modelName timeCreated accountId lastSeen flexEnabled
      properties { powerRatingImportKwh capacityKwh powerRatingExportKwh pvAzimuth pvTilt pvTerrainShading pvForecastsEnabled installDate }`;
    const peak = { ...idle };
    let done = false;
    const sampler = (async () => {
      while (!done && facade.alive) {
        const now = await facade.memory().catch(() => undefined);
        if (now) Object.assign(peak, { rss: Math.max(peak.rss, now.rss), heap: Math.max(peak.heap, now.heap) });
        await sleep(500);
      }
    })();
    const started = Date.now();
    let sent = 0;
    const statuses: Record<string, number> = {};
    for (const query of [
      `query ($id: ID!) { device(id: $id) { ${allFields} } }`,
      `query ($ids: [ID!]!) { devices(ids: $ids) { ${allFields} } }`,
    ]) {
      const result = await closedLoop(
        facade.url,
        JSON.stringify({ query, variables: { id: SEED_DEVICE_ID, ids: Array(20).fill(SEED_DEVICE_ID) } }),
        32,
        8,
      );
      sent += result.total;
      statuses['2xx'] = (statuses['2xx'] ?? 0) + result.ok;
    }
    done = true;
    await sampler;
    const end = await facade.memory();
    const afterGc = await facade.memoryAfterGc();
    const none = { p50: NaN, p99: NaN, max: NaN, count: 0, failed: 0 };
    return {
      phase: 'benchmark',
      sent,
      seconds: (Date.now() - started) / 1_000,
      statuses,
      alive: facade.alive,
      idle,
      peak,
      end,
      afterGc,
      probeIdle: none,
      probeDuring: none,
    };
  } finally {
    await facade.stop();
  }
}

const phases = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['benchmark', ...HOSTILE_KINDS];
const rows: Row[] = [];
for (const phase of phases) {
  const known = phase === 'benchmark' || (HOSTILE_KINDS as readonly string[]).includes(phase);
  if (!known) throw new Error(`unknown phase ${phase}; phases: benchmark, ${HOSTILE_KINDS.join(', ')}`);
  const row = phase === 'benchmark' ? await runBenchmark() : await runFlood(phase as HostileKind);
  rows.push(row);
  console.log(JSON.stringify(row));
}
standin.stop();

const mb = (bytes: number | undefined) => (bytes === undefined || Number.isNaN(bytes) ? '—' : (bytes / MB).toFixed(0));
console.log(
  `\nmemory-flood: heap cap ${HEAP_MB} MB, ${DOCUMENTS} documents per flood, ${CONCURRENCY} concurrent senders, node ${process.version}`,
);
console.log('RSS / heap used in MB; probe = an ordinary query every 50 ms during the flood (idle → during), ms\n');
console.log(
  '| phase | sent | s | alive | RSS idle | RSS peak | RSS end | RSS after GC | heap idle | heap peak | heap end | heap after GC | probe p50 | probe p99 | probe max | probe failed | statuses |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.phase} | ${r.sent} | ${r.seconds.toFixed(0)} | ${r.alive ? 'yes' : `died after ${r.diedAfter ?? '?'}`} | ${mb(r.idle.rss)} | ${mb(r.peak.rss)} | ${mb(r.end?.rss)} | ${mb(r.afterGc?.rss)} | ` +
      `${mb(r.idle.heap)} | ${mb(r.peak.heap)} | ${mb(r.end?.heap)} | ${mb(r.afterGc?.heap)} | ` +
      `${r.probeIdle.p50} → ${r.probeDuring.p50} | ${r.probeIdle.p99} → ${r.probeDuring.p99} | ${r.probeDuring.max} | ${r.probeDuring.failed} | ${JSON.stringify(r.statuses)} |`,
  );
}

/** `connections` clients, each sending `body` again as soon as it has an answer, for `seconds`. */
async function closedLoop(url: URL, body: string, connections: number, seconds: number): Promise<{ total: number; ok: number }> {
  const pool = new Pool(url.origin, { connections });
  const endAt = Date.now() + seconds * 1000;
  let total = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < endAt) {
        const response = await pool.request({ path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await response.body.dump();
        total += 1;
        if (response.statusCode >= 200 && response.statusCode < 300) ok += 1;
      }
    }),
  );
  await pool.close();
  return { total, ok };
}
