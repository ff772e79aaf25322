import { printSubgraphSchema } from '@apollo/subgraph';
import { builder } from '../builder.ts';
import { checkRepresentationsFirst } from './entities.ts';
import './scalars.ts';
import './location.ts';
import './device.ts';
import './device-lists.ts';
import './device-mutations.ts';
import './device-subscriptions.ts';

builder.queryType({});
builder.mutationType({ description: 'Changes to devices.' });
builder.subscriptionType({ description: 'Devices as they change.' });

/** The executable subgraph schema: the types above plus `_service` and `_entities`. */
export const schema = checkRepresentationsFirst(
  builder.toSubGraphSchema({
    linkUrl: 'https://specs.apollo.dev/federation/v2.6',
    federationDirectives: ['@key', '@authenticated', '@requiresScopes'],
  }),
);

/** The SDL a router composes (`printSubgraphSchema` form), as committed in schema.graphql. */
export const printSchema = (): string => printSubgraphSchema(schema);
