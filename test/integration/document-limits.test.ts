import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { knownOperationTypes } from '../../src/plugins/document/use-known-operation-types.ts';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { LIMITS } from '../../src/limits.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const nest = (open: string, inner: string, close: string, n: number) => open.repeat(n) + inner + close.repeat(n);

// Each a few KB and under the token limit: before the limit, parsing them overflowed the
// stack (HTTP 500) at around 2,000 levels.
const tooDeep: Array<[string, string]> = [
  ['a list value', `{ device(id: ${nest('[', '1', ']', 2_400)}) { id } }`],
  ['an object value', `{ device(id: ${nest('{a:', '1', '}', 1_200)}) { id } }`],
  ['a directive argument', `{ __typename @skip(if: ${nest('[', 'true', ']', 2_400)}) }`],
  ['a variable default', `query ($v: ID = ${nest('[', '1', ']', 2_400)}) { __typename }`],
  ['a list type', `query ($v: ${nest('[', 'ID', ']', 2_400)}) { __typename }`],
  ['inline fragments', `{ ${nest('... { ', '__typename', ' }', 1_600)} }`],
  ['selection sets', nest('{ a ', '', '}', 1_600)],
  ['a list value just past the limit', `{ device(id: ${nest('[', '1', ']', LIMITS.nesting.value)}) { id } }`],
];

describe('document limits', () => {
  it.each(tooDeep)('nesting in %s is a validation error (400), not a stack overflow', async (_, document) => {
    h.standin.resetLog();
    const { status, body } = await h.query(document);
    expect(status).toBe(400);
    expect(body.errors).toEqual([
      { message: `Syntax Error: Nesting limit of ${LIMITS.nesting.value} exceeded.`, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    ]);
    expect(h.standin.count()).toBe(0);
  });

  it('nesting up to the limit is a document like any other', async () => {
    // The selection set and the argument take two levels.
    const { status, body } = await h.query(`{ device(id: ${nest('[', `"${SEED_DEVICE_ID}"`, ']', LIMITS.nesting.value - 2)}) { id } }`);
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toMatch(/^ID cannot represent a non-string/);
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('the full introspection query (GraphiQL, codegen, routers) passes', async () => {
    const { status, body } = await h.query(
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }),
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  it(`more than ${LIMITS.tokens.value} tokens is a validation error`, async () => {
    // Cheap selections, so that no other limit gets there first.
    const { status, body } = await h.query(`{ ${'__typename '.repeat(LIMITS.tokens.value)} }`);
    expect(status).toBe(400);
    expect(body.errors).toEqual([
      { message: `Syntax Error: Token limit of ${LIMITS.tokens.value} exceeded.`, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    ]);
  });

  it('counts __typename aliases against the alias limit', async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `t${i}: __typename`).join(' ')} }`;
    const over = await h.query(aliases(31));
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/Aliases limit of 30 exceeded, found 31/),
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const at = await h.query(aliases(30));
    expect(at.status).toBe(200);
    expect(at.body.errors).toBeUndefined();
  });
});

describe('operations the schema does not have', () => {
  // This schema has all three root types now; the rule is proven on one that lacks them.
  const queryOnly = buildSchema('type Query { a: Int }');
  it.each(['mutation', 'subscription'])('a %s is a validation error (with a code), not an execution error without one', (operation) => {
    const errors = validate(queryOnly, parse(`${operation} { __typename }`), [...specifiedRules, knownOperationTypes]);
    expect(errors.map((error) => error.message)).toEqual([`This service has no ${operation} operations.`]);
  });
});
