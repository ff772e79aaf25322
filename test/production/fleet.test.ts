import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_ACCOUNT_ID, sampleDevices } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, type Standin, startStandin } from '../../tools/standin/server.ts';
import { type Haproxy, haproxyUnavailable, startHaproxy } from '../support/haproxy.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { freePort, root, startCommand, type Started } from '../support/process.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../support/redis.ts';
import { type SseSubscription, subscribeSse } from '../support/sse.ts';

/**
 * A fleet as production runs it: three replicas built by tsc and run by node, one real Redis
 * (REDIS_URL), HAProxy in front health-checking /ready, JWT callers, the device cache on.
 * Under a steady mixed load (one-device and 20-device queries, _entities, mutations, open
 * subscriptions) it goes through a rolling restart and a Redis outage without a failed
 * request, and measures what the fleet shares: the rate limit, pushed device events, polls.
 * Prints a report table (also written to test/artifacts/fleet-report.md).
 */
const INTERVAL_MS = 1_000;
const RATE_PER_SECOND = 10;
const BURST = 40;
const REPLICAS = 3;
const OUT_DIR = 'dist-fleet';
// Every device read costs a token (a 20-device query 20): the load is spread over enough
// callers that none of them comes near its limit; a prime, so that each caller sends every kind.
// The four loops send at most 400 requests a second, a caller's turn comes once in
// LOAD_CALLERS requests, and its four kinds cost about 26 tokens: with 509 callers that is
// about 5 tokens a second against 10. With 257 it was about 10 at full speed, and in one CI
// run a caller's 20-device query was refused RATE_LIMITED during the rolling restart.
const LOAD_CALLERS = 509;

const devices = sampleDevices().slice(3); // the generated ones: 32 ordinary devices
const readDevices = devices.slice(0, 20);
const writtenDevices = devices.slice(20, 24); // mutated and watched by the load
const pollOnOne = devices[28]!;
const pollOnThree = devices[29]!;
const pushed = devices[30]!;

const unavailable = redisUnavailable ?? haproxyUnavailable;
if (unavailable && !process.env.CI) console.warn(`The fleet test is skipped: ${unavailable}`);

const ONE = 'query ($id: ID!) { device(id: $id) { id modelName lastSeen } }';
const TWENTY = `query { ${readDevices.map((device, i) => `d${i}: device(id: "${device.id}") { id modelName }`).join(' ')} }`;
const ENTITIES = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Device { id referenceId } } }';
const RENAME = 'mutation ($id: ID!, $name: String!) { updateDevice(id: $id, input: { modelName: $name }) { device { id modelName } } }';
const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id modelName } }';

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

interface Replica {
  readonly port: number;
  main: Started;
  url: URL;
}

interface Tally {
  requests: number;
  failed: number;
  /** Subscriptions ended by a draining replica (SHUTTING_DOWN) and opened again: expected, not failures. */
  resubscribed: number;
  examples: string[];
}

