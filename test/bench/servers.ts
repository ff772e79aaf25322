/**
 * The servers the bench measures, each a process of its own started fresh against the
 * stand-in, each compiled to plain JavaScript first and run by `node` as production runs
 * it: the facade (`node dist/main.js`, as `npm start` and the image run it), the Apollo
 * baseline and the floors (Node and Yoga). Through tsx each would pay for its transforms (esbuild's `keepNames` wraps
 * every closure), the facade most: about 5 % of its CPU per request.
 * A target is what the load generator aims at (one URL per replica) and the processes whose
 * CPU time and memory are its cost.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_ACCOUNT_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY } from '../../tools/standin/server.ts';
import { freePort, startCommand } from '../support/process.ts';

export interface Target {
  readonly name: string;
  /** GraphQL endpoints, one per replica; the load is spread evenly over them. */
  readonly urls: readonly string[];
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const BASELINE_ENTRY = '.bench/dist/baseline/server.js';
/**
 * The floors by the name BENCH_AB_BASE and PROFILE_SERVER know them by: their compiled entry
 * points, and how the bench's tables name them.
 */
const FLOOR_TABLE: Readonly<Record<string, { readonly entry: string; readonly name: string }>> = {
  floor: { entry: '.bench/dist/floor/server.js', name: 'node-floor' },
  'yoga-floor': { entry: '.bench/dist/floor/yoga.js', name: 'yoga-floor' },
};
export const FLOORS = Object.keys(FLOOR_TABLE);
const floorOf = (floor: string) => (Object.hasOwn(FLOOR_TABLE, floor) ? FLOOR_TABLE[floor] : undefined);

/** The compiled entry point of the floor named `floor`, or undefined if there is none of that name. */
export const floorEntry = (floor: string): string | undefined => floorOf(floor)?.entry;

/** How the bench's tables name a floor: the Yoga floor's rows say when it is served by Yoga's own handler. */
export function floorName(floor: string): string {
  const name = floorOf(floor)?.name ?? floor;
  return floor === 'yoga-floor' && process.env.YOGA_FLOOR_HTTP === 'yoga' ? `${name} (its HTTP handler)` : name;
}

/** What a floor's process is given besides the stand-in's address: YOGA_FLOOR_HTTP (floor/yoga.ts), when set. */
export function floorEnv(): Record<string, string> {
  return process.env.YOGA_FLOOR_HTTP ? { YOGA_FLOOR_HTTP: process.env.YOGA_FLOOR_HTTP } : {};
}

/**
 * The facade as a git ref has it: checked out with `git worktree` under .bench/ab/ (once per
 * commit: the directory is named for it) and compiled with its own tsconfig.build.json, to
 * run on this checkout's node_modules. Returns the commit and the directory.
 */
export function checkoutBuild(ref: string): { readonly commit: string; readonly dir: string } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  const dir = `.bench/ab/${commit.slice(0, 12)}`;
  if (!existsSync(`${root}/${dir}`)) git('worktree', 'add', '--detach', dir, commit);
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  execFileSync(process.execPath, [tsc, '-p', `${dir}/tsconfig.build.json`], { cwd: root, stdio: 'inherit' });
  return { commit, dir };
}

