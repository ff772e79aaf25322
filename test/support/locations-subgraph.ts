import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { sampleDevices } from '../../tools/standin/data.ts';

/**
 * A stand-in for the other team's locations subgraph: it owns `Location` and knows which
 * devices are at each location (as `Device` references that the devices subgraph resolves).
 */
export const LOCATIONS_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])

  """
  A Flatpeak Location, as the locations team's service knows it.
  """
  type Location @key(fields: "id") {
    id: ID!
    """
    What the location's owner calls it.
    """
    name: String!
    """
    IANA time zone of the location.
    """
    timezone: String!
    """
    ISO 3166-1 alpha-2 country code.
    """
    country: String!
    """
    The devices registered at this location.
    """
    devices: [Device!]!
  }

  type Device @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Query {
    location(id: ID!): Location
    locations(ids: [ID!]!): [Location]!
  }
`;

export interface LocationRecord {
  readonly id: string;
  readonly name: string;
  readonly timezone: string;
  readonly country: string;
  readonly deviceIds: readonly string[];
}

const ZONES = [
  ['Europe/London', 'GB'],
  ['Europe/Berlin', 'DE'],
  ['America/New_York', 'US'],
] as const;

/** Every location the sample devices are at, each with those devices. */
export function sampleLocations(): ReadonlyMap<string, LocationRecord> {
  const byId = new Map<string, { id: string; deviceIds: string[] }>();
  for (const device of sampleDevices()) {
    const ids = Array.isArray(device.locations) ? (device.locations as string[]) : [];
    for (const id of ids) {
      const entry = byId.get(id) ?? { id, deviceIds: [] };
      entry.deviceIds.push(device.id);
      byId.set(id, entry);
    }
  }
  return new Map(
    [...byId.values()].map((entry, i) => {
      const [timezone, country] = ZONES[i % ZONES.length]!;
      return [entry.id, { ...entry, name: `Site ${i + 1}`, timezone, country }];
    }),
  );
}

export interface LocationsSubgraph {
  readonly url: URL;
  readonly locations: ReadonlyMap<string, LocationRecord>;
  close(): Promise<void>;
}

export async function startLocationsSubgraph(): Promise<LocationsSubgraph> {
  const locations = sampleLocations();
  const schema = buildSubgraphSchema({
    typeDefs: parse(LOCATIONS_SDL),
    resolvers: {
      Query: {
        location: (_root: unknown, { id }: { id: string }) => locations.get(id) ?? null,
        locations: (_root: unknown, { ids }: { ids: string[] }) => ids.map((id) => locations.get(id) ?? null),
      },
      Location: {
        __resolveReference: ({ id }: { id: string }) => locations.get(id) ?? null,
        devices: (location: LocationRecord) => location.deviceIds.map((id) => ({ id })),
      },
    },
  });
  const yoga = createYoga({ schema, graphqlEndpoint: '/graphql', landingPage: false, graphiql: false, logging: false });
  const server: Server = createServer((req, res) => void yoga(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/graphql`),
    locations,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
