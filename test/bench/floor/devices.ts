/**
 * The devices both floors serve: Flatpeak's behind an undici Pool, and the subgraph schema
 * of `schema.graphql` with resolvers that read them through a per-request DataLoader.
 * Environment as the Apollo baseline's: FLATPEAK_API_URL, FLATPEAK_ACCOUNT_ID, FLATPEAK_API_KEY.
 */
import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import DataLoader from 'dataloader';
import { GraphQLScalarType, parse } from 'graphql';
import { Pool } from 'undici';

export type Raw = Record<string, unknown>;
export type Context = { devices: DataLoader<string, Raw> };

const { FLATPEAK_API_URL = '', FLATPEAK_ACCOUNT_ID = '', FLATPEAK_API_KEY = '' } = process.env;
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
export const deviceLoader = () =>
  new DataLoader<string, Raw>((ids) => Promise.all(ids.map((id) => fetchDevice(id).catch((e: Error) => e))));

// camelCase fields read Flatpeak's snake_case ones, as the Apollo baseline's resolvers do;
// only the fields that are more than a rename are written out. Each key is made once.
const renamed = (...fields: string[]) =>
  Object.fromEntries(
    fields.map((field) => {
      const key = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      return [field, (source: Raw) => source[key]];
    }),
  );
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
export const schema = buildSubgraphSchema([{ typeDefs, resolvers }]);
