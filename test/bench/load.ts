/**
 * One measured run: HTTP load against a target for a fixed time, closed-loop (each connection
 * sends its next request when answered) or open-loop (requests sent at a fixed rate, answered
 * or not), with the target's CPU time and RSS read from /proc and the stand-in's upstream call
 * count, before and after.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Pool } from 'undici';
import { cpuMicros, rssMb } from './proc.ts';
import type { StandinStats } from './standin-process.ts';

/** What every request of a run looks like. */
export interface Load {
  readonly method: 'GET' | 'POST';
  /** Sent in turn, one per request; empty for GET. */
  readonly bodies: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Measured {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Share of requests answered with a status other than 200, with `errors`, or not at all. */
  readonly errorShare: number;
  readonly upstreamPerRequest: number;
  /** CPU time (user + system) of the target's processes per request, in µs. */
  readonly cpuUsPerRequest: number;
  /** Total CPU time of the target's processes during the run, in µs (for paired sums). */
  readonly cpuUs: number;
  readonly rssAfterMb: number;
  /** Bytes of an answer's body on the wire (compressed, when the load asks for it), on average. */
  readonly bytesPerAnswer: number;
  /** The first failed answer of the run (status and the start of its body), to say why errors is not 0. */
  readonly firstFailure?: string;
}

/** One measured run as `combineRounds` needs it: its length, failures and latencies too. */
export interface Round extends Measured {
  readonly seconds: number;
  readonly failed: number;
  /** Every answered request's latency in ms, sorted. */
  readonly latencies: readonly number[];
}

export interface RunOptions {
  readonly seconds: number;
  /** Closed loop: this many connections, each with one request at a time. Open loop: at most this many. */
  readonly connections: number;
  /**
   * Open loop: requests sent at this many per second whether or not the earlier ones are
   * answered, as independent clients send them. A request's latency counts from when it was
   * due: the generator's own lag and any wait for a free connection are in it. Absent:
   * closed loop.
   */
  readonly rate?: number | undefined;
  /** Unmeasured load first, so that the JIT and connection pools are warm. */
  readonly warmupSeconds: number;
  /** Zeroes and returns the stand-in's counters. */
  readonly upstreamStats: () => Promise<StandinStats>;
}

/**
 * After the last answer a server may still have work of that run under way (an upstream call
 * it gave up waiting for, closing the client connections): it belongs to the run before.
 */
const SETTLE_MS = 200;

/** An open-loop rate in requests per second, as `variable` gives it; anything but a number above 0 is refused, naming it. */
export function requestRate(text: string, variable: string): number {
  const rate = Number(text);
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`${variable}: requests per second above 0, got ${text}`);
  return rate;
}

/** BENCH_RATE (bench:ab, bench:profile): one open-loop rate, or undefined (unset or empty) for closed-loop load. */
export function rateFromEnv(value = process.env.BENCH_RATE): number | undefined {
  return value === undefined || value === '' ? undefined : requestRate(value, 'BENCH_RATE');
}

export async function measure(urls: readonly string[], pids: readonly number[], load: Load, options: RunOptions): Promise<Round> {
  if (options.warmupSeconds > 0) await fire(urls, load, options.warmupSeconds, options.connections, options.rate);
  await sleep(SETTLE_MS);
  await options.upstreamStats();
  const cpuBefore = sum(pids.map(cpuMicros));
  const fired = await fire(urls, load, options.seconds, options.connections, options.rate);
  await sleep(SETTLE_MS);
  const cpuUs = sum(pids.map(cpuMicros)) - cpuBefore;
  const upstream = await options.upstreamStats();
  const requests = Math.max(1, fired.requests);
  return {
    requests: fired.requests,
    rps: fired.requests / fired.seconds,
    p50: fired.p50,
    p99: fired.p99,
    errorShare: fired.failed / requests,
    upstreamPerRequest: upstream.devices / requests,
    cpuUsPerRequest: cpuUs / requests,
    cpuUs,
    rssAfterMb: sum(pids.map(rssMb)),
    bytesPerAnswer: fired.bytes / Math.max(1, fired.requests - fired.connectionErrors),
    ...(fired.firstFailure === undefined ? {} : { firstFailure: fired.firstFailure }),
    seconds: fired.seconds,
    failed: fired.failed,
    latencies: fired.latencies,
  };
}

/**
 * The runs of one server on one workload, measured in rounds between other servers' runs,
 * as one: totals over all rounds, percentiles of every latency, memory after the last.
 */
