/**
 * Every GraphQL operation and curl command of README.md and docs/*.md, run as written
 * against the service as `npm start` runs it from a clone (tools/dev.ts without
 * FLATPEAK_API_URL: the development stand-in, CALLER_AUTH=none), each documented answer
 * checked. One service per Markdown file (and per `example-env` of it), so that one
 * file's writes do not change another file's answers; a file's examples run in their
 * order, as a reader would run them.
 * The markup is described in test/support/doc-examples.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DocExample, extractExamples, fillPlaceholders, missingLines } from './support/doc-examples.ts';
import { freePort, freePorts, root, type Started, startDev } from './support/process.ts';
import { subscribeSse } from './support/sse.ts';

const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const documented = files.map((file) => ({ file, ...extractExamples(file, readFileSync(join(root, file), 'utf8')) }));

// The curl commands run with the real curl; .ci/run installs it when missing.
const CURL = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].find((path) => existsSync(path));
const noCurl = 'curl is missing: install it (apt-get install curl) to run the documentation’s curl examples';

/** How long one example may take: a subscription's first event comes with its first poll. */
const EXAMPLE_TIMEOUT_MS = 30_000;

interface QuickStart {
  readonly started: Started;
  readonly url: URL;
  readonly metrics: URL;
}

const services = new Map<string, QuickStart>();
const serviceKey = (file: string, example: DocExample) => `${file} ${JSON.stringify(example.env)}`;

beforeAll(async () => {
  // One quick-start service per file (and environment) that has examples, started together.
  const wanted = new Map(
    documented.flatMap(({ file, examples }) => examples.map((example) => [serviceKey(file, example), example.env] as const)),
  );
  // Metrics on a port of their own, as in production (documented as localhost:9464);
  // chosen together, so that no two services are given the same one.
  const metricsPorts = await freePorts(wanted.size);
  await Promise.all(
    [...wanted].map(async ([key, env], i) => {
      services.set(key, await startQuickStart(env, metricsPorts[i]!));
    }),
  );
}, 120_000);

/**
 * One quick-start service with its metrics on `metricsPort`. A port free when chosen can be
 * taken before the service binds it: the services start together, each with a stand-in and
 * a GraphQL port the system picks (port 0), and once one of those took a metrics port
 * (EADDRINUSE, the service exits). Then the service is started again on another port.
 */
async function startQuickStart(env: Record<string, string>, metricsPort: number, attempts = 3): Promise<QuickStart> {
  const started = startDev({ PORT: '0', METRICS_PORT: String(metricsPort), LOG_LEVEL: 'info', ...env });
  try {
    const line = await started.waitForLog((entry) => typeof entry.url === 'string' && String(entry.msg).includes('listening'));
    const metrics = new URL(`http://127.0.0.1:${metricsPort}/metrics`);
    await started.waitForLog((entry) => entry.url === metrics.href);
    return { started, url: new URL(String(line.url)), metrics };
  } catch (error) {
    if (attempts <= 1 || !started.output().includes('EADDRINUSE')) throw error;
    await started.exit();
    return startQuickStart(env, await freePort(), attempts - 1);
  }
}

afterAll(async () => {
  await Promise.all(
    [...services.values()].map(async ({ started }) => {
      started.child.kill('SIGTERM');
      await started.exit();
    }),
  );
});

describe.each(documented.filter(({ examples, notRun }) => examples.length + notRun.length > 0))('$file', ({ file, examples, notRun }) => {
  for (const example of examples) {
    it(
      example.name,
      async (context) => {
        if (example.kind === 'shell' && !CURL) {
          if (process.env.CI) throw new Error(`${noCurl} (CI must run them: .ci/run installs it)`);
          context.skip(noCurl);
          return;
        }
        const service = services.get(serviceKey(file, example))!;
        await run(example, service.url, service.metrics);
      },
      EXAMPLE_TIMEOUT_MS + 5_000,
    );
  }
  for (const { name, reason } of notRun) it.skip(`${name} — not run: ${reason}`);
});

async function run(example: DocExample, url: URL, metrics: URL): Promise<void> {
  const result = example.result!;
  if (example.kind === 'graphql') {
    const actual = example.operationType === 'subscription' ? await firstEvent(example, url) : await post(example, url);
    const expected: unknown = JSON.parse(result.text);
    expect(actual, example.name).toMatchObject(fillPlaceholders(expected, actual) as object);
    return;
  }
  const output = await runShell(example.source, url, metrics, result.format === 'text' ? result.text : undefined);
  if (result.format === 'text') {
    expect(missingLines(result.text, output), `${example.name}: lines missing from curl's output:\n${output}`).toEqual([]);
    return;
  }
  let actual: unknown;
  try {
    actual = JSON.parse(output);
  } catch {
    throw new Error(`${example.name}: curl's output is not one JSON document:\n${output}`);
  }
  expect(actual, example.name).toMatchObject(fillPlaceholders(JSON.parse(result.text), actual) as object);
}