describe.skipIf(unavailable && !process.env.CI)('a fleet: three compiled replicas, Redis and HAProxy', () => {
  let redis: RedisServer;
  let standin: Standin;
  let idp: IdentityProvider;
  let haproxy: Haproxy;
  let inspect: Redis;
  const replicas: Replica[] = [];
  const loadTokens: string[] = [];
  const rows: Array<[string, string]> = [];
  const scenarios: Array<[string, Tally]> = [];

  function replicaEnv(port: number): Record<string, string> {
    return {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      FLATPEAK_API_URL: standin.url.href,
      FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
      FLATPEAK_API_KEY: DEMO_API_KEY,
      CALLER_AUTH: 'jwt',
      AUTH_JWKS_URL: idp.jwksUrl.href,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      REDIS_URL: redis.url.href,
      DEVICE_CACHE_TTL_MS: '2000',
      DEVICE_POLL_INTERVAL_MS: String(INTERVAL_MS),
      RATE_LIMIT_PER_SECOND: String(RATE_PER_SECOND),
      RATE_LIMIT_BURST: String(BURST),
      // Long enough for HAProxy (two failed checks, 200 ms apart) to stop sending before the listener closes.
      SHUTDOWN_DELAY_MS: '2000',
    };
  }

  async function startReplica(port: number): Promise<Started> {
    const main = startCommand(process.execPath, [join(OUT_DIR, 'main.js')], replicaEnv(port));
    await main.waitForLog((line) => typeof line.url === 'string');
    await main.waitForLog((line) => String(line.msg).startsWith('connected to Redis'));
    return main;
  }

  const token = (subject: string) => idp.token({ claims: { sub: subject, scope: 'devices:read:all devices:write' }, expiresIn: 3600 });

  async function post(url: URL, authorization: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLBody> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${authorization}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    // HAProxy's own error pages are HTML: say which status, not a JSON parse error.
    if (!response.headers.get('content-type')?.includes('json')) throw new Error(`HTTP ${response.status}: ${text.slice(0, 80)}`);
    const body = JSON.parse(text) as GraphQLBody;
    if (!response.ok && !body.errors) throw new Error(`HTTP ${response.status}`);
    return body;
  }

  /** The steady mixed load through HAProxy until `stop`: 4 request loops and 4 open subscriptions. */
  function startLoad(): { stop(): Promise<Tally> } {
    const tally: Tally = { requests: 0, failed: 0, resubscribed: 0, examples: [] };
    const failure = (what: string) => {
      tally.failed += 1;
      if (tally.examples.length < 5) tally.examples.push(what);
    };
    let stopped = false;
    let n = 0;
    const kinds: Array<() => [string, Record<string, unknown>]> = [
      () => [ONE, { id: readDevices[n % readDevices.length]!.id }],
      () => [TWENTY, {}],
      () => [ENTITIES, { r: readDevices.slice(n % 10, (n % 10) + 3).map((device) => ({ __typename: 'Device', id: device.id })) }],
      () => [RENAME, { id: writtenDevices[n % writtenDevices.length]!.id, name: `load ${n}` }],
    ];
    const requestLoop = async () => {
      // Bounded: at most 2,000 requests per loop and scenario, one every ~10 ms at most.
      for (let i = 0; !stopped && i < 2_000; i += 1) {
        n += 1;
        const [query, variables] = kinds[n % kinds.length]!();
        tally.requests += 1;
        try {
          const body = await post(haproxy.url, loadTokens[n % loadTokens.length]!, query, variables);
          if (body.errors)
            failure(`${query.slice(0, 30)}: ${body.errors.map((error) => error.extensions?.code ?? error.message).join(', ')}`);
        } catch (error) {
          failure(`${query.slice(0, 30)}: ${String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const streams = new Set<SseSubscription>();
    const subscriptionLoop = async (device: string, caller: string) => {
      while (!stopped) {
        let stream: SseSubscription;
        tally.requests += 1;
        try {
          stream = await subscribeSse(haproxy.url, WATCH, { id: device }, { authorization: `Bearer ${caller}` });
        } catch (error) {
          failure(`subscribe: ${String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        streams.add(stream);
        for (;;) {
          const event = await stream.next();
          if (event === undefined) {
            // Ended by the server with `complete` after SHUTTING_DOWN, or closed by `stop`.
            if (!stopped && !stream.completed) failure('subscription cut without its end');
            break;
          }
          const code = (event as GraphQLBody).errors?.[0]?.extensions?.code;
          if (code === 'SHUTTING_DOWN') tally.resubscribed += 1;
          else if (code !== undefined) failure(`subscription: ${code}`);
        }
        streams.delete(stream);
      }
    };
    const running = [
      ...Array.from({ length: 4 }, requestLoop),
      ...writtenDevices.map((device, i) => subscriptionLoop(device.id, loadTokens[i]!)),
    ];
    return {
      async stop() {
        stopped = true;
        for (const stream of streams) stream.close();
        await Promise.all(running);
        return tally;
      },
    };
  }

  async function underLoad(name: string, scenario: () => Promise<void>): Promise<Tally> {
    standin.resetLog(); // the stand-in's request log stays small
    const load = startLoad();
    try {
      await scenario();
    } finally {
      scenarios.push([name, await load.stop()]);
    }
    const tally = scenarios.at(-1)![1];
    expect(tally.examples).toEqual([]);
    expect(tally.failed).toBe(0);
    expect(tally.requests).toBeGreaterThan(0);
    return tally;
  }

  const rssMb = (pid: number) => {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? NaN : Math.round(Number(kb) / 1024);
  };
  const gets = (id: string) => standin.requests.filter((request) => request.method === 'GET' && request.path === `/devices/${id}`).length;
  const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const count = (text: string, part: string) => text.split(part).length - 1;

  beforeAll(async () => {
    if (unavailable) throw new Error(`${unavailable} (CI must run it: .ci/run installs it)`);
    // Compiled as `npm run build` compiles, into a directory of the test's own.
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        OUT_DIR,
        '--tsBuildInfoFile',
        join(OUT_DIR, '.tsbuildinfo'),
      ],
      { cwd: root, stdio: 'inherit' },
    );
    [redis, standin, idp] = await Promise.all([startRedis(), startStandin(), startIdentityProvider()]);
    inspect = new Redis(redis.url.href, { lazyConnect: true, maxRetriesPerRequest: 1 });
    inspect.on('error', () => {}); // the outage scenario kills its server too
    loadTokens.push(...(await Promise.all(Array.from({ length: LOAD_CALLERS }, (_, i) => token(`load-${i}`)))));
    const ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
    const started = await Promise.all(ports.map((port) => startReplica(port)));
    replicas.push(...ports.map((port, i) => ({ port, main: started[i]!, url: new URL(`http://127.0.0.1:${port}/graphql`) })));
    haproxy = await startHaproxy(ports);
  }, 180_000);

  afterAll(async () => {
    for (const replica of replicas) replica.main.child.kill('SIGTERM');
    await Promise.all(replicas.map((replica) => replica.main.exit()));
    inspect?.disconnect();
    await haproxy?.close();
    await Promise.all([standin?.close(), redis?.close(), idp?.close()]);
    const table = [
      '| Scenario | Requests | Failed | Subscriptions moved |',
      '| --- | ---: | ---: | ---: |',
      ...scenarios.map(([name, tally]) => `| ${name} | ${tally.requests} | ${tally.failed} | ${tally.resubscribed} |`),
      '',
      '| Measure | Value |',
      '| --- | --- |',
      ...rows.map(([measure, value]) => `| ${measure} | ${value} |`),
    ].join('\n');
    mkdirSync(join(root, 'test', 'artifacts'), { recursive: true });
    writeFileSync(join(root, 'test', 'artifacts', 'fleet-report.md'), `${table}\n`);
    // The replicas' logs, for whoever reads a failure.
    for (const [i, replica] of replicas.entries())
      writeFileSync(join(root, 'test', 'artifacts', `fleet-replica-${i}.log`), replica.main.output());
    console.log(`Fleet report (${REPLICAS} compiled replicas, redis-server, HAProxy; poll interval ${INTERVAL_MS} ms)\n${table}`);
  });

  it('serves a steady mixed load through HAProxy without a failure', async () => {
    await underLoad('steady', () => wait(4_000));
  }, 30_000);

  it('loses no request through a rolling restart: each replica in turn SIGTERMed and replaced', async () => {
    await underLoad('rolling restart', async () => {
      for (const replica of replicas) {
        replica.main.child.kill('SIGTERM');
        expect(await replica.main.exit()).toEqual({ code: 0, signal: null });
        replica.main = await startReplica(replica.port);
        // Back in HAProxy's rotation (it checks every 200 ms) before the next one goes.
        await vi.waitFor(async () => expect((await fetch(new URL('/ready', replica.url))).status).toBe(200));
        await wait(500);
      }
    });
  }, 90_000);

  it('loses no request through a 5 s Redis outage, says so once each way, and shares state in Redis again afterwards', async () => {
    await underLoad('Redis outage (5 s)', async () => {
      await redis.kill();
      await wait(5_000);
      await redis.restart();
      await vi.waitFor(() => expect(replicas.map((replica) => count(replica.main.output(), 'connected to Redis'))).toEqual([2, 2, 2]), {
        timeout: 10_000,
      });
      await wait(1_000); // load after the return, now on shared state again
    });
    // One line each way: lost, and connected again (the failures themselves are counted, and logged once per reason).
    for (const replica of replicas) expect(count(replica.main.output(), '"msg":"lost the connection to Redis')).toBe(1);
    // The fleet's state is in Redis again: rate-limit buckets, cached devices, leases.
    await inspect.connect().catch(() => {});
    expect(await inspect.dbsize()).toBeGreaterThan(0);
  }, 60_000);

  it('limits a caller the same whether it calls one replica or spreads over three', async () => {
    const allowedIn2s = async (subject: string, targets: readonly Replica[]) => {
      const caller = await token(subject);
      const until = performance.now() + 2_000;
      let allowed = 0;
      let i = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (performance.now() < until) {
            i += 1;
            const body = await post(targets[i % targets.length]!.url, caller, ONE, { id: readDevices[0]!.id });
            if (!body.errors) allowed += 1;
            else expect(body.errors[0]!.extensions?.code).toBe('RATE_LIMITED');
          }
        }),
      );
      return allowed;
    };
    const one = await allowedIn2s('limit-on-one', replicas.slice(0, 1));
    const three = await allowedIn2s('limit-on-three', replicas);
    rows.push(['Requests one caller got in 2 s, 1 replica', `${one} (burst ${BURST}, ${RATE_PER_SECOND}/s)`]);
    rows.push(['Requests one caller got in 2 s, spread over 3 replicas', String(three)]);
    expect(Math.abs(three - one)).toBeLessThanOrEqual(Math.ceil(one * 0.1));
  }, 30_000);

  it('pushes a write through one replica to a subscriber on another, and reads it back through a third', async () => {
    const caller = await token('pusher');
    const stream = await subscribeSse(replicas[1]!.url, WATCH, { id: pushed.id }, { authorization: `Bearer ${caller}` });
    try {
      expect((await stream.next())?.data).toMatchObject({ deviceUpdated: { id: pushed.id } });
      const delays: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const name = `pushed ${i}`;
        const startedAt = performance.now();
        const written = await post(replicas[0]!.url, caller, RENAME, { id: pushed.id, name });
        expect(written.errors).toBeUndefined();
        for (;;) {
          const event = await stream.next();
          expect(event).toBeDefined();
          if ((event?.data as { deviceUpdated?: { modelName?: string } }).deviceUpdated?.modelName === name) break;
        }
        delays.push(Math.round(performance.now() - startedAt));
        // Read-your-writes across replicas: the third serves the written device, not an older cached one.
        expect((await post(replicas[2]!.url, caller, ONE, { id: pushed.id })).data).toMatchObject({ device: { modelName: name } });
      }
      delays.sort((a, b) => a - b);
      rows.push([
        'ms from write on replica 0 to event on replica 1 (min / median / max of 5)',
        delays.filter((_, i) => i % 2 === 0).join(' / '),
      ]);
    } finally {
      stream.close();
    }
  }, 30_000);

  it('polls a device once per interval for the whole fleet, whether one replica watches it or three', async () => {
    const caller = await token('watcher');
    const streams: SseSubscription[] = [];
    try {
      const watch = async (replica: Replica, id: string) => {
        const stream = await subscribeSse(replica.url, WATCH, { id }, { authorization: `Bearer ${caller}` });
        streams.push(stream);
        expect((await stream.next())?.data).toMatchObject({ deviceUpdated: { id } });
      };
      await watch(replicas[0]!, pollOnOne.id);
      for (const replica of replicas) await watch(replica, pollOnThree.id);
      // The first GET of each replica fetched its subscriber's first version; from here on, the
      // fleet's pollers alone. A window of 5 intervals, counted on the stand-in.
      const before = [gets(pollOnOne.id), gets(pollOnThree.id)];
      const startedAt = performance.now();
      await wait(5 * INTERVAL_MS);
      const intervals = (performance.now() - startedAt) / INTERVAL_MS;
      const [onOne, onThree] = [(gets(pollOnOne.id) - before[0]!) / intervals, (gets(pollOnThree.id) - before[1]!) / intervals];
      rows.push(['Polls per device per interval, watched on 1 replica', onOne.toFixed(2)]);
      rows.push(['Polls per device per interval, watched on 3 replicas', onThree.toFixed(2)]);
      // About one, as for one replica; three pollers would make about three.
      expect(onThree).toBeGreaterThan(0.5);
      expect(onThree).toBeLessThan(1.5);
      for (const [i, replica] of replicas.entries()) rows.push([`RSS of replica ${i}`, `${rssMb(replica.main.child.pid!)} MB`]);
    } finally {
      for (const stream of streams) stream.close();
    }
  }, 30_000);
});
