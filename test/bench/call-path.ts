/**
 * `npm run bench:call-path`: what one `GET /devices/{id}` costs the facade's process, layer
 * by layer, with no GraphQL around it (issue 17 point 3). Each stack below adds one layer to
 * the one before; all run in this process against the stand-in in a process of its own,
 * with CONCURRENCY calls in flight, each for a device drawn at random from the bench fleet.
 * Stacks alternate in short rounds (A B C … then … C B A), so that whatever else the machine
 * does weighs on every stack alike; the report is the median CPU µs per call of this
 * process over the rounds, and each stack's difference to the one before.
 *
 *   undici Pool       the Node floor's call: `pool.request` and `body.json()`
 *   facade Agent      the facade's dispatcher (src/upstream/dispatcher.ts) instead
 *   client            createFlatpeakClient with no policy: headers, body limit, JSON, zod
 *   + policy          retry, budget, breaker, adaptive limit, attempt timer, metrics
 *   + request calls   the request's own slots and the service token (createRequestCalls)
 *   + device source   in-flight coalescing (createDeviceSource, cache off as by default)
 *
 * Environment: BENCH_CALLS_PER_ROUND (4,000), BENCH_ROUNDS (6 per stack), BENCH_CONCURRENCY (32),
 * BENCH_STACKS (a comma-separated subset, by name: e.g. to profile one with --cpu-prof), BENCH_PIN (proc.ts).
 */
import { Pool } from 'undici';
import { DEMO_ACCOUNT_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY } from '../../tools/standin/server.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { Lifetime } from '../../src/request/lifetime.ts';
import { authorizeWithService, createServiceTokenSource } from '../../src/upstream/auth.ts';
import { createCoalescer } from '../../src/upstream/coalescer.ts';
import { createDeviceSource } from '../../src/upstream/device-source.ts';
import { createDispatcher } from '../../src/upstream/dispatcher.ts';
import { createFlatpeakClient, type CallOptions } from '../../src/upstream/flatpeak.ts';
import { createRequestCalls } from '../../src/upstream/request-calls.ts';
import { createUpstreamPolicy } from '../../src/upstream/resilience.ts';
import { cpuMicrosPerCall, quantile } from './call-rounds.ts';
import { pinTo, SERVER_CORE } from './proc.ts';
import { seededRandom } from './random.ts';
import { benchDeviceId, FLEET_SIZE } from './workloads.ts';
import { forkStandin } from './standin.ts';

const CALLS = Number(process.env.BENCH_CALLS_PER_ROUND ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const standin = await forkStandin();
const standinUrl = standin.url;
const base = new URL(standinUrl);
// This process is the one measured here: a core of its own, the stand-in on the other.
pinTo(0, [standin.pid]);
pinTo(SERVER_CORE, [process.pid]);
const config = loadConfig({
  FLATPEAK_API_URL: standinUrl,
  FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
  FLATPEAK_API_KEY: DEMO_API_KEY,
  CALLER_AUTH: 'none',
  LOG_LEVEL: 'error',
});
const logger = createLogger('error');
const metrics = createMetrics();
const deadline = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + config.requestDeadlineMs });

const random = seededRandom('call-path');
const deviceId = () => benchDeviceId(Math.floor(random() * FLEET_SIZE));

const pool = new Pool(base.origin, { connections: config.upstream.maxConnections });
const agent = createDispatcher(config.upstream);
const plainClient = createFlatpeakClient({ baseUrl: base, dispatcher: agent });
const policy = createUpstreamPolicy(config.upstream, { logger, observer: metrics.upstream });
const client = createFlatpeakClient({ baseUrl: base, dispatcher: agent, policy });
const tokens = createServiceTokenSource({ login: () => client.login(DEMO_ACCOUNT_ID, DEMO_API_KEY, deadline()) });
const token = await tokens.token();
const authorize = authorizeWithService(tokens);
const devices = createDeviceSource({
  coalescer: createCoalescer(),
  cache: undefined,
  ttlMs: 0,
  refreshDeadlineMs: config.requestDeadlineMs,
  observer: metrics.deviceReads,
});

/** One request's context, as src/context.ts makes it (one per CONCURRENCY calls here). */
function requestCalls() {
  const lifetime = new Lifetime();
  const upstream = createRequestCalls({
    authorize,
    lifetime,
    requestId: 'bench',
    traceContext: undefined,
    deadlineAt: Date.now() + config.requestDeadlineMs,
    maxCalls: config.upstream.maxCallsPerRequest,
  });
  return { lifetime, upstream };
}

const call = (): CallOptions => ({ ...deadline(), token });
type Stack = { name: string; get(id: string): Promise<unknown> };
const ALL_STACKS: Stack[] = [
  {
    name: 'undici Pool',
    async get(id) {
      const { body } = await pool.request({ method: 'GET', path: `/devices/${id}`, headers: { authorization: `Bearer ${token}` } });
      return body.json();
    },
  },
  {
    name: 'facade Agent',
    async get(id) {
      const { body } = await agent.request({
        origin: base.origin,
        method: 'GET',
        path: `/devices/${id}`,
        headers: { authorization: `Bearer ${token}` },
      });
      return body.json();
    },
  },
  { name: 'client', get: (id) => plainClient.getDevice(id, call()) },
  { name: '+ policy', get: (id) => client.getDevice(id, call()) },
  {
    name: '+ request calls',
    get(id) {
      const { upstream } = requestCalls();
      return upstream((options) => client.getDevice(id, options));
    },
  },
  {
    name: '+ device source',
    get(id) {
      const { upstream, lifetime } = requestCalls();
      return devices.read('service', id, lifetime, (shared) => upstream((options) => client.getDevice(id, options), shared));
    },
  },
];
const wanted = process.env.BENCH_STACKS?.split(',').map((name) => name.trim());
/** BENCH_STACKS: a comma-separated subset by name (for a profile of one stack). */
const STACKS = wanted ? ALL_STACKS.filter((stack) => wanted.includes(stack.name)) : ALL_STACKS;

/** CPU µs of this process per call, CALLS calls with CONCURRENCY in flight. */
const round = (stack: Stack) => cpuMicrosPerCall(CALLS, CONCURRENCY, () => stack.get(deviceId()));

const results = new Map<Stack, number[]>(STACKS.map((stack) => [stack, []]));
for (const stack of STACKS) await round(stack); // warm-up, unmeasured
for (let i = 0; i < ROUNDS; i += 1) {
  for (const stack of i % 2 === 0 ? STACKS : [...STACKS].reverse()) results.get(stack)!.push(await round(stack));
}
standin.stop();
await Promise.all([pool.close(), agent.close()]);

console.log(`\nCPU µs per GET /devices/{id} in this process: median of ${ROUNDS} rounds × ${CALLS} calls, ${CONCURRENCY} in flight\n`);
console.log('| stack | µs per call | layer adds | rounds (min–max) |\n|---|---:|---:|---:|');
let previous: number | undefined;
for (const stack of STACKS) {
  const values = results.get(stack)!;
  const value = quantile(values, 0.5);
  const added = previous === undefined ? '' : `${value - previous >= 0 ? '+' : '−'}${Math.abs(value - previous).toFixed(0)}`;
  console.log(`| ${stack.name} | ${value.toFixed(0)} | ${added} | ${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)} |`);
  previous = value;
}
process.exit(0);
