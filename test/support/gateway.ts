import { readFile } from 'node:fs/promises';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import type { Trace } from '@apollo/usage-reporting-protobuf';
import { type ASTNode, Kind, parse, print, visit } from 'graphql';
import { LOCATIONS_SDL } from './locations-subgraph.ts';

/**
 * The company supergraph, in-process: the committed schema.graphql and the locations
 * subgraph composed by Apollo's composition library, served by Apollo Gateway on Apollo
 * Server over real HTTP, calling each subgraph over real HTTP.
 */

export async function composeSupergraph(
  urls: { devices: URL; locations: URL },
  /** This subgraph's SDL; the committed schema.graphql if not given. */
  sdl?: string,
) {
  const devicesSdl = sdl ?? (await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8'));
  return composeServices([
    { name: 'devices', typeDefs: parse(devicesSdl), url: urls.devices.href },
    { name: 'locations', typeDefs: parse(LOCATIONS_SDL), url: urls.locations.href },
  ]);
}

/** One request the gateway sent to a subgraph, and what it got back. */
export interface SubgraphFetch {
  readonly subgraph: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly headers: Record<string, string>;
  readonly ftv1: unknown;
}

/** A request body exactly as the gateway put it on the wire to a subgraph. */
export interface SentBody {
  readonly subgraph: string;
  readonly query?: string;
  readonly extensions?: { persistedQuery?: { sha256Hash: string } };
}

export interface Gateway {
  readonly url: URL;
  readonly fetches: SubgraphFetch[];
  readonly sent: SentBody[];
  /** The query-plan trace of each request that asked for traces. */
  readonly queryPlanTraces: Trace.IQueryPlanNode[];
  close(): Promise<void>;
}

interface GatewayContext {
  readonly authorization?: string | undefined;
  readonly requestId?: string | undefined;
}

/**
 * A request with `x-capture-traces: true` is traced, as when the router reports usage to
 * GraphOS: the gateway then asks each subgraph for its ftv1 trace and assembles them.
 */
export const CAPTURE_TRACES_HEADER = 'x-capture-traces';

export interface GatewayOptions {
  /** Send subgraph operations as automatic persisted queries (hash first), as a router can. */
  readonly apq?: boolean;
  /**
   * False: serve the supergraph exactly as composed (a subgraph that leaves the security
   * directives out of its SDL needs no edit); Apollo Gateway then refuses any that has them.
   */
  readonly stripSecurityFeatures?: boolean;
}

const SECURITY_DIRECTIVES = new Set(['authenticated', 'requiresScopes']);

/**
 * Apollo Gateway (JS) refuses a supergraph that links `for: SECURITY` features, which only
 * Apollo Router enforces (@authenticated, @requiresScopes). The gateway in these tests gets
 * the supergraph without them; the subgraph enforces the same rules itself either way,
 * which is what these tests prove.
 */
export function withoutSecurityFeatures(supergraphSdl: string): string {
  const isSecurity = (node: ASTNode): boolean =>
    (node.kind === Kind.DIRECTIVE && SECURITY_DIRECTIVES.has(node.name.value)) ||
    (node.kind === Kind.DIRECTIVE_DEFINITION && SECURITY_DIRECTIVES.has(node.name.value)) ||
    (node.kind === Kind.SCALAR_TYPE_DEFINITION && node.name.value.startsWith('requiresScopes__')) ||
    (node.kind === Kind.DIRECTIVE &&
      node.name.value === 'link' &&
      node.arguments?.some(
        (argument) => argument.name.value === 'for' && argument.value.kind === Kind.ENUM && argument.value.value === 'SECURITY',
      ) === true);
  return print(visit(parse(supergraphSdl), { enter: (node) => (isSecurity(node) ? null : undefined) }));
}

export async function startGateway(
  composedSdl: string,
  { apq = false, stripSecurityFeatures = true }: GatewayOptions = {},
): Promise<Gateway> {
  const supergraphSdl = stripSecurityFeatures ? withoutSecurityFeatures(composedSdl) : composedSdl;
  const fetches: SubgraphFetch[] = [];
  const sent: SentBody[] = [];
  const queryPlanTraces: Trace.IQueryPlanNode[] = [];

  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url,
        apq,
        // Node's fetch (the gateway's default honours proxy variables, and this is loopback),
        // recording each body as sent.
        fetcher: (async (input: string, init: RequestInit) => {
          if (typeof init.body === 'string') sent.push({ subgraph: name, ...(JSON.parse(init.body) as object) });
          return fetch(input, init);
        }) as never,
        // The caller's credentials and request id travel to each subgraph, as a router's
        // header propagation rules would send them.
        willSendRequest({ request, context }) {
          if (context.authorization) request.http?.headers.set('authorization', context.authorization);
          if (context.requestId) request.http?.headers.set('x-request-id', context.requestId);
        },
        didReceiveResponse({ request, response }) {
          fetches.push({
            subgraph: name,
            query: request.query ?? '',
            variables: request.variables ?? {},
            headers: Object.fromEntries(request.http?.headers ?? []),
            ftv1: response.extensions?.ftv1,
          });
          return response;
        },
      }),
  });

  const tracing: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ request, metrics }) {
      if (request.http?.headers.get(CAPTURE_TRACES_HEADER) === 'true') metrics.captureTraces = true;
      return {
        async willSendResponse({ metrics: done }) {
          if (done.queryPlanTrace) queryPlanTraces.push(done.queryPlanTrace);
        },
      };
    },
  };

  const server = new ApolloServer<GatewayContext>({ gateway, plugins: [tracing] });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({
      authorization: req.headers.authorization,
      requestId: typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : undefined,
    }),
  });
  return {
    url: new URL(url),
    fetches,
    sent,
    queryPlanTraces,
    close: () => server.stop(),
  };
}
