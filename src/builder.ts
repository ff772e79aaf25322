import SchemaBuilder from '@pothos/core';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import RelayPlugin from '@pothos/plugin-relay';
import type { Context } from './context.ts';

/** The builder's types: the context, nullability defaults and scalars. */
interface UserTypes {
  Context: Context;
  // Non-null unless a field says otherwise: the schema states what Flatpeak guarantees.
  DefaultFieldNullability: false;
  // A page holds every edge; a device that cannot be read is a null node with its error.
  DefaultEdgesNullability: false;
  DefaultNodeNullability: true;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
  };
}

/** The same, with Pothos' defaults filled in: what its builders (`InputFieldBuilder`, …) take. */
export type BuilderTypes = PothosSchemaTypes.ExtendDefaultTypes<UserTypes>;

/** The Pothos builder: plugins, context and scalar typing. Types live in `schema/`. */
export const builder = new SchemaBuilder<UserTypes>({
  plugins: [DirectivePlugin, FederationPlugin, RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    // Connections only: devices are fetched by their Flatpeak ids, not by global Node ids.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    cursorType: 'String',
    edgesFieldOptions: { nullable: false, description: 'The devices of this page, newest first.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the whole list.' },
    nodeFieldOptions: { nullable: true, description: 'The device; null, with an error at this path, if it could not be read.' },
    cursorFieldOptions: { description: 'Where this edge is in the list: pass it as `after` to continue after it.' },
    // Not `PageInfo`: in a supergraph, another subgraph's PageInfo with other fields would
    // not compose with ours.
    pageInfoTypeOptions: { name: 'DevicePageInfo', description: 'Where a page sits in the whole list, and how to ask for the next one.' },
    hasNextPageFieldOptions: { description: 'True when Flatpeak has more devices after this page.' },
    hasPreviousPageFieldOptions: { description: 'True when this page was asked for with a cursor (`after`).' },
    startCursorFieldOptions: { description: 'The cursor of the first edge of the page, if any.' },
    endCursorFieldOptions: { description: 'The cursor of the last edge of the page: pass it as `after` for the next page.' },
  },
});
