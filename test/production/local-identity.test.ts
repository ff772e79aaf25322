import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE_DEVICE_ID, BOB_DEVICE_ID } from '../../tools/standin/data.ts';
import { root, type Started, startDev } from '../support/process.ts';

// Trying CALLER_AUTH=jwt locally, as docs/security.md walks through it: the launcher on the
// stand-in with CALLER_AUTH=jwt serves the development identity's key set, and the real
// `npm run token` command (another process) prints tokens the service accepts.

const run = promisify(execFile);
const npmEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', npm_config_update_notifier: 'false' };

async function token(...args: string[]): Promise<string> {
  const { stdout } = await run('npm', ['run', '-s', 'token', '--', ...args], { cwd: root, env: npmEnv, timeout: 60_000 });
  return stdout.trim();
}

let dev: Started;
let url: string;
let alice: string;
let bob: string;

beforeAll(async () => {
  dev = startDev({ PORT: '0', LOG_LEVEL: 'info', CALLER_AUTH: 'jwt' });
  [alice, bob] = await Promise.all([token('--sub', 'alice', '--scope', 'devices:read devices:write'), token('--sub', 'bob')]);
  const line = await dev.waitForLog((entry) => typeof entry.url === 'string');
  expect(line).toMatchObject({ callerAuth: 'jwt', upstream: 'standin', sampleData: true });
  url = String(line.url);
}, 90_000);

afterAll(async () => {
  dev.child.kill('SIGTERM');
  expect((await dev.exit()).code).toBe(0);
});

interface Answer<Data> {
  data?: Data;
  errors?: Array<{ message: string; extensions: { code?: string } }>;
}
type Mine = { myDevices: { edges: Array<{ node: { id: string; referenceId: string } }> } };

async function ask<Data = Record<string, unknown>>(query: string, bearer?: string, variables?: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Answer<Data> };
}

const MINE = '{ myDevices(first: 10) { edges { node { id referenceId } } } }';

describe('a local identity on the stand-in', () => {
  it('npm run token prints a JWT of the development identity, with the sub and scope asked for', () => {
    expect(alice).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(alice.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'alice', scope: 'devices:read devices:write', aud: 'flatpeak-graph' });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);
  });

  it('alice sees her devices, and only hers', async () => {
    const { body } = await ask<Mine>(MINE, alice);
    expect(body.data?.myDevices.edges.map((edge) => edge.node)).toEqual([
      { id: ALICE_DEVICE_ID, referenceId: 'alice' },
      { id: 'dev_a11ce0000000000000000002', referenceId: 'alice' },
    ]);
    expect((await ask(`{ device(id: "${ALICE_DEVICE_ID}") { id referenceId } }`, alice)).body).toEqual({
      data: { device: { id: ALICE_DEVICE_ID, referenceId: 'alice' } },
    });
  });

  it('bob is refused alice’s device exactly as a missing one (NOT_FOUND), and lists his own', async () => {
    const { status, body } = await ask(`{ device(id: "${ALICE_DEVICE_ID}") { id referenceId } }`, bob);
    expect(status).toBe(200);
    expect(body.data).toEqual({ device: null });
    expect(body.errors).toMatchObject([{ message: `No device ${ALICE_DEVICE_ID}`, extensions: { code: 'NOT_FOUND' } }]);
    expect((await ask<Mine>(MINE, bob)).body.data?.myDevices.edges).toEqual([{ node: { id: BOB_DEVICE_ID, referenceId: 'bob' } }]);
    // Without devices:write bob may not change it either.
    const update = await ask('mutation ($id: ID!) { updateDevice(id: $id, input: { modelName: "Taken" }) { device { id } } }', bob, {
      id: ALICE_DEVICE_ID,
    });
    expect(update.body.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it('alice creates a device without naming a referenceId: it is hers', async () => {
    const { body } = await ask<{ createDevice: unknown }>(
      'mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { device { referenceId modelName } userErrors { code } } }',
      alice,
      { input: { modelName: 'Wallbox 22' } },
    );
    expect(body.data?.createDevice).toEqual({ device: { referenceId: 'alice', modelName: 'Wallbox 22' }, userErrors: [] });
  });

  it('no token: 401 UNAUTHENTICATED; a token not of this identity: 401 too', async () => {
    const anonymous = await ask(`{ device(id: "${ALICE_DEVICE_ID}") { id } }`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    const [header, payload] = alice.split('.');
    const forged = await ask(MINE, `${header}.${payload}.${'A'.repeat(86)}`);
    expect(forged.status).toBe(401);
    expect(forged.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect(dev.output()).not.toContain(alice);
  });
});
