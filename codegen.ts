import type { CodegenConfig } from '@graphql-codegen/cli';
import { printSchema as printExecutableSchema } from 'graphql';
import { printSchema, schema } from './src/schema/index.ts';

/**
 * `npm run codegen`: the Pothos schema is the source of truth. It writes
 * - schema.graphql: the subgraph SDL a router composes (printSubgraphSchema form);
 * - typed documents (TypedDocumentNode) for the operations the tests send.
 * Documents are validated against the executable schema, which includes `_service` and
 * `_entities`, so the tests can type federation queries too.
 */
const config: CodegenConfig = {
  schema: printExecutableSchema(schema),
  documents: ['test/operations/**/*.graphql'],
  ignoreNoDocuments: false,
  // ESM imports with extensions, as the rest of the code base uses.
  emitLegacyCommonJSImports: false,
  generates: {
    'schema.graphql': {
      plugins: [{ add: { content: printSchema() } }],
    },
    'test/__generated__/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string', ID: 'string', _Any: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
