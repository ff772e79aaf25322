/**
 * The bench's "Yoga floor": the Node floor's schema, loader and pool (devices.ts) run by
 * graphql-yoga with its defaults (its parse and validation cache, masked errors and the
 * rest of its own plugins), with one plugin that runs each document as graphql-jit
 * compiled it. No limits, auth, logs or metrics.
 *
 * By default node:http reads the JSON body and hands its parameters to Yoga's
 * `getResultForParams` (envelop: parameters, context, parse, validation, execution), and
 * the result goes out as JSON, as the Node floor's does. That is the part of Yoga the
 * facade's fast lane runs too; the lane then also runs every plugin's `onRequest`,
 * `onResultProcess` and `onResponse` hooks and Yoga's result processor, which this floor
 * does not. YOGA_FLOOR_HTTP=yoga serves it through Yoga's own HTTP handler instead
 * (`createServer(yoga)`, as Yoga's docs teach it).
 */
import { createServer } from 'node:http';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { createYoga, type GraphQLParams, type Plugin } from 'graphql-yoga';
import { type Context, deviceLoader, schema } from './devices.ts';
import { listen, serveJson } from './http.ts';

const HTTP = process.env.YOGA_FLOOR_HTTP ?? 'params';
if (HTTP !== 'params' && HTTP !== 'yoga') throw new Error(`YOGA_FLOOR_HTTP: params (the default) or yoga, not ${HTTP}`);

/**
 * Compiled per document and operation name; a document graphql-jit cannot compile is
 * remembered as such (null) and left to Yoga's executor. Yoga's parse cache hands the same
 * document to every request with the same text.
 */
const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
function compiledFor(schemaOf: GraphQLSchema, document: DocumentNode, name: string | undefined): CompiledQuery | null {
  let operations = compiled.get(document);
  if (!operations) compiled.set(document, (operations = new Map()));
  let query = operations.get(name ?? '');
  if (query === undefined) {
    const made = compileQuery(schemaOf, document, name);
    operations.set(name ?? '', (query = isCompiledQuery(made) ? made : null));
  }
  return query;
}
const useCompiledQueries: Plugin<Context> = {
  onExecute({ args, setExecuteFn }) {
    const query = compiledFor(args.schema, args.document, args.operationName ?? undefined);
    if (query) setExecuteFn((execution) => query.query(execution.rootValue, execution.contextValue, execution.variableValues));
  },
};

const yoga = createYoga<Record<string, unknown>, Context>({
  schema,
  context: () => ({ devices: deviceLoader() }),
  // The bench sends the floors' requests to / (servers.ts).
  graphqlEndpoint: '/',
  graphiql: false,
  landingPage: false,
  logging: false,
  plugins: [useCompiledQueries],
});
// Read once, as the fast lane does: each read through Yoga's instance (a Proxy) makes a new function.
const { fetchAPI, getResultForParams } = yoga;

listen(
  createServer(
    HTTP === 'yoga'
      ? (req, res) => void yoga(req, res)
      : serveJson(async (body, req) => {
          const request = new fetchAPI.Request(`http://${req.headers.host}${req.url}`, {
            method: 'POST',
            headers: req.headers as Record<string, string>,
          });
          return getResultForParams({ params: JSON.parse(body) as GraphQLParams, request }, { req });
        }),
  ),
);