/** `npm run build`'s compilation, and the same for the baseline and the floors, before anything is started. */
export function compileServers(): void {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  for (const project of ['tsconfig.build.json', 'test/bench/baseline/tsconfig.json', 'test/bench/floor/tsconfig.json']) {
    execFileSync(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' });
  }
}

/** The facade as the bench runs it: no caller auth, no per-caller limit, errors-only logs. */
export function facadeEnv(standinUrl: string, port: number): Record<string, string> {
  return {
    // As the image runs it (Dockerfile), and as the baseline runs: graphql-js skips its
    // development-only checks (a cross-realm instanceof test on every type lookup).
    NODE_ENV: 'production',
    // As the image runs it (Dockerfile's ENV); deploy/kubernetes adds the heap cap.
    NODE_OPTIONS: '--max-semi-space-size=32',
    PORT: String(port),
    LOG_LEVEL: 'error',
    FLATPEAK_API_URL: standinUrl,
    FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
    FLATPEAK_API_KEY: DEMO_API_KEY,
    CALLER_AUTH: 'none',
    // The per-caller limit is on by default; every bench request comes from one caller.
    RATE_LIMIT_PER_SECOND: '0',
  };
}

/**
 * One facade process; `env` overrides the bench defaults (e.g. CALLER_AUTH=jwt), `entry`
 * runs another build (`npm run bench:ab`'s base).
 */
export async function startFacade(name: string, standinUrl: string, env: Record<string, string> = {}, entry?: string): Promise<Target> {
  return startFacadeReplicas(name, 1, standinUrl, env, entry);
}

/**
 * `count` facade processes side by side, measured as one target (CPU time and RSS summed).
 * The later "two replicas sharing Redis" row is this with `{ REDIS_URL }` in `env`.
 */
export async function startFacadeReplicas(
  name: string,
  count: number,
  standinUrl: string,
  env: Record<string, string> = {},
  entry = 'dist/main.js',
): Promise<Target> {
  const replicas = await Promise.all(
    Array.from({ length: count }, async () => {
      const port = await freePort();
      const started = startCommand(process.execPath, [entry], { ...facadeEnv(standinUrl, port), ...env });
      const url = `http://127.0.0.1:${port}`;
      // With error-level logs the "listening" line is not printed: poll /health instead.
      await waitFor(
        started.child,
        () =>
          fetch(`${url}/health`).then(
            (response) => response.ok,
            () => false,
          ),
        started.output,
      );
      return { url: `${url}/graphql`, child: started.child, exit: started.exit };
    }),
  );
  return {
    name,
    urls: replicas.map((replica) => replica.url),
    pids: replicas.map((replica) => replica.child.pid!),
    async stop() {
      for (const replica of replicas) replica.child.kill('SIGTERM');
      await Promise.all(replicas.map((replica) => replica.exit()));
    },
  };
}

/** The Apollo Server 5 + RESTDataSource baseline of `baseline/server.ts`. */
export function startBaseline(name: string, standinUrl: string): Promise<Target> {
  return startPlain(name, BASELINE_ENTRY, standinUrl, {});
}

/**
 * A floor of `FLOOR_TABLE`: `floor` is the bare node:http + graphql-jit server of
 * `floor/server.ts`, `yoga-floor` the same schema and loader run by graphql-yoga (`floor/yoga.ts`).
 */
export function startFloor(name: string, standinUrl: string, floor = 'floor'): Promise<Target> {
  const entry = floorEntry(floor);
  if (!entry) throw new Error(`no floor named ${floor} (known: ${FLOORS.join(', ')})`);
  // The facade's Node options too, so that facade / floor compares code, not V8 settings.
  return startPlain(name, entry, standinUrl, { NODE_OPTIONS: facadeEnv(standinUrl, 0).NODE_OPTIONS!, ...floorEnv() });
}

/** A compiled server that takes the stand-in's credentials and prints `{"msg":"listening"}`. */
async function startPlain(name: string, entry: string, standinUrl: string, env: Record<string, string>): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      // What Apollo's deployment docs ask for in production (no stack traces in errors); for
      // the floors, graphql-js skips its development-only checks, as in the facade.
      NODE_ENV: 'production',
      PORT: String(port),
      FLATPEAK_API_URL: standinUrl,
      FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
      FLATPEAK_API_KEY: DEMO_API_KEY,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'exit');
  await waitFor(
    child,
    async () => output.includes('"msg":"listening"'),
    () => output,
  );
  return {
    name,
    urls: [`http://127.0.0.1:${port}/`],
    pids: [child.pid!],
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitFor(child: ChildProcess, ready: () => Promise<boolean>, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`a server under test exited:\n${output()}`);
    if (await ready()) return;
    await sleep(50);
  }
  throw new Error(`a server under test did not start within 20 s:\n${output()}`);
}
