/**
 * The bench's baseline: the same subgraph built the way Apollo's docs teach it. Apollo
 * Server 5 with `startStandaloneServer`, `buildSubgraphSchema` over the committed
 * schema.graphql, resolvers mapping Flatpeak's snake_case fields, and a RESTDataSource made
 * per request. No caching configured beyond the defaults, no limits of its own.
 *
 * Environment: PORT, FLATPEAK_API_URL, FLATPEAK_ACCOUNT_ID, FLATPEAK_API_KEY. Prints one JSON
 * line `{"msg":"listening","url":…}` once it serves.
 */
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { GraphQLScalarType, parse } from 'graphql';
import { type FlatpeakDevice, FlatpeakAPI } from './flatpeak-api.ts';
import { serviceToken } from './service-token.ts';

interface ContextValue {
  dataSources: { flatpeak: FlatpeakAPI };
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const baseURL = env('FLATPEAK_API_URL').replace(/\/?$/, '/');
const token = serviceToken(baseURL, env('FLATPEAK_ACCOUNT_ID'), env('FLATPEAK_API_KEY'));

const typeDefs = parse(readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8'));

const resolvers: GraphQLResolverMap<ContextValue> = {
  DateTime: new GraphQLScalarType({
    name: 'DateTime',
    serialize: (value) => new Date(value as string).toISOString(),
  }),
  Query: {
    device: (_: unknown, { id }: { id: string }, { dataSources }: ContextValue) => dataSources.flatpeak.getDevice(id),
    // One promise per id: a device that fails is null with its own error, the others stand.
    devices: (_: unknown, { ids }: { ids: string[] }, { dataSources }: ContextValue) => ids.map((id) => dataSources.flatpeak.getDevice(id)),
  },
  Device: {
    __resolveReference: ({ id }: { id: string }, { dataSources }: ContextValue) => dataSources.flatpeak.getDevice(id),
    liveMode: (device: FlatpeakDevice) => device.live_mode,
    referenceId: (device: FlatpeakDevice) => device.reference_id,
    locations: (device: FlatpeakDevice) => (device.locations ?? []).map((id) => ({ id })),
    modelCode: (device: FlatpeakDevice) => device.model_code,
    modelName: (device: FlatpeakDevice) => device.model_name,
    timeCreated: (device: FlatpeakDevice) => device.time_created,
    accountId: (device: FlatpeakDevice) => device.account_id,
    lastSeen: (device: FlatpeakDevice) => device.last_seen,
    flexEnabled: (device: FlatpeakDevice) => device.flex_enabled ?? true,
  },
  DeviceProperties: {
    powerRatingImportKwh: (p: Record<string, unknown>) => p.power_rating_import_kwh,
    capacityKwh: (p: Record<string, unknown>) => p.capacity_kwh,
    powerRatingExportKwh: (p: Record<string, unknown>) => p.power_rating_export_kwh,
    pvAzimuth: (p: Record<string, unknown>) => p.pv_azimuth,
    pvTilt: (p: Record<string, unknown>) => p.pv_tilt,
    pvTerrainShading: (p: Record<string, unknown>) => p.pv_terrain_shading,
    pvForecastsEnabled: (p: Record<string, unknown>) => p.pv_forecasts_enabled,
    installDate: (p: Record<string, unknown>) => p.install_date,
  },
};

const server = new ApolloServer<ContextValue>({ schema: buildSubgraphSchema([{ typeDefs, resolvers }]) });

const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT ?? 4000), host: '127.0.0.1' },
  context: async () => {
    const { cache } = server;
    return { dataSources: { flatpeak: new FlatpeakAPI({ baseURL, token: await token(), cache }) } };
  },
});
console.log(JSON.stringify({ msg: 'listening', url }));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => void server.stop().then(() => process.exit(0)));
}
