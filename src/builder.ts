import SchemaBuilder from '@pothos/core';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import type { Context } from './context.ts';

/** The Pothos builder: plugins, context and scalar typing. Types live in `schema/`. */
export const builder = new SchemaBuilder<{
  Context: Context;
  // Non-null unless a field says otherwise: the schema states what Flatpeak guarantees.
  DefaultFieldNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
  };
}>({
  plugins: [DirectivePlugin, FederationPlugin],
  defaultFieldNullability: false,
});
