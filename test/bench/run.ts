/**
 * `npm run bench`: the facade under load against the stand-in, with the stand-in's own
 * throughput measured in the same run for scale. Prints figures; asserts nothing.
 *
 * Three processes on loopback: the stand-in, the facade (`src/main.ts`, as `npm start`
 * runs it), and this one driving both with autocannon.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { DEMO_ACCOUNT_ID, SEED_DEVICE_ID, sampleDevices } from '../../src/standin/data.ts';
import { DEMO_API_KEY } from '../../src/standin/server.ts';
import { AUDIENCE, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { startMain, type Started } from '../support/process.ts';
import type { StandinCommand, StandinStats } from './standin-process.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

const standinChild = fork(new URL('./standin-process.ts', import.meta.url), {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const [{ url: standinUrl }] = (await once(standinChild, 'message')) as [{ url: string }];

function ask<T>(command: StandinCommand): Promise<T> {
  standinChild.send(command);
  return once(standinChild, 'message').then(([reply]) => reply as T);
}

// Error-level logs only, so that per-item warnings of the fault scenario cost nothing; the
// "listening" line is then not printed, so the facade gets a port picked here.
const port = await freePort();
const facade = startMain({
  PORT: String(port),
  LOG_LEVEL: 'error',
  FLATPEAK_API_URL: standinUrl,
  FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
  FLATPEAK_API_KEY: DEMO_API_KEY,
  CALLER_AUTH: 'none',
  RATE_LIMIT_PER_SECOND: '0',
});
const graphqlUrl = `http://127.0.0.1:${port}/graphql`;
await waitUntilHealthy(new URL('/health', graphqlUrl));

const ALL_FIELDS = `id liveMode referenceId locations { id } manufacturer modelCode modelName timeCreated accountId lastSeen flexEnabled
  properties { powerRatingImportKwh capacityKwh powerRatingExportKwh pvAzimuth pvTilt pvTerrainShading pvForecastsEnabled installDate }`;
const distinct = sampleDevices()
  .slice(3, 19)
  .map((device) => device.id);
const twentyIds = [...distinct, ...distinct.slice(0, 4)]; // 16 distinct ids and 4 duplicates

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  complete: number;
  upstreamPerRequest?: number;
  /** CPU time of the server process per request, in microseconds (user + system, from /proc). */
  cpuUsPerRequest?: number;
}

