import { Trace } from '@apollo/usage-reporting-protobuf';
import { defaultFieldResolver, type GraphQLFieldResolver, isObjectType } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { SEED_DEVICE_ID } from '../../src/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';

const TRACE = { 'apollo-federation-include-trace': 'ftv1' };
/** A frame of the tracing layer's per-field wrapper. */
const TRACE_WRAPPER_FRAME = /[\\/]@envelop[\\/]on-resolve[\\/]/;

/** What called Device.modelName's own resolver, for each request. */
const modelNameCalls: Array<{ traceHeader: string | null; stack: string }> = [];

// Device.modelName's own resolver records its call stack. Installed before the app exists,
// so that it is the resolver the app's plugins find (and wrap) on the schema.
beforeAll(() => {
  const device = schema.getType('Device');
  if (!isObjectType(device)) throw new Error('no Device type');
  const field = device.getFields().modelName!;
  const resolve: GraphQLFieldResolver<unknown, { request: Request }> = field.resolve ?? defaultFieldResolver;
  field.resolve = (source, args, context: { request: Request }, info) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 100;
    const stack = new Error('probe').stack ?? '';
    Error.stackTraceLimit = limit;
    modelNameCalls.push({ traceHeader: context.request.headers.get('apollo-federation-include-trace'), stack });
    return resolve(source, args, context, info);
  };
});

function decode(extensions: unknown): Trace {
  const ftv1 = (extensions as { ftv1?: unknown } | undefined)?.ftv1;
  expect(ftv1).toEqual(expect.any(String));
  return Trace.decode(Buffer.from(ftv1 as string, 'base64'));
}

const child = (node: Trace.INode | null | undefined, responseName: string): Trace.INode | undefined =>
  node?.child?.find((c) => c.responseName === responseName);

describe('ftv1 traces, only for the requests that ask for them', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());
  beforeEach(() => {
    modelNameCalls.length = 0;
  });

  const query = `{ device(id: "${SEED_DEVICE_ID}") { id model: modelName } }`;

  it('traces every resolved field of a request that sends apollo-federation-include-trace: ftv1', async () => {
    const traced = await h.query(query, undefined, TRACE);
    expect(traced.body.data).toEqual({ device: { id: SEED_DEVICE_ID, model: 'Pico Ultimate' } });
    const trace = decode(traced.body.extensions);
    expect(Number(trace.durationNs)).toBeGreaterThan(0);
    expect(trace.root?.child).toHaveLength(1);

    const device = child(trace.root, 'device');
    expect(device).toMatchObject({ type: 'Device', parentType: 'Query' });
    expect(device?.child?.map((c) => c.responseName)).toEqual(['id', 'model']);
    expect(child(device, 'id')).toMatchObject({ type: 'ID!', parentType: 'Device' });
    // An aliased field carries the name it has in the schema.
    expect(child(device, 'model')).toMatchObject({ type: 'String!', parentType: 'Device', originalFieldName: 'modelName' });
    for (const node of [device!, ...device!.child!]) {
      expect(Number(node.endTime)).toBeGreaterThanOrEqual(Number(node.startTime));
      expect(Number(node.endTime)).toBeLessThanOrEqual(Number(trace.durationNs));
    }
  });

  it("puts a field's error on the field's node", async () => {
    const traced = await h.query('{ device(id: "dev_000000000000000000000000") { id } }', undefined, TRACE);
    expect(traced.body.errors?.[0]?.path).toEqual(['device']);
    const device = child(decode(traced.body.extensions).root, 'device');
    expect(device?.error?.map((e) => e.message)).toEqual([traced.body.errors![0]!.message]);
  });

  it("calls the fields' own resolvers through the tracing layer only for requests that ask for a trace, also at the same time", async () => {
    const [traced, plain, other] = await Promise.all([
      h.query(query, undefined, TRACE),
      h.query(query),
      h.query(query, undefined, { 'apollo-federation-include-trace': 'something-else' }),
    ]);
    expect(plain.body).toEqual({ data: traced.body.data });
    expect(other.body).toEqual(plain.body);
    expect(child(child(decode(traced.body.extensions).root, 'device'), 'model')).toBeDefined();

    expect(modelNameCalls.map((call) => call.traceHeader).sort()).toEqual(['ftv1', 'something-else', null].sort());
    for (const { traceHeader, stack } of modelNameCalls) {
      if (traceHeader === 'ftv1') expect(stack).toMatch(TRACE_WRAPPER_FRAME);
      else expect(stack).not.toMatch(TRACE_WRAPPER_FRAME);
    }
  });
});
