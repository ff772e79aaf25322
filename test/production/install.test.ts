import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT_ID, SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, startStandin } from '../../tools/standin/server.ts';
import { copyPaths, envOf, execForm, instructionsOf, parseDockerfile, type Stage } from '../support/dockerfile.ts';
import { freePort, root, startCommand, type Started } from '../support/process.ts';

const run = promisify(execFile);
const WORKDIR = '/app';
const npmEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', npm_config_update_notifier: 'false' };

// The production image without Docker: the Dockerfile's own steps, replayed in a temporary
// directory per stage, then its CMD. What the service needs at run time must be in what
// the last stage copies and installs (production dependencies only).
const stages = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;
let scratch: string;
let app: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'flatpeak-graph-image-'));
  const built: Record<string, string> = {};
  for (const [index, stage] of stages.entries()) {
    const into = join(scratch, stage.name ?? String(index));
    await replay(stage, into, built);
    built[stage.name ?? String(index)] = into;
  }
  app = built[runtime.name ?? String(stages.length - 1)]!;
}, 180_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs a stage's WORKDIR, COPY and RUN steps with `into` standing for its /app. */
async function replay(stage: Stage, into: string, built: Record<string, string>): Promise<void> {
  mkdirSync(into, { recursive: true });
  for (const instruction of stage.instructions) {
    if (instruction.op === 'WORKDIR') {
      expect(instruction.args).toBe(WORKDIR); // the only layout the replay maps
    } else if (instruction.op === 'COPY') {
      const { sources, destination } = copyPaths(instruction);
      const from = instruction.flags.from;
      for (const source of sources) {
        const hostSource =
          from === undefined ? join(root, source) : join(built[from] ?? fail(`no stage ${from}`), posix.relative(WORKDIR, source));
        let target = join(into, posix.relative(WORKDIR, posix.resolve(WORKDIR, destination)));
        if (!statSync(hostSource).isDirectory() && destination.endsWith('/')) target = join(target, basename(source));
        mkdirSync(dirname(target), { recursive: true });
        cpSync(hostSource, target, { recursive: true });
      }
    } else if (instruction.op === 'RUN') {
      for (const step of instruction.args.split('&&').map((part) => part.trim())) await runStep(step, into);
    }
  }
}

async function runStep(step: string, into: string): Promise<void> {
  const words = step.split(/\s+/);
  if (words[0] === 'apt-get' || step === 'rm -rf /var/lib/apt/lists/*') return; // the image's init (tini), not the app
  if (step === 'npm cache clean --force') return; // would empty this machine's cache
  if (step.startsWith('npm ci') && !words.includes('--omit=dev')) {
    // The build stage's full install: the repository's own, made by `npm ci` from the same lock file.
    expect(readFileSync(join(into, 'package-lock.json'), 'utf8')).toBe(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    symlinkSync(join(root, 'node_modules'), join(into, 'node_modules'));
    return;
  }
  if (step.startsWith('npm ci') || step === 'npm run build') {
    // From the local npm cache where it can: CI has it warm after its own `npm ci`.
    const args = [...words.slice(1), ...(words[1] === 'ci' ? ['--prefer-offline'] : [])];
    await run('npm', args, { cwd: into, env: npmEnv, timeout: 150_000 });
    return;
  }
  throw new Error(`the replay does not know the Dockerfile step "${step}": teach it here`);
}

function fail(message: string): never {
  throw new Error(message);
}

/** The image's CMD in its /app with its ENV, on a loopback ephemeral port instead of 0.0.0.0:4000. */
function startImage(env: Record<string, string> = {}): Started {
  const [command, ...args] = execForm(instructionsOf(runtime, 'CMD').at(-1)!.args);
  expect(command).toBe('node');
  return startCommand(process.execPath, args, { ...envOf(runtime), HOST: '127.0.0.1', PORT: '0', ...env }, app);
}

const seedQuery = (url: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { modelName manufacturer } }` }),
  }).then((response) => response.json());

/** The image's HEALTHCHECK command against the service's port: its exit code. */
async function healthcheck(port: string): Promise<number> {
  const [command, ...args] = execForm(
    instructionsOf(runtime, 'HEALTHCHECK')
      .at(-1)!
      .args.replace(/^CMD\s+/, ''),
  );
  expect(command).toBe('node');
  return run(process.execPath, args, { env: { PORT: port }, timeout: 10_000 }).then(
    () => 0,
    (error: { code?: number }) => error.code ?? 1,
  );
}

describe('the production image, replayed', () => {
  it('holds production dependencies only, and neither the stand-in nor its sample data', () => {
    for (const dev of ['typescript', 'tsx', 'vitest']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'src'))).toBe(false);
    expect(existsSync(join(app, 'tools'))).toBe(false);
    expect(existsSync(join(app, 'dist', 'main.js'))).toBe(true);
    const compiled = readdirSync(join(app, 'dist'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js'));
    expect(compiled.filter((file) => /standin/i.test(file))).toEqual([]);
    for (const file of compiled) {
      const text = readFileSync(join(app, 'dist', file), 'utf8');
      expect(text, file).not.toContain(DEMO_API_KEY);
      expect(text, file).not.toContain(DEMO_ACCOUNT_ID);
    }
  });

  it('refuses to start without FLATPEAK_API_URL (the image sets NODE_ENV=production), naming it', async () => {
    expect(envOf(runtime).NODE_ENV).toBe('production');
    const service = startImage();
    expect((await service.exit()).code).toBe(1);
    expect(service.output()).toMatch(/FLATPEAK_API_URL: must be set when NODE_ENV is production/);
  });

  it('serves the seed query, GraphiQL and the probes from its upstream, passes its HEALTHCHECK, and stops on SIGTERM', async () => {
    const standin = await startStandin();
    const metricsPort = await freePort();
    const service = startImage({
      FLATPEAK_API_URL: standin.url.href,
      FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
      FLATPEAK_API_KEY: DEMO_API_KEY,
      CALLER_AUTH: 'none',
      METRICS_PORT: String(metricsPort),
    });
    try {
      const listening = await service.waitForLog((line) => typeof line.url === 'string' && line.url.endsWith('/graphql'));
      expect(listening).toMatchObject({ upstream: 'flatpeak', sampleData: false });
      const url = String(listening.url);
      expect(await seedQuery(url)).toEqual({ data: { device: { modelName: 'Pico Ultimate', manufacturer: 'Nova Systems' } } });
      expect(standin.count(`/devices/${SEED_DEVICE_ID}`)).toBe(1);
      const page = await fetch(url, { headers: { accept: 'text/html' } });
      expect(await page.text()).toContain(SEED_DEVICE_ID);
      for (const path of ['/health', '/ready']) expect((await fetch(new URL(path, url))).status, path).toBe(200);
      // Metrics on their own port only (issue 21): they count every caller's requests.
      expect((await fetch(new URL('/metrics', url))).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
      expect(await healthcheck(new URL(url).port)).toBe(0);
      service.child.kill('SIGTERM');
      expect(await service.exit()).toEqual({ code: 0, signal: null });
      expect(await healthcheck(new URL(url).port)).not.toBe(0);
    } finally {
      service.child.kill('SIGKILL');
      await standin.close();
    }
  });
});
