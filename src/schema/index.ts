import { printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { builder } from '../builder.ts';
import { printClientSchema as printClient } from './client-schema.ts';
import { checkRepresentationsFirst } from './entities.ts';
import { servingSdl, withoutSecurityDirectives } from './service-sdl.ts';
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
    // 2.9: @cost and @listSize, the hints routers' demand control estimates from.
    linkUrl: 'https://specs.apollo.dev/federation/v2.9',
    federationDirectives: ['@key', '@authenticated', '@requiresScopes', '@cost', '@listSize'],
  }),
);

/**
 * The query root fields whose resolvers read devices through the request's loader and
 * nothing else, and `__typename`: run a second time in a request, they call Flatpeak no
 * more (src/plugins/execution/use-compiled-execution.ts runs such queries compiled).
 */
export const LOADER_QUERY_FIELDS: ReadonlySet<string> = new Set(['device', 'devices', '_entities', '__typename']);

/** The SDL a router composes (`printSubgraphSchema` form), as committed in schema.graphql. */
export const printSchema = (): string => printSubgraphSchema(schema);

/** The API schema apps generate code from, as committed in schema.client.graphql. */
export const printClientSchema = (): string => printClient(schema);

let withoutSecurity: GraphQLSchema | undefined;

/**
 * The schema to serve. With `omitSecurityDirectives` (SUBGRAPH_SDL_OMIT_SECURITY_DIRECTIVES,
 * for Apollo Gateway), `_service.sdl` leaves out `@authenticated`/`@requiresScopes`; the
 * resolvers, and so every rule they enforce, are the same.
 */
export function servedSchema({ omitSecurityDirectives }: { omitSecurityDirectives: boolean }): GraphQLSchema {
  if (!omitSecurityDirectives) return schema;
  withoutSecurity ??= servingSdl(schema, withoutSecurityDirectives(printSchema()));
  return withoutSecurity;
}
