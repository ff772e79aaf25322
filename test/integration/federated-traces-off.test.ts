// A file of its own: with FTV1_TRACES on, the tracing layer wraps the resolvers of the
// schema module, which every app of one process shares.
import { defaultFieldResolver, type GraphQLFieldResolver, isObjectType } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
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

describe('ftv1 traces with FTV1_TRACES off (the default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());
  beforeEach(() => {
    modelNameCalls.length = 0;
  });

  it('sends no trace to a caller that asks, and puts no tracing layer in front of any resolver', async () => {
    const query = `{ device(id: "${SEED_DEVICE_ID}") { id model: modelName } }`;
    const [asked, plain] = await Promise.all([h.query(query, undefined, TRACE), h.query(query)]);
    expect(asked.body).toEqual(plain.body);
    expect(asked.body.extensions).toBeUndefined();
    expect(modelNameCalls).toHaveLength(2);
    for (const { stack } of modelNameCalls) expect(stack).not.toMatch(TRACE_WRAPPER_FRAME);
  });
});
