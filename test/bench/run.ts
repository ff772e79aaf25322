/**
 * `npm run bench`: the facade against a baseline built the way Apollo's docs teach it
 * (`baseline/server.ts`), against the Node floor (`floor/server.ts`: the least a GraphQL
 * facade over this API costs in Node) and against the Yoga floor (`floor/yoga.ts`: the same
 * on graphql-yoga), side by side in one run, each started fresh against
 * the same stand-in, for every workload × upstream latency. Prints Markdown tables; asserts
 * nothing; never run by CI.
 *
 * Processes on loopback: the stand-in, the servers under test, and this one driving them
 * with closed-loop HTTP load (undici), and `single` also at fixed rates (open loop). Environment (all optional):
 *   BENCH_DURATION_S      measured seconds per server and workload (8)
 *   BENCH_ROUNDS          rounds those seconds are measured in, the servers in turn (4)
 *   BENCH_WARMUP_S        unmeasured seconds per server before a workload's first round (2)
 *   BENCH_CONNECTIONS     client connections: one number for every latency, or a
 *                         comma-separated list paired with BENCH_LATENCIES (32 at
 *                         latency 0, 256 at any other)
 *   BENCH_WORKLOADS       comma-separated subset of single,same,batch20,entities50,hot (all);
 *                         batch20-503 (30 % upstream 503s) on request
 *   BENCH_LATENCIES       comma-separated upstream latencies in ms (0,20)
 *   BENCH_RATES           comma-separated open-loop rates in req/s at which `single` (when
 *                         among BENCH_WORKLOADS) is also measured at latency 0 (1000,2000);
 *                         empty to skip
 *   BENCH_JWT_ROUNDS      rounds per side of the caller-JWT and compression A/Bs, 0 to skip them (4)
 *   BENCH_JWT_ROUND_S     seconds per round (2)
 *   BENCH_PIN             0: servers not pinned to a core of their own (proc.ts)
 *   YOGA_FLOOR_HTTP       yoga: the Yoga floor served by Yoga's own HTTP handler (floor/yoga.ts)
 *   BENCH_REDIS_URL       adds the "two facade replicas sharing Redis" rows (hot, single),
 *                         with the device cache on for BENCH_CACHE_TTL_MS (5000)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_ACCOUNT_ID, SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY } from '../../tools/standin/server.ts';
import { AUDIENCE, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { combineRounds, type Load, type Measured, measure, requestRate, type Round, type RunOptions } from './load.ts';
import { clockTicksPerSecond, machineCores, pinned, pinTo, rssMb, SERVER_CORE } from './proc.ts';
import { alternate } from './paired.ts';
import { cacheOffBounds, loadOf, ratiosTable, resultsTable, type Row } from './report.ts';
import { compileServers, startBaseline, startFacade, startFacadeReplicas, startFloor, floorName, type Target } from './servers.ts';
import type { StandinCommand, StandinStats } from './standin-process.ts';
import { DEFAULT_WORKLOADS, type Workload, WORKLOADS } from './workloads.ts';
import { forkStandin } from './standin.ts';

const list = (value: string | undefined, fallback: readonly string[]) =>
  value
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : [...fallback];
const SECONDS = Number(process.env.BENCH_DURATION_S ?? 8);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS: a whole number of at least 1, got ${process.env.BENCH_ROUNDS}`);
const LATENCIES = list(process.env.BENCH_LATENCIES, ['0', '20']).map(Number);
const CONNECTIONS = connectionsPerLatency(list(process.env.BENCH_CONNECTIONS, []).map(Number));
const RATES = list(process.env.BENCH_RATES ?? '1000,2000', []).map((rate) => requestRate(rate, 'BENCH_RATES'));
const JWT_ROUNDS = Number(process.env.BENCH_JWT_ROUNDS ?? 4);
const JWT_ROUND_S = Number(process.env.BENCH_JWT_ROUND_S ?? 2);
const REDIS_URL = process.env.BENCH_REDIS_URL;
const workloads = list(process.env.BENCH_WORKLOADS, DEFAULT_WORKLOADS).map((name) => {
  const workload = WORKLOADS.find((w) => w.name === name);
  if (!workload) throw new Error(`BENCH_WORKLOADS: unknown workload ${name} (known: ${WORKLOADS.map((w) => w.name).join(', ')})`);
  return workload;
});
const RATE_ROWS = workloads.some((workload) => workload.name === 'single') ? RATES : [];

/**
 * 32 connections at latency 0 keep two cores busy without queueing much. At 20 ms every
 * server needs far more requests in flight to be CPU-bound: with 64, each is capped at
 * 64 / 20 ms = 3,200 req/s and the rows compare nothing; 256 lifts the cap to 12,800.
 */
