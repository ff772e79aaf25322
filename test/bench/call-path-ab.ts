/**
 * `npm run bench:call-path:ab`: is a change to the upstream call path faster? The whole
 * per-device path (device source and coalescer, the request's calls and service token,
 * the policy, the client, the dispatcher), built once from a git ref (A: BENCH_AB_BASE,
 * HEAD by default, compiled under .bench/ab/ as `npm run bench:ab` does) and once from the
 * working tree (B), both in this process, against one stand-in. Each "request" asks for
 * BENCH_DEVICES_PER_REQUEST devices drawn at random (10), sharing one lifetime as a GraphQL
 * request's loads do; 32 are in flight.
 *
 * A and B alternate in short rounds (A B, B A, …) and each round's B / A is kept: the
 * report is the median of those ratios and their spread. Short rounds in one process weigh
 * the machine's moods on both sides alike, which whole servers measured seconds apart do
 * not: where `bench:ab` spread one build against itself over 0.85–1.35, this resolves a
 * few percent (docs/benchmarks.md). It measures no GraphQL, so a speed-up found here
 * still has to show in `bench:ab` on a workload users send.
 *
 * Environment: BENCH_AB_BASE, BENCH_ROUNDS (30), BENCH_CALLS_PER_ROUND (3,000),
 * BENCH_DEVICES_PER_REQUEST (10), BENCH_PIN (proc.ts).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEMO_ACCOUNT_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY } from '../../tools/standin/server.ts';
import { cpuMicrosPerCall, quantile } from './call-rounds.ts';
import { pinTo, SERVER_CORE } from './proc.ts';
import { seededRandom } from './random.ts';
import { checkoutBuild, compileServers } from './servers.ts';
import { forkStandin } from './standin.ts';
import { benchDeviceId, FLEET_SIZE } from './workloads.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const baseRef = process.env.BENCH_AB_BASE ?? 'HEAD';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const CALLS = Number(process.env.BENCH_CALLS_PER_ROUND ?? 3000);
const PER_REQUEST = Number(process.env.BENCH_DEVICES_PER_REQUEST ?? 10);
const IN_FLIGHT = 32;

const { commit, dir } = checkoutBuild(baseRef);
compileServers();
const standin = await forkStandin();
pinTo(0, [standin.pid]);
pinTo(SERVER_CORE, [process.pid]);

/** A side: one request of these ids through the call path, as src/context.ts makes its device calls. */
type Stack = (ids: readonly string[]) => Promise<unknown>;

/**
 * The call path of the compiled tree at `dist`, wired as src/app.ts and src/context.ts wire
 * it (cache off, service credentials, the default limits). The modules are loaded by path
 * and typed loosely: the two trees may differ.
 */
async function buildStack(dist: string): Promise<{ stack: Stack; close(): Promise<void> }> {
  const load = (path: string): Promise<any> => import(pathToFileURL(`${dist}/${path}.js`).href);
  const [config, logger, metrics, lifetime, auth, coalescer, source, dispatcher, flatpeak, calls, resilience] = await Promise.all(
    [
      'config',
      'logger',
      'metrics',
      'request/lifetime',
      'upstream/auth',
      'upstream/coalescer',
      'upstream/device-source',
      'upstream/dispatcher',
      'upstream/flatpeak',
      'upstream/request-calls',
      'upstream/resilience',
    ].map(load),
  );
  const settings = config.loadConfig({
    FLATPEAK_API_URL: standin.url,
    FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
    FLATPEAK_API_KEY: DEMO_API_KEY,
    CALLER_AUTH: 'none',
    LOG_LEVEL: 'error',
  });
  const agent = dispatcher.createDispatcher(settings.upstream);
  const policy = resilience.createUpstreamPolicy(settings.upstream, {
    logger: logger.createLogger('error'),
    observer: metrics.createMetrics().upstream,
  });
  const client = flatpeak.createFlatpeakClient({ baseUrl: new URL(standin.url), dispatcher: agent, policy });
  const deadline = () => ({ signal: AbortSignal.timeout(settings.requestDeadlineMs), deadlineAt: Date.now() + settings.requestDeadlineMs });
  const tokens = auth.createServiceTokenSource({ login: () => client.login(DEMO_ACCOUNT_ID, DEMO_API_KEY, deadline()) });
  await tokens.token();
  const authorize = auth.authorizeWithService(tokens);
  const devices = source.createDeviceSource({
    coalescer: coalescer.createCoalescer(),
    cache: undefined,
    ttlMs: 0,
    refreshDeadlineMs: settings.requestDeadlineMs,
  });
  // Named RequestLifetime before d40d2ac.
  const Lifetime = lifetime.Lifetime ?? lifetime.RequestLifetime;
  const done = new Error('the request is complete');
  return {
    async stack(ids) {
      const requestLifetime = new Lifetime();
      const upstream = calls.createRequestCalls({
        authorize,
        lifetime: requestLifetime,
        requestId: 'bench',
        traceContext: undefined,
        deadlineAt: Date.now() + settings.requestDeadlineMs,
        maxCalls: settings.upstream.maxCallsPerRequest,
      });
      try {
        return await Promise.all(
          ids.map((id) =>
            devices.read('service', id, requestLifetime, (shared: unknown) =>
              upstream((options: unknown) => client.getDevice(id, options), shared),
            ),
          ),
        );
      } finally {
        requestLifetime.end(done);
      }
    },
    close: () => agent.close(),
  };
}

const a = await buildStack(`${root}/${dir}/dist`);
const b = await buildStack(`${root}/dist`);
const random = seededRandom('call-path-ab');
const request = () => Array.from({ length: PER_REQUEST }, () => benchDeviceId(Math.floor(random() * FLEET_SIZE)));

/** CPU µs of this process per device call, CALLS calls in requests of PER_REQUEST, IN_FLIGHT requests at once. */
const round = (stack: Stack) => cpuMicrosPerCall(CALLS, IN_FLIGHT, () => stack(request()), PER_REQUEST);

for (const side of [a, b, a, b]) await round(side.stack); // warm-up, unmeasured
const perSide = { a: [] as number[], b: [] as number[] };
const ratios: number[] = [];
for (let i = 0; i < ROUNDS; i += 1) {
  const order = i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
  const measured = { a: 0, b: 0 };
  for (const side of order) measured[side] = await round((side === 'a' ? a : b).stack);
  perSide.a.push(measured.a);
  perSide.b.push(measured.b);
  ratios.push(measured.b / measured.a);
}
standin.stop();
await Promise.all([a.close(), b.close()]);

const row = (name: string, values: readonly number[]) =>
  `| ${name} | ${quantile(values, 0.5).toFixed(1)} | ${quantile(values, 0).toFixed(1)}–${quantile(values, 1).toFixed(1)} |`;
console.log(
  `\nThe call path, CPU µs per device call in this process: ${ROUNDS} alternating rounds × ${CALLS} calls, ` +
    `requests of ${PER_REQUEST} random devices, ${IN_FLIGHT} in flight\n`,
);
console.log('| side | median | rounds (min–max) |\n|---|---:|---:|');
console.log(row(`A ${baseRef} (${commit.slice(0, 7)})`, perSide.a));
console.log(row('B working tree', perSide.b));
console.log(
  `\nB / A per round: median ${quantile(ratios, 0.5).toFixed(2)}, middle half ${quantile(ratios, 0.25).toFixed(2)}–${quantile(ratios, 0.75).toFixed(2)}, ` +
    `all ${quantile(ratios, 0).toFixed(2)}–${quantile(ratios, 1).toFixed(2)}`,
);
process.exit(0);
