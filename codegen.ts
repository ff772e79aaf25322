import { createHash } from 'node:crypto';
import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';
import { printSchema as printExecutableSchema } from 'graphql';
import { printClientSchema, printSchema, schema } from './src/schema/index.ts';

/**
 * `npm run codegen`: the Pothos schema is the source of truth. It writes
 * - schema.graphql: the subgraph SDL a router composes (printSubgraphSchema form);
 * - schema.client.graphql: the API schema apps generate code from (no federation);
 * - typed documents (TypedDocumentNode) for the operations the tests send;
 * - typed documents and the persisted-documents manifest for the operations the mobile
 *   apps send (examples/operations), which the service loads to run them by hash.
 * Documents are validated against the executable schema, which includes `_service` and
 * `_entities`, so the tests can type federation queries too.
 */
const config: CodegenConfig = {
  schema: printExecutableSchema(schema),
  ignoreNoDocuments: false,
  // ESM imports with extensions, as the rest of the code base uses.
  emitLegacyCommonJSImports: false,
  generates: {
    'schema.graphql': {
      plugins: [{ add: { content: printSchema() } }],
    },
    'schema.client.graphql': {
      plugins: [{ add: { content: printClientSchema() } }],
    },
    'test/__generated__/': {
      documents: ['test/operations/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string', ID: 'string', _Any: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
    'examples/__generated__/': {
      documents: ['examples/operations/**/*.graphql'],
      // Apollo Client (and Apollo iOS/Kotlin) add __typename to every selection set before
      // sending; the manifest must hold the document the app really sends.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      preset: 'client',
      presetConfig: {
        persistedDocuments: {
          // Plain hex SHA-256, as Apollo's persisted-query protocol sends it
          // (`extensions.persistedQuery.sha256Hash`); the preset's own sha256 adds a prefix.
          hashAlgorithm: (document: string) => createHash('sha256').update(document).digest('hex'),
        },
      },
      config: {
        scalars: { DateTime: 'string', ID: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