function connectionsPerLatency(given: readonly number[]): Map<number, number> {
  if (given.length > 1 && given.length !== LATENCIES.length) {
    throw new Error(`BENCH_CONNECTIONS: one number, or one per latency of BENCH_LATENCIES (${LATENCIES.join(',')})`);
  }
  return new Map(
    LATENCIES.map((latencyMs, i) => [latencyMs, given.length > 0 ? given[Math.min(i, given.length - 1)]! : latencyMs === 0 ? 32 : 256]),
  );
}
const connectionsAt = (latencyMs: number) => CONNECTIONS.get(latencyMs) ?? CONNECTIONS.values().next().value ?? 32;

/**
 * Every facade the bench starts also waits for as many upstream calls as the bench can ask
 * for at once (each connection's request with its 50 devices): with the default
 * FLATPEAK_MAX_QUEUE of 4,096, `entities50` at 256 connections has about half its answers
 * shed with UPSTREAM_OVERLOADED, and a row with errors measures nothing. The floor and the
 * baseline have no such limit.
 */
const MOST_CALLS_AT_ONCE = Math.max(...CONNECTIONS.values()) * 50;
const facadeOverrides = (env: Record<string, string> = {}) => ({ FLATPEAK_MAX_QUEUE: String(Math.max(4096, MOST_CALLS_AT_ONCE)), ...env });

compileServers();

const FACADE = 'facade';
const FLOOR = floorName('floor');
const YOGA_FLOOR = floorName('yoga-floor');
const BASELINE = 'apollo-baseline';
/** Table order: the facade, then what it is held against. */
const SERVERS = [FACADE, FLOOR, YOGA_FLOOR, BASELINE];
/** Bodies per workload whose answers must be the same JSON from every server. */
const COMPARED_BODIES = 5;
const started = Date.now();

const standin = await forkStandin();
const standinUrl = standin.url;
pinTo(0, [process.pid, standin.pid]);
const ask = <T>(command: StandinCommand) => standin.ask<T>(command);

const runOptions = (connections: number, seconds = SECONDS, warmupSeconds = WARMUP_S, rate?: number): RunOptions => ({
  seconds,
  warmupSeconds,
  connections,
  rate,
  upstreamStats: () => ask<StandinStats>({ type: 'stats' }),
});
const graphqlLoad = (workload: Workload, headers: Record<string, string> = {}): Load => ({
  method: 'POST',
  bodies: workload.bodies,
  headers,
});
const single = WORKLOADS.find((w) => w.name === 'single')!;

/**
 * Each server's share of a workload, measured in ROUNDS rounds of SECONDS / ROUNDS each: the
 * servers in turn within a round, each round begun by the next server, after a warm-up of
 * each. This machine's speed drifts by the minute, and servers measured one after the other
 * for 8 s each were compared at different speeds. Rows of the same workload now share their
 * minutes; two runs still differ from each other (docs/benchmarks.md, "One run").
 */
