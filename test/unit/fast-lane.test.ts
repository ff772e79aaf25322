import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { createFastLane } from '../../src/http/fast-lane.ts';

const schema = createSchema({ typeDefs: 'type Query { ok: Boolean }' });
const options = { endpoint: '/graphql', maxBodyBytes: 16 * 1024 };

describe('the fast lane', () => {
  it('stands aside (every request to Yoga) when a plugin instruments Yoga’s handler, whose phases it does not run', () => {
    const instrumented = createYoga({ schema, plugins: [{ instrumentation: { operation: (_payload: unknown, wrapped: () => void) => wrapped() } }] });
    expect(createFastLane(instrumented as never, options)).toBe(instrumented);
    const plain = createYoga({ schema });
    expect(createFastLane(plain as never, options)).not.toBe(plain);
  });
});
