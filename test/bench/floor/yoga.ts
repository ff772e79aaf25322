/**
 * The bench's "Yoga floor": the least a GraphQL facade over Flatpeak's device API costs on
 * graphql-yoga. The Node floor's schema, loader and pool (devices.ts) run by Yoga with its
 * defaults (its parse and validation cache, masked errors and the rest of its own plugins)
 * and one plugin that runs each document as graphql-jit compiled it, as the facade's does.
 * No limits, auth, logs or metrics.
 *
 * By default it is served as the facade's fast lane serves its requests: node:http reads the
 * JSON body and hands its parameters to Yoga's `getResultForParams` (envelop: parameters,
 * context, parse, validation, execution), and the result is sent as JSON. So the gap
 * between this floor and the Node floor is what Yoga's GraphQL pipeline costs, and the gap
 * between the facade and this floor is what the facade adds to it. YOGA_FLOOR_HTTP=yoga
 * serves it through Yoga's own HTTP handler instead (`createServer(yoga)`, as Yoga's docs
 * teach it), for what that handler costs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { DocumentNode } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { createYoga, type GraphQLParams, type Plugin } from 'graphql-yoga';
import { type Context, deviceLoader, listen, schema } from './devices.ts';

/** Yoga's parse cache hands the same document to every request with the same text. */
const compiled = new WeakMap<DocumentNode, CompiledQuery>();
const useCompiledQueries: Plugin<Context> = {
  onExecute({ args, setExecuteFn }) {
    let query = compiled.get(args.document);
    if (!query) {
      const made = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      if (!isCompiledQuery(made)) return;
      compiled.set(args.document, (query = made));
    }
    const run = query;
    setExecuteFn((execution) => run.query(execution.rootValue, execution.contextValue, execution.variableValues));
  },
};

const yoga = createYoga<Record<string, unknown>, Context>({
  schema,
  context: () => ({ devices: deviceLoader() }),
  // Where the bench sends every server's requests.
  graphqlEndpoint: '/',
  graphiql: false,
  landingPage: false,
  logging: false,
  plugins: [useCompiledQueries],
});

/** As the facade's fast lane serves a JSON POST: its parameters to `getResultForParams`, the result as JSON. */
async function respond(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
  let result: unknown;
  try {
    const params = JSON.parse(body) as GraphQLParams;
    const request = new yoga.fetchAPI.Request(`http://${req.headers.host}${req.url}`, {
      method: 'POST',
      headers: req.headers as Record<string, string>,
    });
    result = await yoga.getResultForParams({ params, request }, { req, res });
  } catch (error) {
    result = { errors: [{ message: String(error) }] };
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
}

listen(
  createServer(
    process.env.YOGA_FLOOR_HTTP === 'yoga'
      ? (req, res) => void yoga(req, res)
      : (req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => void respond(req, res, Buffer.concat(chunks).toString()));
        },
  ),
);
