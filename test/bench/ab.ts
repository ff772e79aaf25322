/**
 * `npm run bench:ab`: is this change faster? The facade built from a git ref (A, the base:
 * BENCH_AB_BASE, HEAD by default) against the facade built from the working tree (B), both
 * started fresh against one stand-in and measured in alternating rounds (paired.ts) on each
 * workload of BENCH_WORKLOADS (single), at the stand-in latency BENCH_LATENCY_MS (0). Prints
 * one paired table per workload; asserts nothing. The base is checked out with `git worktree`
 * under .bench/ab/ and compiled with its own tsconfig.build.json; it runs on this checkout's
 * node_modules.
 *
 * Environment (all optional): BENCH_AB_BASE (a git ref, `floor`, `yoga-floor` or `apollo`), BENCH_AB_B_ENV (settings for B only), BENCH_WORKLOADS, BENCH_AB_ROUNDS (6 per side),
 * BENCH_AB_ROUND_S (3), BENCH_CONNECTIONS (32), BENCH_RATE (open-loop requests per second; unset: closed loop), BENCH_LATENCY_MS (standin.ts), BENCH_PIN
 * (proc.ts), YOGA_FLOOR_HTTP (floor/yoga.ts).
 */
import { rateFromEnv } from './load.ts';
import { alternate } from './paired.ts';
import { pinTo, SERVER_CORE } from './proc.ts';
import { checkoutBuild, compileServers, floorEntry, floorName, startBaseline, startFacade, startFloor } from './servers.ts';
import type { StandinCommand, StandinStats } from './standin-process.ts';
import { WORKLOADS } from './workloads.ts';
import { forkStandin, latencyFromEnv } from './standin.ts';

const baseRef = process.env.BENCH_AB_BASE ?? 'HEAD';
/**
 * BENCH_AB_BASE=floor: the Node floor (floor/server.ts) as A, for the ratio issue 17 sets;
 * `yoga-floor`: the same on graphql-yoga (floor/yoga.ts), for what the facade adds to Yoga.
 */
const againstFloor = floorEntry(baseRef) !== undefined;
/** BENCH_AB_BASE=apollo: the Apollo Server + RESTDataSource baseline (baseline/server.ts) as A, for issue 17's ratios to it. */
const againstBaseline = baseRef === 'apollo';
const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 6);
const roundSeconds = Number(process.env.BENCH_AB_ROUND_S ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
// Both sides at one offered load: CPU per request depends on it (docs/benchmarks.md), and
// closed-loop rounds load each side as fast as it answers.
const rate = rateFromEnv();
const workloads = (process.env.BENCH_WORKLOADS ?? 'single').split(',').map((name) => {
  const workload = WORKLOADS.find((w) => w.name === name.trim());
  if (!workload) throw new Error(`BENCH_WORKLOADS: unknown workload ${name} (known: ${WORKLOADS.map((w) => w.name).join(', ')})`);
  return workload;
});

const latencyMs = latencyFromEnv();

// BENCH_AB_B_ENV: settings for B only, as NAME=value pairs separated by spaces, to A/B a setting.
const bEnvText = process.env.BENCH_AB_B_ENV ?? '';
const bEnv = Object.fromEntries(
  bEnvText
    .split(' ')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`BENCH_AB_B_ENV: expected NAME=value pairs separated by spaces, got ${JSON.stringify(pair)}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
);

const { commit: base, dir: baseDir } = againstFloor || againstBaseline ? { commit: '', dir: '' } : checkoutBuild(baseRef);
compileServers();

const standin = await forkStandin();
const standinUrl = standin.url;
const ask = <T>(command: StandinCommand) => standin.ask<T>(command);
await ask({ type: 'latency', ms: latencyMs });

pinTo(0, [process.pid, standin.pid]);

const env = { FLATPEAK_MAX_QUEUE: String(Math.max(4096, connections * 50)) };
const a = againstFloor
  ? await startFloor(`A ${floorName(baseRef)}`, standinUrl, baseRef)
  : againstBaseline
    ? await startBaseline('A apollo-baseline', standinUrl)
    : await startFacade(`A ${baseRef} (${base.slice(0, 7)})`, standinUrl, env, `${baseDir}/dist/main.js`);
const b = await startFacade(`B working tree${bEnvText ? ` (${bEnvText})` : ''}`, standinUrl, {
  ...env,
  ...bEnv,
});
pinTo(SERVER_CORE, [...a.pids, ...b.pids]);
try {
  for (const workload of workloads) {
    const load = { method: 'POST' as const, bodies: workload.bodies, headers: {} };
    // A fault workload (batch20-503) measures both sides under its faults, as `bench` does.
    await ask({ type: 'fault503', rate: workload.upstream503 ?? 0 });
    console.log(
      `\n${await alternate(
        `${workload.name}, latency ${latencyMs} ms`,
        { name: a.name, target: a, load },
        { name: b.name, target: b, load },
        { rounds, roundSeconds, connections, rate, upstreamStats: () => ask<StandinStats>({ type: 'stats' }) },
      )}`,
    );
  }
} finally {
  await Promise.all([a.stop(), b.stop()]);
  standin.stop();
}