/** user + system CPU time of a process so far, in ms (Linux clock ticks are 10 ms). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function run(name: string, options: autocannon.Options & { isComplete?: (body: string) => boolean; server?: Started }): Promise<Figures> {
  let complete = 0;
  const isComplete = options.isComplete ?? (() => true);
  const server = options.server ?? facade;
  await ask<StandinStats>({ type: 'stats' }); // zero the counters
  const cpuBefore = cpuMs(server.child.pid);
  const result = await autocannon({
    connections: CONNECTIONS,
    duration: DURATION_S,
    ...options,
    requests: [
      {
        onResponse: (status, body) => {
          if (status === 200 && isComplete(body)) complete += 1;
        },
      },
    ],
  });
  const stats = await ask<StandinStats>({ type: 'stats' });
  const cpu = cpuMs(server.child.pid) - cpuBefore;
  const requests = result.requests.total;
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    complete,
    upstreamPerRequest: stats.devices / Math.max(1, requests),
    cpuUsPerRequest: (cpu * 1000) / Math.max(1, requests),
  };
}

function graphql(query: string, variables: Record<string, unknown>, url = graphqlUrl, headers: Record<string, string> = {}): autocannon.Options {
  return {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  };
}

const noErrors = (expected: number) => (body: string) => {
  const parsed = JSON.parse(body) as { data?: { devices?: unknown[] }; errors?: unknown[] };
  return !parsed.errors && (parsed.data?.devices?.filter(Boolean).length ?? 1) === expected;
};

// Warm up: JIT, connection pools, the service token.
await autocannon({ ...graphql(`query ($id: ID!) { device(id: $id) { ${ALL_FIELDS} } }`, { id: SEED_DEVICE_ID }), connections: 8, duration: 2 });

const results: Figures[] = [];
results.push(
  await run('facade  device(id), all fields', {
    ...graphql(`query ($id: ID!) { device(id: $id) { ${ALL_FIELDS} } }`, { id: SEED_DEVICE_ID }),
    isComplete: (body) => !body.includes('"errors"'),
  }),
);
results.push(
  await run('facade  devices(20 ids, 4 dup), all fields', {
    ...graphql(`query ($ids: [ID!]!) { devices(ids: $ids) { ${ALL_FIELDS} } }`, { ids: twentyIds }),
    isComplete: noErrors(20),
  }),
);

// The same single-device query from a caller with a JWT (CALLER_AUTH=jwt): what verifying
// callers costs, with verified tokens cached by hash until they expire.
const idp = await startIdentityProvider();
const jwtPort = await freePort();
const jwtFacade = startMain({
  PORT: String(jwtPort),
  LOG_LEVEL: 'error',
  FLATPEAK_API_URL: standinUrl,
  FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
  FLATPEAK_API_KEY: DEMO_API_KEY,
  CALLER_AUTH: 'jwt',
  AUTH_JWKS_URL: idp.jwksUrl.href,
  AUTH_ISSUER: ISSUER,
  AUTH_AUDIENCE: AUDIENCE,
  RATE_LIMIT_PER_SECOND: '0',
});
const jwtUrl = `http://127.0.0.1:${jwtPort}/graphql`;
await waitUntilHealthy(new URL('/health', jwtUrl), jwtFacade);
const callerToken = await idp.token({ claims: { sub: 'bench', scope: 'devices:read:all' }, expiresIn: 3600 });
const single = graphql(`query ($id: ID!) { device(id: $id) { ${ALL_FIELDS} } }`, { id: SEED_DEVICE_ID }, jwtUrl, { authorization: `Bearer ${callerToken}` });
await autocannon({ ...single, connections: 8, duration: 2 });
const withJwt = await run('jwt     device(id), all fields, caller JWT', { ...single, server: jwtFacade, isComplete: (body) => !body.includes('"errors"') });
results.push(withJwt);
jwtFacade.child.kill('SIGTERM');
await jwtFacade.exit();
await idp.close();

const token = await fetch(new URL('/login', standinUrl), {
  headers: { authorization: `Basic ${Buffer.from(`${DEMO_ACCOUNT_ID}:${DEMO_API_KEY}`).toString('base64')}` },
})
  .then((response) => response.json())
  .then((body) => (body as { bearer_token: string }).bearer_token);
const direct = await run('direct  GET /devices/{id} on the stand-in', {
  url: new URL(`/devices/${SEED_DEVICE_ID}`, standinUrl).href,
  headers: { authorization: `Bearer ${token}` },
});
results.push(direct);

await ask({ type: 'fault503', rate: 0.3 });
results.push(
  await run('faults  devices(20 ids), 30% of upstream calls 503', {
    ...graphql(`query ($ids: [ID!]!) { devices(ids: $ids) { id } }`, { ids: twentyIds }),
    isComplete: noErrors(20),
  }),
);
await ask({ type: 'fault503', rate: 0 });

console.log(`\nbench: ${DURATION_S}s per scenario, ${CONNECTIONS} connections, node ${process.version}\n`);
for (const r of results) {
  const upstream = r.name.startsWith('direct') ? '' : `  upstream calls/request ${r.upstreamPerRequest!.toFixed(2)}`;
  const cpu = r.name.startsWith('direct') ? '' : `  cpu ${r.cpuUsPerRequest!.toFixed(0).padStart(5)} µs/request`;
  console.log(
    `${r.name.padEnd(52)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${String(r.p50).padStart(3)} ms  p99 ${String(r.p99).padStart(4)} ms` +
      `  complete ${((100 * r.complete) / Math.max(1, r.requests)).toFixed(1)}%${upstream}${cpu}`,
  );
}
console.log(`ratio   facade device(id) / direct GET: ${(results[0]!.rps / direct.rps).toFixed(2)}`);
console.log(`ratio   CPU per request, caller JWT / none: ${(withJwt.cpuUsPerRequest! / results[0]!.cpuUsPerRequest!).toFixed(2)}`);

facade.child.kill('SIGTERM');
await facade.exit();
standinChild.disconnect();

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function waitUntilHealthy(url: URL, server: Started = facade): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (server.child.exitCode !== null) throw new Error(`the facade exited:\n${server.output()}`);
    const ok = await fetch(url).then((response) => response.ok, () => false);
    if (ok) return;
    await sleep(50);
  }
  throw new Error('the facade did not become healthy');
}