async function measureWorkload(
  targets: readonly Target[],
  workload: Workload,
  connections: number,
  first: number,
  rate?: number,
): Promise<Measured[]> {
  if (workload.upstream503) await ask({ type: 'fault503', rate: workload.upstream503 });
  try {
    const load = graphqlLoad(workload);
    const run = (target: Target, seconds: number) => measure(target.urls, target.pids, load, runOptions(connections, seconds, 0, rate));
    if (WARMUP_S > 0) for (const target of targets) await run(target, WARMUP_S);
    const rounds = targets.map((): Round[] => []);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (let turn = 0; turn < targets.length; turn += 1) {
        const index = (first + round + turn) % targets.length;
        rounds[index]!.push(await run(targets[index]!, SECONDS / ROUNDS));
      }
    }
    return rounds.map(combineRounds);
  } finally {
    if (workload.upstream503) await ask({ type: 'fault503', rate: 0 });
  }
}

/** Servers started fresh, idle for a second, their RSS then: the "idle" column. */
async function startFresh(starters: ReadonlyArray<() => Promise<Target>>): Promise<Array<{ target: Target; rssIdleMb: number }>> {
  const targets: Target[] = [];
  for (const start of starters) {
    const target = await start(); // one at a time: startup is CPU-bound
    pinTo(SERVER_CORE, target.pids);
    targets.push(target);
  }
  await sleep(1000);
  return targets.map((target) => ({ target, rssIdleMb: target.pids.reduce((total, pid) => total + rssMb(pid), 0) }));
}

/**
 * Every server answers the first bodies of every workload with the same JSON as the first
 * server: otherwise the comparison is void. Returns "workload: server" for each that differs.
 */
