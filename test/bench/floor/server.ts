/**
 * The bench's "Node floor": the least a GraphQL facade over Flatpeak's device API costs in
 * Node, for the facade's CPU per request to be held against. node:http, graphql-jit (a query
 * compiled per query text, validated once), `buildSubgraphSchema` for `_entities`, a
 * DataLoader per request, an undici Pool; no limits, auth, logs or metrics, on purpose.
 * Environment and start-up line as the Apollo baseline's (PORT, FLATPEAK_*; `{"msg":"listening"}`).
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import DataLoader from 'dataloader';
import { type ExecutionResult, GraphQLScalarType, parse, validate } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { Pool } from 'undici';

type Raw = Record<string, unknown>;
type Context = { devices: DataLoader<string, Raw> };

const { PORT = '4000', FLATPEAK_API_URL = '', FLATPEAK_ACCOUNT_ID = '', FLATPEAK_API_KEY = '' } = process.env;
if (!FLATPEAK_API_URL || !FLATPEAK_ACCOUNT_ID || !FLATPEAK_API_KEY)
  throw new Error('FLATPEAK_API_URL, _ACCOUNT_ID and _API_KEY are required');
const api = new URL(FLATPEAK_API_URL.replace(/\/?$/, '/'));
// As many connections as the facade allows itself by default (FLATPEAK_MAX_CONNECTIONS).
const pool = new Pool(api.origin, { connections: 256 });
const basic = `Basic ${Buffer.from(`${FLATPEAK_ACCOUNT_ID}:${FLATPEAK_API_KEY}`).toString('base64')}`;

async function get(path: string, authorization: string): Promise<unknown> {
  const { statusCode, body } = await pool.request({ method: 'GET', path: new URL(path, api).pathname, headers: { authorization } });
  const json: unknown = await body.json();
  if (statusCode !== 200) throw new Error(`Flatpeak answered ${statusCode} to GET ${path}`);
  return json;
}

/** Flatpeak's bearer token from /login, fetched again a minute before it expires. */
let token: { value: Promise<string>; renewAt: number } | undefined;
function bearer(): Promise<string> {
  if (!token || Date.now() >= token.renewAt) {
    const login = get('login', basic) as Promise<{ bearer_token: string; expires_in: number }>;
    const entry = (token = { value: login.then((body) => `Bearer ${body.bearer_token}`), renewAt: Infinity });
    login.then(
      (body) => (entry.renewAt = Date.now() + (body.expires_in - 60) * 1000),
      () => (token = undefined),
    );
  }
  return token.value;
}

const fetchDevice = async (id: string) => (await get(`devices/${encodeURIComponent(id)}`, await bearer())) as Raw;
/** One call per distinct id per request; a device that fails is an error at its place alone. */
const deviceLoader = () => new DataLoader<string, Raw>((ids) => Promise.all(ids.map((id) => fetchDevice(id).catch((e: Error) => e))));

// camelCase fields read Flatpeak's snake_case ones, as the Apollo baseline's resolvers do;
// only the fields that are more than a rename are written out.
const renamed = (...fields: string[]) =>
  Object.fromEntries(fields.map((field) => [field, (source: Raw) => source[field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]]));
const resolvers: GraphQLResolverMap<Context> = {
  DateTime: new GraphQLScalarType({ name: 'DateTime', serialize: (value) => new Date(value as string).toISOString() }),
  Query: {
    device: (_: unknown, { id }: { id: string }, { devices }: Context) => devices.load(id),
    devices: (_: unknown, { ids }: { ids: string[] }, { devices }: Context) => ids.map((id) => devices.load(id)),
  },
  Device: {
    __resolveReference: ({ id }: { id: string }, { devices }: Context) => devices.load(id),
    ...renamed('liveMode', 'referenceId', 'modelCode', 'modelName', 'timeCreated', 'accountId', 'lastSeen'),
    locations: (device: Raw) => ((device.locations as string[] | undefined) ?? []).map((id) => ({ id })),
    flexEnabled: (device: Raw) => device.flex_enabled ?? true,
  },
  DeviceProperties: renamed(
    ...['powerRatingImportKwh', 'capacityKwh', 'powerRatingExportKwh', 'pvAzimuth', 'pvTilt', 'pvTerrainShading'],
    ...['pvForecastsEnabled', 'installDate'],
  ),
};
const typeDefs = parse(readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8'));
const schema = buildSubgraphSchema([{ typeDefs, resolvers }]);

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

async function respond(body: string, res: ServerResponse): Promise<void> {
  let result: unknown;
  try {
    const { query, variables } = JSON.parse(body) as { query: string; variables?: Raw };
    const entry = compile(query);
    result = isCompiledQuery(entry) ? await entry.query(undefined, { devices: deviceLoader() }, variables) : entry;
  } catch (error) {
    result = { errors: [{ message: String(error) }] };
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => void respond(Buffer.concat(chunks).toString(), res));
});
server.listen(Number(PORT), '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${PORT}/` })));
// Nothing to drain: the bench stops a server only after its last run has been answered.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
