/**
 * What the bench sends: the GraphQL bodies of each workload, and the extra devices the
 * stand-in serves so that `entities50` can ask for 50 distinct ones (the sample set has 35,
 * and a router deduplicates representations before it calls a subgraph).
 */
import { type RawDevice, SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';

export const ALL_FIELDS = `id liveMode referenceId locations { id } manufacturer modelCode modelName timeCreated accountId lastSeen flexEnabled
  properties { powerRatingImportKwh capacityKwh powerRatingExportKwh pvAzimuth pvTilt pvTerrainShading pvForecastsEnabled installDate }`;

/** Copies of the complete sample devices under new ids, for the 50-entity workload. */
export function benchDevices(): RawDevice[] {
  const complete = sampleDevices().filter((device) => device.manufacturer !== undefined);
  return Array.from({ length: 64 }, (_, i) => ({
    ...complete[i % complete.length]!,
    id: `dev_b${i.toString(16).padStart(23, '0')}`,
    reference_id: `BENCH-${String(i + 1).padStart(3, '0')}`,
  }));
}

export interface Workload {
  readonly name: string;
  /** One line for the report: what a request asks for. */
  readonly description: string;
  /** The request bodies, sent in turn (most workloads have one). */
  readonly bodies: readonly string[];
  /** Share of the stand-in's device answers that are 503s while this workload runs. */
  readonly upstream503?: number;
}

const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });

const generated = sampleDevices()
  .slice(3)
  .map((device) => device.id);
const sixteen = generated.slice(0, 16);
const twentyIds = [...sixteen, ...sixteen.slice(0, 4)];
const fiftyIds = benchDevices()
  .slice(0, 50)
  .map((device) => device.id);
const hotIds = generated.slice(16, 24);

const DEVICE = `query Device($id: ID!) { device(id: $id) { ${ALL_FIELDS} } }`;
const DEVICES = `query Devices($ids: [ID!]!) { devices(ids: $ids) { ${ALL_FIELDS} } }`;
const ENTITIES = `query Entities($representations: [_Any!]!) { _entities(representations: $representations) { ... on Device { ${ALL_FIELDS} } } }`;

export const WORKLOADS: readonly Workload[] = [
  { name: 'single', description: 'device(id), all fields', bodies: [body(DEVICE, { id: SEED_DEVICE_ID })] },
  {
    name: 'batch20',
    description: 'devices(ids): 20 ids, 16 distinct (4 duplicates), all fields',
    bodies: [body(DEVICES, { ids: twentyIds })],
  },
  {
    name: 'entities50',
    description: '_entities: 50 distinct Device representations, all fields (as a router sends them)',
    bodies: [body(ENTITIES, { representations: fiftyIds.map((id) => ({ __typename: 'Device', id })) })],
  },
  {
    // One id per request, in turn over 8 ids, so that with 64 connections about 8 requests
    // wait for each id at any moment. Within a request there is nothing to deduplicate: every
    // upstream call saved is saved across requests, and upstream calls per request reads
    // directly as the share of loads that reached Flatpeak (1.0 without coalescing).
    name: 'hot',
    description: 'device(id), all fields, each request one of the same 8 ids in turn',
    bodies: hotIds.map((id) => body(DEVICE, { id })),
  },
  {
    name: 'batch20-503',
    description: 'batch20 while 30 % of upstream device answers are 503s (opt-in)',
    bodies: [body(DEVICES, { ids: twentyIds })],
    upstream503: 0.3,
  },
];

/** The workloads a default run measures; `batch20-503` only when asked for by name. */
export const DEFAULT_WORKLOADS = ['single', 'batch20', 'entities50', 'hot'];
