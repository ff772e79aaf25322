import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyPaths, envOf, execForm, instructionsOf, parseDockerfile } from '../support/dockerfile.ts';
import { root } from '../support/process.ts';

// No Docker engine runs here: the Dockerfile's facts are checked as text, and
// install.test.ts replays its steps and runs what they produce.
const stages = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const [build, runtime] = [stages[0]!, stages.at(-1)!];
const runs = (stage: typeof build) => instructionsOf(stage, 'RUN').flatMap(({ args }) => args.split('&&').map((step) => step.trim()));

describe('Dockerfile', () => {
  it('builds in one stage and runs from another, both on Node 24 LTS slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const { image } of stages) expect(image).toMatch(/^node:24(\.\d+){0,2}(-[a-z]+)?-slim$/);
    expect(build.name).toBeDefined();
  });

  it('installs everything and compiles in the build stage', () => {
    const steps = runs(build);
    expect(steps.some((step) => /^npm ci(\s|$)/.test(step) && !step.includes('--omit=dev'))).toBe(true);
    expect(steps).toContain('npm run build');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
  });

  it('installs production dependencies only in the last stage and takes nothing but dist/ from the build', () => {
    const steps = runs(runtime);
    const installs = steps.filter((step) => step.startsWith('npm '));
    expect(installs.filter((step) => step.startsWith('npm ci'))).toEqual([expect.stringMatching(/^npm ci --omit=dev(\s|$)/)]);
    expect(installs.every((step) => step.startsWith('npm ci') || step === 'npm cache clean --force')).toBe(true);
    const copies = instructionsOf(runtime, 'COPY');
    const fromBuild = copies.filter((copy) => copy.flags.from !== undefined).flatMap((copy) => copyPaths(copy).sources);
    expect(fromBuild).toEqual(['/app/dist']);
    const fromContext = copies.filter((copy) => copy.flags.from === undefined).flatMap((copy) => copyPaths(copy).sources);
    expect(fromContext).not.toContain('.');
    expect(fromContext.filter((source) => /node_modules|^src|^test/.test(source))).toEqual([]);
  });

  it('runs node itself as the unprivileged node user, under an init, on 0.0.0.0, with a HEALTHCHECK on /health', () => {
    const last = (op: string) => instructionsOf(runtime, op).at(-1)?.args;
    expect(last('USER')).toBe('node');
    expect(execForm(last('CMD')!)).toEqual(['node', 'dist/main.js']);
    expect(execForm(last('ENTRYPOINT')!)).toEqual(['/usr/bin/tini', '--']);
    expect(runs(runtime).some((step) => /apt-get install .*\btini\b/.test(step))).toBe(true);
    expect(envOf(runtime)).toMatchObject({ HOST: '0.0.0.0', NODE_ENV: 'production', NODE_OPTIONS: '--max-semi-space-size=32' });
    const healthcheck = last('HEALTHCHECK')!;
    expect(healthcheck).toMatch(/^CMD \[/);
    expect(healthcheck).toContain('/health`');
    // Everything after USER runs as node: nothing may follow it that needs root.
    const ops = runtime.instructions.map((instruction) => instruction.op);
    expect(ops.slice(ops.lastIndexOf('USER'))).not.toContain('RUN');
  });

  it('sends only what it copies as the build context (.dockerignore)', () => {
    const lines = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines[0]).toBe('**'); // everything out first…
    const allowed = lines.slice(1).map((line) => {
      expect(line.startsWith('!')).toBe(true); // …then only exceptions
      return line.slice(1);
    });
    const copied = stages.flatMap((stage) =>
      instructionsOf(stage, 'COPY')
        .filter((copy) => copy.flags.from === undefined)
        .flatMap((copy) => copyPaths(copy).sources),
    );
    expect(new Set(allowed)).toEqual(new Set(copied));
  });
});