async function post(example: DocExample, url: URL): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query: example.source, variables: example.variables }),
    signal: AbortSignal.timeout(EXAMPLE_TIMEOUT_MS),
  });
  return response.json();
}

/** A subscription's documented answer is its first event. */
async function firstEvent(example: DocExample, url: URL): Promise<unknown> {
  const subscription = await subscribeSse(url, example.source, example.variables);
  try {
    return await subscription.next();
  } finally {
    subscription.close();
  }
}

/**
 * Runs a shell block with `sh`, the documented `localhost:4000` turned into the service's
 * address, and `localhost:9464` (METRICS_PORT) into its metrics address. With `expectedText`, stops the commands (their process group) as soon as their
 * output holds it: a stream need not be waited out to its `--max-time`.
 */
function runShell(script: string, url: URL, metrics: URL, expectedText: string | undefined): Promise<string> {
  const command = script
    .replace(/(?:https?:\/\/)?localhost:4000\b/g, `http://${url.host}`)
    .replace(/(?:https?:\/\/)?localhost:9464\b/g, `http://${metrics.host}`);
  const child = spawn('sh', ['-c', command], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  let output = '';
  let errors = '';
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(stop, EXAMPLE_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (expectedText !== undefined && missingLines(expectedText, output).length === 0) stop();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(errors ? `${output}\n[stderr]\n${errors}` : output);
    });
  });
}

describe('the examples markup', () => {
  it('refuses a shell block that is neither a curl example nor marked not-run', () => {
    expect(() => extractExamples('x.md', '```sh\nnpm start\n```\n')).toThrow(/without curl is not run/);
  });

  it('refuses an example without a documented result', () => {
    expect(() => extractExamples('x.md', '```graphql\n{ __typename }\n```\n')).toThrow(/its answer is not documented/);
    expect(() => extractExamples('x.md', '```sh\ncurl -s localhost:4000/health\n```\n')).toThrow(/its answer is not documented/);
    expect(() => extractExamples('x.md', '```sh\ncurl -s localhost:4000/health\n```\n```text result\n\n```\n')).toThrow(
      /an empty result checks nothing/,
    );
  });

  it('refuses a GraphQL block with more than one operation, and a result with no example', () => {
    expect(() => extractExamples('x.md', '```graphql\nquery A { a }\nquery B { b }\n```\n```json result\n{}\n```\n')).toThrow(
      /exactly one operation/,
    );
    expect(() => extractExamples('x.md', 'Text.\n\n```json result\n{}\n```\n')).toThrow(/no example just before it/);
  });

  it('takes a block marked not-run with its reason, and reads variables and results', () => {
    const { examples, notRun } = extractExamples(
      'x.md',
      '<!-- not-run: needs a real Flatpeak -->\n```sh\nnpm start\n```\n\n```graphql\nquery Q($id: ID!) { device(id: $id) { id } }\n```\n\n```json variables\n{ "id": "dev_1" }\n```\n\n```json result\n{ "data": null }\n```\n',
    );
    expect(notRun).toEqual([{ name: 'x.md #1: npm start', reason: 'needs a real Flatpeak' }]);
    expect(examples).toMatchObject([{ kind: 'graphql', operationType: 'query', variables: { id: 'dev_1' }, result: { format: 'json' } }]);
  });

  it('runs examples after an example-env comment against a service with those variables', () => {
    const { examples } = extractExamples(
      'x.md',
      '```sh\ncurl -s localhost:4000/health\n```\n```text result\n200\n```\n<!-- example-env: CALLER_AUTH=jwt RATE_LIMIT_PER_SECOND=0 -->\n```sh\ncurl -s localhost:4000/health\n```\n```text result\n200\n```\n',
    );
    expect(examples.map((example) => example.env)).toEqual([{}, { CALLER_AUTH: 'jwt', RATE_LIMIT_PER_SECOND: '0' }]);
  });

  it('matches "…" to any value and text lines in order', () => {
    expect(fillPlaceholders({ a: '…', b: [{ c: '…' }] }, { a: null, b: [{ c: 3 }] })).toEqual({ a: null, b: [{ c: 3 }] });
    expect(missingLines('event: next\ndata: {"id":"…"}', ':\n\nevent: next\ndata: {"id":"dev_1"}\r\n')).toEqual([]);
    expect(missingLines('b\na', 'a\nb\n')).toEqual(['a']);
  });
});