async function compareAnswers(targets: readonly Target[]): Promise<string[]> {
  const answer = (target: Target, body: string) =>
    fetch(target.urls[0]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      .then((response) => response.text())
      .then((text) => JSON.stringify(JSON.parse(text)));
  const differing = new Set<string>();
  for (const workload of workloads.filter((w) => !w.upstream503)) {
    for (const body of workload.bodies.slice(0, COMPARED_BODIES)) {
      const [first, ...others] = await Promise.all(targets.map((target) => answer(target, body)));
      others.forEach((other, i) => other !== first && differing.add(`${workload.name}: ${targets[i + 1]!.name}`));
    }
  }
  return [...differing];
}

/** The stand-in alone, `GET /devices/{id}` with a token: how much upstream there is to use. */
async function measureStandin(latencyMs: number, connections: number): Promise<Row> {
  const token = await fetch(new URL('/login', standinUrl), {
    headers: { authorization: `Basic ${Buffer.from(`${DEMO_ACCOUNT_ID}:${DEMO_API_KEY}`).toString('base64')}` },
  })
    .then((response) => response.json())
    .then((body) => (body as { bearer_token: string }).bearer_token);
  const url = new URL(`/devices/${SEED_DEVICE_ID}`, standinUrl).href;
  const measured = await measure(
    [url],
    [standin.pid],
    { method: 'GET', bodies: [], headers: { authorization: `Bearer ${token}` } },
    runOptions(connections, Math.max(2, SECONDS / 2)),
  );
  return { ...measured, latencyMs, connections, workload: 'GET /devices/{id}', server: 'stand-in', isGraphql: false };
}

/**
 * The "two replicas sharing Redis" rows (`hot` and `single`), when BENCH_REDIS_URL names a
 * running Redis: both replicas share its device cache (BENCH_CACHE_TTL_MS, 5 s by default;
 * off in every other row, as it is by default) and its APQ registrations.
 */
async function measureReplicasWithRedis(latencyMs: number, connections: number, redisUrl: string): Promise<Row[]> {
  const env = { REDIS_URL: redisUrl, DEVICE_CACHE_TTL_MS: process.env.BENCH_CACHE_TTL_MS ?? '5000' };
  const { target, rssIdleMb } = (
    await startFresh([() => startFacadeReplicas('facade×2+redis+cache', 2, standinUrl, facadeOverrides(env))])
  )[0]!;
  const rows: Row[] = [];
  try {
    for (const workload of WORKLOADS.filter((w) => w.name === 'hot' || w.name === 'single')) {
      rows.push({
        ...(await measureWorkload([target], workload, connections, 0))[0]!,
        latencyMs,
        connections,
        workload: workload.name,
        server: target.name,
        rssIdleMb,
        isGraphql: true,
      });
    }
  } finally {
    await target.stop();
  }
  return rows;
}

const pairedOptions = (connections: number) => ({
  rounds: JWT_ROUNDS,
  roundSeconds: JWT_ROUND_S,
  connections,
  upstreamStats: () => ask<StandinStats>({ type: 'stats' }),
});

/**
 * What verifying a caller's JWT costs: two facades (CALLER_AUTH=none and jwt against a local
 * JWKS) under the `single` workload at latency 0.
 */
async function measureCallerJwt(): Promise<string> {
  await ask({ type: 'latency', ms: 0 });
  const idp = await startIdentityProvider();
  const servers = await startFresh([
    () => startFacade('CALLER_AUTH=none', standinUrl, facadeOverrides()),
    () =>
      startFacade(
        'CALLER_AUTH=jwt',
        standinUrl,
        facadeOverrides({
          CALLER_AUTH: 'jwt',
          AUTH_JWKS_URL: idp.jwksUrl.href,
          AUTH_ISSUER: ISSUER,
          AUTH_AUDIENCE: AUDIENCE,
        }),
      ),
  ]);
  const [none, jwt] = servers.map((server) => server.target) as [Target, Target];
  const callerToken = await idp.token({ claims: { sub: 'bench', scope: 'devices:read:all' }, expiresIn: 3600 });
  try {
    return await alternate(
      'caller JWT A/B: single, latency 0',
      { name: none.name, target: none, load: graphqlLoad(single) },
      { name: jwt.name, target: jwt, load: graphqlLoad(single, { authorization: `Bearer ${callerToken}` }) },
      pairedOptions(connectionsAt(0)),
    );
  } finally {
    await Promise.all([none.stop(), jwt.stop()]);
    await idp.close();
  }
}

/**
 * What compressing answers costs (issue 16): one facade under `batch20` at latency 0 (an
 * answer of about 8.7 KB), its requests alternately without and with `Accept-Encoding: br,
 * gzip`, as apps send it. Bytes per answer are the body's on the wire.
 */
async function measureCompression(): Promise<string> {
  await ask({ type: 'latency', ms: 0 });
  const batch20 = WORKLOADS.find((w) => w.name === 'batch20')!;
  const { target } = (await startFresh([() => startFacade(FACADE, standinUrl, facadeOverrides())]))[0]!;
  try {
    return await alternate(
      'compression A/B: batch20, latency 0',
      { name: 'identity', target, load: graphqlLoad(batch20) },
      { name: 'br', target, load: graphqlLoad(batch20, { 'accept-encoding': 'br, gzip' }) },
      pairedOptions(connectionsAt(0)),
    );
  } finally {
    await target.stop();
  }
}

const rows: Row[] = [];
const notes: string[] = [];
try {
  for (const latencyMs of LATENCIES) {
    const connections = connectionsAt(latencyMs);
    await ask({ type: 'latency', ms: latencyMs });
    rows.push(await measureStandin(latencyMs, connections));
    const servers = await startFresh([
      () => startFacade(FACADE, standinUrl, facadeOverrides()),
      () => startFloor(FLOOR, standinUrl),
      () => startFloor(YOGA_FLOOR, standinUrl, 'yoga-floor'),
      () => startBaseline(BASELINE, standinUrl),
    ]);
    try {
      const differing = await compareAnswers(servers.map(({ target }) => target));
      if (differing.length > 0) notes.push(`latency ${latencyMs} ms: answers differ from ${FACADE}'s on ${differing.join(', ')}`);
      for (const [index, workload] of workloads.entries()) {
        const measured = await measureWorkload(
          servers.map(({ target }) => target),
          workload,
          connections,
          index,
        );
        for (const [i, { target, rssIdleMb }] of servers.entries()) {
          rows.push({ ...measured[i]!, latencyMs, connections, workload: workload.name, server: target.name, rssIdleMb, isGraphql: true });
        }
      }
      // CPU per request at saturation is not the server's alone: below it, each request pays
      // for waking the server and, through its writes, its readers, which a saturated server
      // shares among requests. Apps do not saturate a replica; these rows compare servers at
      // the same offered rate instead (docs/benchmarks.md, "At a fixed rate").
      for (const rate of latencyMs === 0 ? RATE_ROWS : []) {
        const measured = await measureWorkload(
          servers.map(({ target }) => target),
          single,
          connections,
          0,
          rate,
        );
        for (const [i, { target }] of servers.entries()) {
          rows.push({ ...measured[i]!, latencyMs, connections, rate, workload: single.name, server: target.name, isGraphql: true });
        }
      }
    } finally {
      await Promise.all(servers.map(({ target }) => target.stop()));
    }
    if (REDIS_URL) rows.push(...(await measureReplicasWithRedis(latencyMs, connections, REDIS_URL)));
  }
  const jwtSummary = JWT_ROUNDS > 0 ? await measureCallerJwt() : undefined;
  const compressionSummary = JWT_ROUNDS > 0 ? await measureCompression() : undefined;

  // Servers not in SERVERS (the Redis replicas) come right after the facade.
  const serverRank = (server: string) => (SERVERS.includes(server) ? SERVERS.indexOf(server) : 0.5);
  const order = (row: Row) => [
    row.latencyMs,
    row.isGraphql ? 1 : 0,
    row.rate ?? 0,
    WORKLOADS.findIndex((w) => w.name === row.workload),
    serverRank(row.server),
  ];
  rows.sort((x, y) => {
    const [a, b] = [order(x), order(y)];
    return a.reduce((diff, value, i) => diff || value - b[i]!, 0);
  });
  const perLatency = LATENCIES.map((latencyMs) => `${connectionsAt(latencyMs)} at ${latencyMs} ms`).join(', ');
  const rates =
    RATE_ROWS.length > 0 && LATENCIES.includes(0)
      ? `, and single at 0 ms also open-loop at ${RATE_ROWS.join(' and ')} req/s over at most ${connectionsAt(0)} connections`
      : '';
  console.log(
    `\nbench: ${SECONDS} s per server and workload in ${ROUNDS} rounds, the servers in turn, after ${WARMUP_S} s warm-up each, connections ${perLatency}${rates}, node ${process.version}, ` +
      `${machineCores} cores, CLK_TCK ${clockTicksPerSecond}; every server compiled by tsc and run by node; ${pinned ? 'each server pinned to a core of its own, the load generator and the stand-in to the other (BENCH_PIN=0: unpinned)' : 'unpinned'}; CPU and RSS of the server process(es) from /proc; ` +
      `servers started fresh per latency; ${((Date.now() - started) / 1000).toFixed(0)} s in all\n`,
  );
  for (const workload of workloads) console.log(`- ${workload.name}: ${workload.description}`);
  console.log(`\n${resultsTable(rows)}\n\n${ratiosTable(rows, FACADE, [FLOOR, YOGA_FLOOR, BASELINE])}`);
  const bounds = cacheOffBounds(rows, { server: FACADE, baseline: BASELINE, sameDevice: ['same'], oneDevice: ['single', 'same', 'hot'] });
  if (bounds.length > 0) {
    console.log(
      `\nBounds for ${FACADE} (device cache off: an answer comes only from a call in flight when the request arrived, and the request that starts a call waits for all of it):`,
    );
    for (const bound of bounds) console.log(`- ${bound}`);
  }
  if (jwtSummary) console.log(`\n${jwtSummary}`);
  if (compressionSummary) console.log(`\n${compressionSummary}`);
  // Every figure of a row with errors is suspect (an error answers sooner and cheaper): say why.
  for (const row of rows.filter((r) => r.errorShare > 0 && !r.workload.endsWith('-503'))) {
    notes.push(
      `${row.latencyMs} ms, ${loadOf(row)}, ${row.workload}, ${row.server}: ${(row.errorShare * 100).toFixed(2)} % errors; first: ${row.firstFailure ?? '?'}`,
    );
  }
  for (const note of notes) console.log(`\nNOTE: ${note}`);
} finally {
  standin.stop();
}
