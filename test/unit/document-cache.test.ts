import { GraphQLError, type ValidationRule } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { expect, it } from 'vitest';
import { createDocumentCache, type DocumentCacheSettings } from '../../src/plugins/document/use-document-cache.ts';

const schema = createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } });

/** A Yoga with only the document cache, counting the parses and validations really done. */
function yogaWithCache(settings: DocumentCacheSettings) {
  const counts = { parses: 0, validations: 0 };
  const counting: Plugin = {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        counts.parses += 1;
        return parseFn(source, options);
      });
    },
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn((...args) => {
        counts.validations += 1;
        return validateFn(...args);
      });
    },
  };
  const cache = createDocumentCache(settings);
  const send = sender(createYoga({ schema, parserAndValidationCache: false, plugins: [counting, cache.plugin] }));
  return { counts, send, isKnown: cache.isKnown };
}

/** Sends a query to `yoga` as a JSON POST and reads its JSON answer. */
function sender(yoga: { fetch: (url: string, init: RequestInit) => Response | Promise<Response> }) {
  return async (query: string) => {
    const response = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: unknown; errors?: Array<{ message: string }> };
  };
}

const roomy = { maxEntries: 100, maxBytes: 1024 * 1024 };

it('parses and validates a valid document once, however often it is sent', async () => {
  const { counts, send, isKnown } = yogaWithCache(roomy);
  for (let i = 0; i < 3; i += 1) expect(await send('{ hello }')).toEqual({ data: { hello: 'world' } });
  expect(counts).toEqual({ parses: 1, validations: 1 });
  expect(isKnown('{ hello }')).toBe(true);
});

it('keeps no document that fails validation or parsing', async () => {
  const { counts, send, isKnown } = yogaWithCache(roomy);
  for (let i = 0; i < 2; i += 1) expect((await send('{ nope }')).errors).toHaveLength(1);
  expect(counts).toEqual({ parses: 2, validations: 2 });
  for (let i = 0; i < 2; i += 1) expect((await send('{ hello')).errors).toHaveLength(1);
  expect(counts.parses).toBe(4);
  expect(isKnown('{ nope }')).toBe(false);
  expect(isKnown('{ hello')).toBe(false);
});

it('forgets the least recently used documents once its byte budget is spent, long before its entry limit', async () => {
  const { send, isKnown } = yogaWithCache({ maxEntries: 1_000, maxBytes: 32 * 1024 });
  const documents = Array.from({ length: 50 }, (_, i) => `query Q${i} { hello }`);
  for (const document of documents) expect(await send(document)).toEqual({ data: { hello: 'world' } });
  const known = documents.filter(isKnown);
  expect(known.length).toBeGreaterThan(0);
  expect(known.length).toBeLessThan(documents.length / 2);
  expect(isKnown(documents.at(-1)!)).toBe(true);
  expect(isKnown(documents[0]!)).toBe(false);
});

it('does not keep a document larger than its whole budget', async () => {
  const { send, isKnown } = yogaWithCache({ maxEntries: 1_000, maxBytes: 16 * 1024 });
  const large = `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: hello`).join(' ')} }`;
  expect((await send(large)).errors).toBeUndefined();
  expect(isKnown(large)).toBe(false);
  expect(isKnown('{ hello }')).toBe(false);
  await send('{ hello }');
  expect(isKnown('{ hello }')).toBe(true);
});

it("runs a wrapped plugin's validation hook only for documents it has not validated, and still refuses by its rules", async () => {
  let hooks = 0;
  const cache = createDocumentCache(roomy);
  const noAliases: Plugin = cache.validatingUnknown({
    onValidate({ addValidationRule }) {
      hooks += 1;
      const rule: ValidationRule = (context) => ({
        Field(node) {
          if (node.alias) context.reportError(new GraphQLError('no aliases'));
        },
      });
      addValidationRule(rule);
    },
  });
  const send = sender(createYoga({ schema, parserAndValidationCache: false, plugins: [noAliases, cache.plugin] }));
  for (let i = 0; i < 3; i += 1) expect(await send('{ hello }')).toEqual({ data: { hello: 'world' } });
  expect(hooks).toBe(1);
  for (let i = 0; i < 2; i += 1) expect((await send('{ a: hello }')).errors?.map((e) => e.message)).toEqual(['no aliases']);
  expect(hooks).toBe(3);
  expect(cache.isKnown('{ a: hello }')).toBe(false);
});
