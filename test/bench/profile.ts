/**
 * `npm run bench:profile`: one facade process (or a floor's: PROFILE_SERVER) under the `single` load (or BENCH_WORKLOADS'
 * first) with `--cpu-prof`, for the profile a CPU-per-request change starts from. Writes
 * the .cpuprofile to PROFILE_DIR (./profiles) and prints the busiest packages and functions
 * by self time. PROFILE=0 measures without the profiler (for paired A/B runs);
 * PROFILE=alloc samples what the facade allocates instead, garbage included, and writes a
 * .heapprofile (allocation.ts); PROFILE=gc runs it with `--trace-gc-nvp` and prints what its
 * scavenges paused, kept and promoted (gc-trace.ts);
 * FACADE_NODE_OPTIONS adds Node options (e.g. --max-semi-space-size=32);
 * PROFILE_SERVER=floor or yoga-floor profiles that floor instead (servers.ts), for the same
 * tables of what the least a request costs. BENCH_LATENCY_MS sets the stand-in's latency
 * (standin.ts); BENCH_RATE sends that many requests per second open-loop instead of keeping
 * BENCH_CONNECTIONS busy (load.ts).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, startCommand, startMain } from '../support/process.ts';
import { measure, rateFromEnv } from './load.ts';
import { compileServers, FLOORS, facadeEnv, floorEntry, floorEnv } from './servers.ts';
import type { StandinCommand, StandinStats } from './standin-process.ts';
import { WORKLOADS } from './workloads.ts';
import { forkStandin, latencyFromEnv } from './standin.ts';
import { printAllocations, sampleAllocations } from './allocation.ts';
import { type CallFrame, frameOf, packageOf, topShares } from './frames.ts';
import { connectInspector } from '../support/heap.ts';
import { scavengeStats } from './gc-trace.ts';

const dir = resolve(process.env.PROFILE_DIR ?? 'profiles');
mkdirSync(dir, { recursive: true });
const workload = WORKLOADS.find((w) => w.name === (process.env.BENCH_WORKLOADS ?? 'single').split(',')[0])!;
const seconds = Number(process.env.BENCH_DURATION_S ?? 8);
const rate = rateFromEnv();

const latencyMs = latencyFromEnv();
const standin = await forkStandin();
const standinUrl = standin.url;
const ask = <T>(command: StandinCommand) => standin.ask<T>(command);
await ask({ type: 'latency', ms: latencyMs });

const port = await freePort();
const before = new Set(readdirSync(dir));
const extra = (process.env.FACADE_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
const requested = process.env.PROFILE;
const mode = requested === '0' ? 'none' : requested === 'alloc' || requested === 'gc' ? requested : 'cpu';
const MODE_OPTIONS: Record<typeof mode, string[]> = {
  cpu: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  alloc: ['--inspect=127.0.0.1:0'],
  gc: ['--trace-gc-nvp'],
  none: [],
};
const nodeOptions = [...extra, ...MODE_OPTIONS[mode]];
const floorPath = process.env.PROFILE_SERVER ? floorEntry(process.env.PROFILE_SERVER) : undefined;
if (process.env.PROFILE_SERVER && !floorPath) throw new Error(`PROFILE_SERVER: one of ${FLOORS.join(', ')}`);
// As the bench runs it: compiled, as `npm start` runs it (TSX=1: the facade from source,
// through tsx; a floor is always compiled).
if (process.env.TSX !== '1' || floorPath) compileServers();
const env = { ...facadeEnv(standinUrl, port), ...(floorPath ? floorEnv() : {}) };
const server = floorPath
  ? startCommand(process.execPath, [...nodeOptions, floorPath], env)
  : process.env.TSX === '1'
    ? startMain(env, { nodeOptions })
    : startCommand(process.execPath, [...nodeOptions, 'dist/main.js'], env);
const url = `http://127.0.0.1:${port}`;
if (floorPath) await server.waitForLog((line) => line.msg === 'listening');
else {
  for (
    let i = 0;
    i < 200 &&
    !(await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    ));
    i += 1
  )
    await new Promise((r) => setTimeout(r, 50));
}
const inspector = mode === 'alloc' ? await connectInspector(server.output) : undefined;
// From the warm-up on: what the JIT compiles then is a small share of the bytes.
const allocations = inspector ? await sampleAllocations(inspector) : undefined;
// The collections of the warm-up and the measured seconds, not those of start-up.
const outputBefore = server.output().length;
const measured = await measure(
  // The floors answer at / (as startPlain aims at them), the facade at its endpoint.
  [`${url}${floorPath ? '/' : '/graphql'}`],
  [server.child.pid!],
  { method: 'POST', bodies: workload.bodies },
  {
    seconds,
    warmupSeconds: 2,
    connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
    rate,
    upstreamStats: () => ask<StandinStats>({ type: 'stats' }),
  },
);
const allocated = await allocations?.stop();
inspector?.close();
server.child.kill('SIGTERM');
await server.exit();
standin.stop();
console.log(
  `${workload.name}: ${Math.round(measured.rps)} req/s, ${Math.round(measured.cpuUsPerRequest)} µs CPU per request, ${measured.upstreamPerRequest.toFixed(3)} upstream/req, p50 ${measured.p50.toFixed(1)} ms, p99 ${measured.p99.toFixed(1)} ms`,
);

if (allocated) {
  const file = join(dir, `allocations.${Date.now()}.heapprofile`);
  writeFileSync(file, JSON.stringify(allocated));
  console.log(`\n${file}`);
  printAllocations(allocated);
}
if (mode === 'gc') {
  const gc = scavengeStats(server.output().slice(outputBefore));
  console.log(
    `scavenges: ${gc.scavenges}, pause ${gc.pauseMs.mean.toFixed(2)} ms on average (at most ${gc.pauseMs.max.toFixed(1)}), ` +
      `${Math.round(gc.survived / 1024)} KB kept and ${Math.round(gc.promoted / 1024)} KB promoted each; full collections: ${gc.fullCollections}`,
  );
}
if (mode !== 'cpu') process.exit(0);
const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile') && !before.has(name));
if (!file) throw new Error('no profile written');
interface Node {
  id: number;
  callFrame: CallFrame;
}
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id)!;
  const dt = profile.timeDeltas[i] ?? 0;
  const { functionName, url } = node.callFrame;
  if (functionName === '(idle)' || functionName === '(program)') return;
  total += dt;
  const key = frameOf(node.callFrame);
  self.set(key, (self.get(key) ?? 0) + dt);
  const pkg = functionName === '(garbage collector)' ? 'GC' : packageOf(url);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + dt);
});
console.log(
  `\n${join(dir, file)}\n\nby package (share of busy time):\n${topShares(byPackage, total, 25)}\n\nby function (self time):\n${topShares(self, total, 40)}`,
);
