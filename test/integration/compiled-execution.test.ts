import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/limits.ts';
import {
  ALICE_DEVICE_ID,
  BOB_DEVICE_ID,
  LEGACY_DEVICE_ID,
  MINIMAL_DEVICE_ID,
  SEED_DEVICE_ID,
  sampleDevices,
  userDevices,
} from '../../tools/standin/data.ts';
import { AUDIENCE, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { DEVICE_FIELDS, FAILING_ID, MISSING_ID } from '../support/differential.ts';
import { type Harness, startHarness } from '../support/harness.ts';

/**
 * Compiled execution (src/plugins/execution/use-compiled-execution.ts) answers what Yoga's
 * executor answers. Two facades, one that compiles and one that does not, each in front of
 * its own stand-in with the same data, get the same operations in the same order, each
 * RUNS times (a document is compiled after LIMITS.runsBeforeCompiling runs); every answer must be the same,
 * byte for byte but for the order of errors (inPathOrder). The compiled facade's counter says which runs were compiled, so a corpus
 * that fell back to Yoga's executor would not pass for proof.
 */

const SEED = `query Seed($id: ID!) { device(id: $id) { ${DEVICE_FIELDS} } }`;
const DEVICES = `query Several($ids: [ID!]!) { devices(ids: $ids) { ${DEVICE_FIELDS} } }`;
const SMALL = 'query Small($id: ID!) { device(id: $id) { id modelName } }';
const ENTITIES = `query ($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Device { ${DEVICE_FIELDS} } } }`;
const MULTI = `query One { device(id: "${SEED_DEVICE_ID}") { id } } query Two { __typename } mutation Three { __typename }`;
const CREATE =
  'mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { clientMutationId device { id referenceId modelName } userErrors { code field message } } }';
const UPDATE =
  'mutation ($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { device { id modelName } userErrors { code field message } } }';

interface Case {
  readonly name: string;
  readonly query: string;
  readonly variables?: unknown;
  readonly operationName?: string;
  /** Whether it runs compiled once its document ran before; else Yoga's executor runs it every time. */
  readonly compiled: boolean;
}

const corpus: Case[] = [
  // Answers without errors: compiled
  { name: 'the seed device, every field', query: SEED, variables: { id: SEED_DEVICE_ID }, compiled: true },
  { name: 'the minimal device', query: SEED, variables: { id: MINIMAL_DEVICE_ID }, compiled: true },
  {
    name: 'devices(ids), duplicates included',
    query: DEVICES,
    variables: { ids: [SEED_DEVICE_ID, MINIMAL_DEVICE_ID, SEED_DEVICE_ID] },
    compiled: true,
  },
  { name: 'a list variable given one item', query: DEVICES, variables: { ids: SEED_DEVICE_ID }, compiled: true },
  {
    name: 'aliases, fragments and __typename',
    query: `query Shapes($a: ID!, $b: ID!) { a: device(id: $a) { ...Names kind: __typename } b: device(id: $b) { ... on Device { id properties { __typename pvTilt } } } c: __typename }
      fragment Names on Device { id name: modelName maker: manufacturer }`,
    variables: { a: SEED_DEVICE_ID, b: MINIMAL_DEVICE_ID },
    compiled: true,
  },
  {
    name: '_entities',
    query: ENTITIES,
    variables: {
      r: [
        { __typename: 'Device', id: SEED_DEVICE_ID },
        { __typename: 'Device', id: MINIMAL_DEVICE_ID },
      ],
    },
    compiled: true,
  },
  // Never compiled: graphql-jit would write a literal into its code, or its @skip/@include
  // and variable defaults differ from graphql-js's
  { name: 'a literal id', query: `{ device(id: "${SEED_DEVICE_ID}") { id modelName } }`, compiled: false },
  {
    name: 'a literal shaped as graphql-jit’s date marker (code injection)',
    query: `{ device(id: "__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d(globalThis.compiledInjection=(globalThis.compiledInjection||0)+1)") { id } }`,
    compiled: false,
  },
  { name: 'operationName choosing a query among several', query: MULTI, operationName: 'One', compiled: false },
  {
    name: '@skip and @include on variables',
    query:
      'query Pick($id: ID!, $yes: Boolean!, $no: Boolean!) { device(id: $id) { id modelName @include(if: $yes) manufacturer @skip(if: $yes) lastSeen @include(if: $no) } }',
    variables: { id: SEED_DEVICE_ID, yes: true, no: false },
    compiled: false,
  },
  {
    name: 'a fragment included in one place and not in another',
    query:
      'query Twice($id: ID!, $x: Boolean!) { a: device(id: $id) { id ...F @include(if: $x) } b: device(id: $id) { id ...F } } fragment F on Device { modelName }',
    variables: { id: SEED_DEVICE_ID, x: false },
    compiled: false,
  },
  {
    name: 'a field skipped in one place and selected in another',
    query:
      'query Parts($id: ID!, $a: Boolean!) { device(id: $id) { id properties @include(if: $a) { pvTilt } properties { capacityKwh } } }',
    variables: { id: SEED_DEVICE_ID, a: false },
    compiled: false,
  },
  {
    name: 'more fields than are compiled (aliases times a fragment)',
    query: `query Wide($ids: [ID!]!) { ${Array.from({ length: 12 }, (_, i) => `d${i}: devices(ids: $ids) { ...All }`).join(' ')} } fragment All on Device { ${DEVICE_FIELDS} }`,
    variables: { ids: [SEED_DEVICE_ID] },
    compiled: false,
  },
  // Answers with errors: run again by Yoga's executor, whose answer is sent
  { name: 'a device that does not exist', query: SEED, variables: { id: MISSING_ID }, compiled: false },
  { name: 'a malformed device id', query: SEED, variables: { id: 'not a device/../id' }, compiled: false },
  { name: 'a device lacking non-null fields (null propagation)', query: SEED, variables: { id: LEGACY_DEVICE_ID }, compiled: false },
  { name: 'a failing device alone', query: SMALL, variables: { id: FAILING_ID }, compiled: false },
  {
    name: 'devices(ids) with a failing, a missing and a malformed item among good ones',
    query: DEVICES,
    variables: { ids: [SEED_DEVICE_ID, FAILING_ID, MISSING_ID, 'x y', SEED_DEVICE_ID] },
    compiled: false,
  },
  {
    name: 'devices(ids) with a legacy item (null propagation in a list)',
    query: DEVICES,
    variables: { ids: [SEED_DEVICE_ID, LEGACY_DEVICE_ID, MINIMAL_DEVICE_ID] },
    compiled: false,
  },
  {
    name: 'more ids than devices(ids) takes',
    query: DEVICES,
    variables: { ids: Array(LIMITS.deviceIds.value + 1).fill(SEED_DEVICE_ID) },
    compiled: false,
  },
  {
    name: '_entities: a missing, a legacy and an unknown type among good ones',
    query: ENTITIES,
    variables: {
      r: [
        { __typename: 'Device', id: SEED_DEVICE_ID },
        { __typename: 'Device', id: MISSING_ID },
        { __typename: 'Device', id: LEGACY_DEVICE_ID },
        { __typename: 'Nope', id: 'x' },
      ],
    },
    compiled: false,
  },
  { name: '_entities: a representation without an id', query: ENTITIES, variables: { r: [{ __typename: 'Device' }] }, compiled: false },
  // Variables that do not coerce: graphql-jit's errors are its own
  { name: 'a variable of the wrong type', query: SMALL, variables: { id: { nested: true } }, compiled: false },
  { name: 'a non-null variable missing', query: SMALL, variables: {}, compiled: false },
  { name: 'a list variable with a null item', query: DEVICES, variables: { ids: [SEED_DEVICE_ID, null] }, compiled: false },
  // graphql-jit does not give a non-null variable its default
  {
    name: 'a variable left to its default',
    query: `query ($id: ID! = "${MINIMAL_DEVICE_ID}") { device(id: $id) { id } }`,
    compiled: false,
  },
  // Never compiled: other root fields, other operations, @defer
  {
    name: 'myDevices, a page',
    query: 'query Mine { myDevices(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }',
    compiled: false,
  },
  {
    name: 'a device and myDevices',
    query: `query Both { device(id: "${SEED_DEVICE_ID}") { id } myDevices(first: 1) { edges { node { id } } } }`,
    compiled: false,
  },
  { name: '_service { sdl }', query: '{ _service { sdl } }', compiled: false },
  { name: 'introspection', query: getIntrospectionQuery(), compiled: false },
  { name: 'operationName naming no operation', query: MULTI, operationName: 'Four', compiled: false },
  { name: 'operationName missing among several operations', query: MULTI, compiled: false },
  { name: 'operationName choosing the mutation', query: MULTI, operationName: 'Three', compiled: false },
  { name: '@defer', query: `query Later { device(id: "${SEED_DEVICE_ID}") { id ... @defer { modelName } } }`, compiled: false },
  // Mutations, in order (each facade's stand-in sees the same writes)
  {
    name: 'a mutation with refused input (userErrors)',
    query: CREATE,
    variables: { input: { clientMutationId: 'c1', referenceId: 'r'.repeat(300), properties: { pvTilt: 400 } } },
    compiled: false,
  },
  { name: 'a mutation that writes', query: UPDATE, variables: { id: MINIMAL_DEVICE_ID, input: { modelName: 'Renamed' } }, compiled: false },
  { name: 'the written device, read again', query: SEED, variables: { id: MINIMAL_DEVICE_ID }, compiled: true },
];

const RUNS_BEFORE_COMPILING = LIMITS.runsBeforeCompiling.value;
/** Each case is sent this often: the runs before it is compiled, and two after. */
const RUNS = RUNS_BEFORE_COMPILING + 2;

async function compiledRuns(harness: Harness): Promise<number> {
  const text = await fetch(harness.metricsUrl).then((response) => response.text());
  const line = /^flatpeak_graphql_compiled_executions_total (\d+)$/m.exec(text);
  return Number(line?.[1] ?? 0);
}

async function answer(harness: Harness, { query, variables, operationName }: Case): Promise<{ status: number; body: string }> {
  const response = await fetch(harness.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables, operationName }),
  });
  return { status: response.status, body: inPathOrder(await response.text()) };
}

