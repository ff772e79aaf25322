/**
 * The bench's "Node floor": the least a GraphQL facade over Flatpeak's device API costs in
 * Node, for the facade's CPU per request to be held against. node:http, graphql-jit (a query
 * compiled per query text, validated once), `buildSubgraphSchema` for `_entities`, a
 * DataLoader per request, an undici Pool (devices.ts); no limits, auth, logs or metrics, on
 * purpose.
 */
import { createServer } from 'node:http';
import { type ExecutionResult, parse, validate } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { deviceLoader, type Raw, schema } from './devices.ts';
import { listen, serveJson } from './http.ts';

/** Kept for the life of the process, unbounded: the bench sends a handful of query texts. */
const compiled = new Map<string, CompiledQuery | ExecutionResult>();
function compile(query: string): CompiledQuery | ExecutionResult {
  let entry = compiled.get(query);
  if (!entry) {
    const document = parse(query);
    const errors = validate(schema, document);
    compiled.set(query, (entry = errors.length > 0 ? { errors } : compileQuery(schema, document)));
  }
  return entry;
}

listen(
  createServer(
    serveJson(async (body) => {
      const { query, variables } = JSON.parse(body) as { query: string; variables?: Raw };
      const entry = compile(query);
      return isCompiledQuery(entry) ? await entry.query(undefined, { devices: deviceLoader() }, variables) : entry;
    }),
  ),
);
