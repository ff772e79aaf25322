import { printSubgraphSchema } from '@apollo/subgraph';
import { builder } from '../builder.ts';
import { checkRepresentationsFirst } from './entities.ts';
import './scalars.ts';
import './location.ts';
import './device.ts';
import './device-lists.ts';

builder.queryType({});

/** The executable subgraph schema: the types above plus `_service` and `_entities`. */
export const schema = checkRepresentationsFirst(
  builder.toSubGraphSchema({
    linkUrl: 'https://specs.apollo.dev/federation/v2.6',
    federationDirectives: ['@key', '@authenticated', '@requiresScopes'],
  }),
);

/** The SDL a router composes (`printSubgraphSchema` form), as committed in schema.graphql. */
export const printSchema = (): string => printSubgraphSchema(schema);