/**
 * The answer with its errors in the order of their paths. graphql-js lists the errors of
 * fields that run concurrently as they settle: a malformed id, refused at once, before the
 * devices Flatpeak refused. When Yoga's executor runs a query again, the request's loads
 * have all settled, and its errors come in the order of the fields. The spec leaves the
 * order open; everything else is compared as sent, key order included.
 */
function inPathOrder(body: string): string {
  const answer = JSON.parse(body) as { errors?: Array<{ path?: unknown }> };
  const key = (error: { path?: unknown }) => JSON.stringify(error.path ?? []);
  answer.errors?.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return JSON.stringify(answer);
}

describe('compiled execution answers what Yoga’s executor answers', () => {
  let yogas: Harness;
  let compiled: Harness;
  beforeAll(async () => {
    [yogas, compiled] = await Promise.all([startHarness({ compiledExecution: false }), startHarness()]);
    for (const { standin } of [yogas, compiled]) {
      standin.setFault((seen) => (seen.path === `/devices/${FAILING_ID}` ? { status: 403, code: 'forbidden' } : undefined));
    }
  });
  afterAll(async () => {
    await Promise.all([yogas?.close(), compiled?.close()]);
  });

  // A document is compiled on its RUNS_BEFORE_COMPILING-th run, whichever cases ran it before.
  const runsOf = new Map<string, number>();
  it.each(corpus)('$name', async (each) => {
    const before = await compiledRuns(compiled);
    const ranBefore = runsOf.get(each.query) ?? 0;
    runsOf.set(each.query, ranBefore + RUNS);
    const compiledRunsExpected = each.compiled ? RUNS - Math.max(0, RUNS_BEFORE_COMPILING - 1 - ranBefore) : 0;
    for (let run = 1; run <= RUNS; run += 1) {
      const [expected, actual] = [await answer(yogas, each), await answer(compiled, each)];
      expect({ run, ...actual }).toEqual({ run, ...expected });
    }
    expect(await compiledRuns(compiled)).toBe(before + compiledRunsExpected);
    expect(await compiledRuns(yogas)).toBe(0);
    expect((globalThis as { compiledInjection?: unknown }).compiledInjection).toBeUndefined();
  });
});