export function combineRounds(rounds: readonly Round[]): Measured {
  const last = rounds.at(-1);
  if (!last) throw new Error('combineRounds: no rounds');
  const total = (of: (round: Round) => number) => sum(rounds.map(of));
  const requests = total((round) => round.requests);
  const perRequest = Math.max(1, requests);
  const latencies = rounds.flatMap((round) => round.latencies).sort((a, b) => a - b);
  const firstFailure = rounds.find((round) => round.firstFailure !== undefined)?.firstFailure;
  return {
    requests,
    rps: requests / total((round) => round.seconds),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errorShare: total((round) => round.failed) / perRequest,
    upstreamPerRequest: total((round) => round.upstreamPerRequest * Math.max(1, round.requests)) / perRequest,
    cpuUsPerRequest: total((round) => round.cpuUs) / perRequest,
    cpuUs: total((round) => round.cpuUs),
    rssAfterMb: last.rssAfterMb,
    bytesPerAnswer: total((round) => round.bytesPerAnswer * round.latencies.length) / Math.max(1, latencies.length),
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

interface Fired {
  requests: number;
  seconds: number;
  failed: number;
  connectionErrors: number;
  p50: number;
  p99: number;
  bytes: number;
  latencies: number[];
  firstFailure?: string;
}

/**
 * Closed-loop load (no `rate`): `connections` workers spread evenly over the URLs, each
 * sending its next request when the previous one is answered, until the time is up. Then
 * every worker finishes the request it has in flight before the run ends, so that every
 * upstream call and every CPU microsecond counted belongs to a request counted (autocannon
 * abandons requests in flight at the end, which skews per-request figures of slow workloads
 * by tens of percent). Open-loop load (`rate`): request k is due at k / rate seconds and
 * sent at the first timer tick from then (ticks come about every millisecond, so at 2,000
 * req/s about two go out together), over the URLs in turn; the run ends when every request
 * sent is answered.
 */
async function fire(urls: readonly string[], load: Load, seconds: number, connections: number, rate?: number): Promise<Fired> {
  const pools = urls.map((url) => ({
    url: new URL(url),
    pool: new Pool(new URL(url).origin, {
      connections: Math.max(1, Math.round(connections / urls.length)),
      pipelining: 1,
      headersTimeout: 60_000,
    }),
  }));
  const headers = { ...(load.method === 'POST' ? { 'content-type': 'application/json' } : {}), ...load.headers };
  const latencies: number[] = [];
  let failed = 0;
  let connectionErrors = 0;
  let firstFailure: string | undefined;
  let bytes = 0;
  let next = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;

  /** One request, from `sent` (when it was due, for the open loop) to its last byte. */
  async function request(target: (typeof pools)[number], sent = performance.now()): Promise<void> {
    const body = load.bodies.length > 0 ? load.bodies[next++ % load.bodies.length] : undefined;
    try {
      const response = await target.pool.request({ path: target.url.pathname, method: load.method, headers, body });
      const wire = Buffer.from(await response.body.arrayBuffer());
      latencies.push(performance.now() - sent);
      bytes += wire.length;
      const text = decoded(wire, response.headers['content-encoding']).toString('utf8');
      // No field of the device queries is named "errors": the cheap test is exact here.
      if (response.statusCode !== 200 || text.includes('"errors"')) {
        failed += 1;
        firstFailure ??= `${response.statusCode} ${text.slice(0, 300)}`;
      }
    } catch (error) {
      connectionErrors += 1;
      firstFailure ??= String(error);
    }
  }

  async function worker(target: (typeof pools)[number]): Promise<void> {
    while (performance.now() < deadline) await request(target);
  }

  /** At each tick, the requests due by then: a timer cannot fire more often than every millisecond. */
  async function paced(perSecond: number): Promise<void> {
    const total = Math.round(perSecond * seconds);
    const inFlight: Array<Promise<void>> = [];
    for (let sent = 0; sent < total; await sleep(1)) {
      // Requests 0 … ⌊t·rate⌋ are due at t (request k at k / rate).
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * perSecond) + 1);
      for (; sent < due; sent += 1) inFlight.push(request(pools[sent % pools.length]!, start + (sent / perSecond) * 1000));
    }
    await Promise.all(inFlight);
  }

  try {
    if (rate !== undefined) await paced(rate);
    else await Promise.all(Array.from({ length: connections }, (_, i) => worker(pools[i % pools.length]!)));
  } finally {
    await Promise.all(pools.map(({ pool }) => pool.close()));
  }
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length + connectionErrors,
    seconds: elapsed,
    failed: failed + connectionErrors,
    connectionErrors,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    bytes,
    latencies,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

/** An answer's body as the server meant it: errors are looked for in it, not in brotli. */
function decoded(wire: Buffer, coding: string | string[] | undefined): Buffer {
  if (coding === 'br') return brotliDecompressSync(wire);
  if (coding === 'gzip') return gunzipSync(wire);
  return wire;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