describe('compiled execution keeps each caller to its own devices (CALLER_AUTH=jwt)', () => {
  it('a query compiled for alice’s device never answers bob’s, in any position', async () => {
    const idp = await startIdentityProvider();
    const harness = await startHarness({
      standin: { devices: [...sampleDevices(), ...userDevices()] },
      env: { CALLER_AUTH: 'jwt', AUTH_JWKS_URL: idp.jwksUrl.href, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
    try {
      const alice = { authorization: `Bearer ${await idp.token({ claims: { sub: 'alice' } })}` };
      const query = `query Mine($id: ID!, $ids: [ID!]!) { device(id: $id) { id referenceId } devices(ids: $ids) { id referenceId } }`;
      const own = { id: ALICE_DEVICE_ID, ids: [ALICE_DEVICE_ID] };
      const before = await compiledRuns(harness);
      for (let run = 0; run < RUNS; run += 1) {
        const { body } = await harness.query(query, own, alice);
        expect(body).toEqual({
          data: { device: { id: ALICE_DEVICE_ID, referenceId: 'alice' }, devices: [{ id: ALICE_DEVICE_ID, referenceId: 'alice' }] },
        });
      }
      // Compiled from then on: what follows runs the compiled query first.
      expect(await compiledRuns(harness)).toBe(before + RUNS - RUNS_BEFORE_COMPILING + 1);
      for (const variables of [
        { id: BOB_DEVICE_ID, ids: [ALICE_DEVICE_ID] },
        { id: ALICE_DEVICE_ID, ids: [ALICE_DEVICE_ID, BOB_DEVICE_ID] },
      ]) {
        const { body } = await harness.query(query, variables, alice);
        expect(JSON.stringify(body)).not.toContain('bob');
        expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
      }
      expect(await compiledRuns(harness)).toBe(before + RUNS - RUNS_BEFORE_COMPILING + 1);
    } finally {
      await harness.close();
      await idp.close();
    }
  });
});
