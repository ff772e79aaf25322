/**
 * What the bench sends: the GraphQL bodies of each workload, and the extra devices the
 * stand-in serves so that requests can ask for devices drawn from a fleet (the sample set has
 * 35). Apps ask for their own devices, not one id shared by every caller: `single`, `batch20`
 * and `entities50` draw fresh ids for every request, so that what in-flight coalescing saves
 * is only what it would save on real traffic. `same` and `hot` are the coalescing workloads.
 */
import { type RawDevice, SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { distinctIndices, seededRandom } from './random.ts';

export const ALL_FIELDS = `id liveMode referenceId locations { id } manufacturer modelCode modelName timeCreated accountId lastSeen flexEnabled
  properties { powerRatingImportKwh capacityKwh powerRatingExportKwh pvAzimuth pvTilt pvTerrainShading pvForecastsEnabled installDate }`;

/**
 * How many devices the random workloads draw from (BENCH_FLEET_SIZE). Issue 17 asks for at
 * least 500, but 500 is not enough to keep requests apart: a saturated server holds each
 * upstream call open for its whole event-loop queue, and `entities50` at 32 connections then
 * found about 60 % of its ids already in flight for another request (35 % for `batch20`),
 * so the rows measured coalescing again. 100,000 keeps that to a few percent at latency 0
 * and costs the stand-in about half a second and 80 MB.
 */
export const FLEET_SIZE = fleetSize(process.env.BENCH_FLEET_SIZE);

function fleetSize(value: string | undefined): number {
  const size = Number(value ?? 100_000);
  if (!Number.isInteger(size) || size < 50)
    throw new Error(`BENCH_FLEET_SIZE: an integer of at least 50 (entities50 asks for 50 distinct ids), got ${value}`);
  return size;
}

/**
 * Bodies generated per random workload and sent in turn. Enough that a run never sees the
 * same body twice close together (the facade keeps no answer by default, so a body seen
 * again thousands of requests later costs what a fresh one does), few enough to stay a few
 * MB in the load generator.
 */
const BODIES_PER_WORKLOAD = 4096;

/** The id of the bench fleet's device `i` (0 ≤ i < FLEET_SIZE). */
export const benchDeviceId = (i: number) => `dev_b${i.toString(16).padStart(23, '0')}`;

/** Copies of the complete sample devices under new ids: the fleet the random workloads draw from. */
export function benchDevices(): RawDevice[] {
  const complete = sampleDevices().filter((device) => device.manufacturer !== undefined);
  return Array.from({ length: FLEET_SIZE }, (_, i) => ({
    ...complete[i % complete.length]!,
    id: benchDeviceId(i),
    reference_id: `BENCH-${String(i + 1).padStart(3, '0')}`,
  }));
}

export interface Workload {
  readonly name: string;
  /** One line for the report: what a request asks for. */
  readonly description: string;
  /** The request bodies, sent in turn, one per request. */
  readonly bodies: readonly string[];
  /** Share of the stand-in's device answers that are 503s while this workload runs. */
  readonly upstream503?: number;
}

const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });

const hotIds = sampleDevices()
  .slice(3)
  .map((device) => device.id)
  .slice(16, 24);

/**
 * `count` bodies, each from `variables(draw)` with `draw(k)` giving k distinct fleet ids.
 * Every workload has a PRNG of its own, seeded by its name: every run (and every server in a
 * run, since each measurement starts at the first body) sends the same sequence, and adding
 * a workload changes no other.
 */
function randomBodies(seed: string, query: string, variables: (draw: (k: number) => string[]) => Record<string, unknown>): string[] {
  const random = seededRandom(seed);
  const draw = (k: number) => distinctIndices(random, FLEET_SIZE, k).map(benchDeviceId);
  return Array.from({ length: BODIES_PER_WORKLOAD }, () => body(query, variables(draw)));
}

/** 16 distinct ids, then 4 of them again: what a list screen with a few repeats sends. */
const twentyIds = (draw: (k: number) => string[]) => {
  const sixteen = draw(16);
  return [...sixteen, ...sixteen.slice(0, 4)];
};

const DEVICE = `query Device($id: ID!) { device(id: $id) { ${ALL_FIELDS} } }`;
const DEVICES = `query Devices($ids: [ID!]!) { devices(ids: $ids) { ${ALL_FIELDS} } }`;
const ENTITIES = `query Entities($representations: [_Any!]!) { _entities(representations: $representations) { ... on Device { ${ALL_FIELDS} } } }`;

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'single',
    description: `device(id), all fields, the id drawn at random from ${FLEET_SIZE} for each request`,
    bodies: randomBodies('single', DEVICE, (draw) => ({ id: draw(1)[0] })),
  },
  {
    // The one workload where every request could share one upstream call: the difference
    // from `single` is what a call costs the server beyond the request itself.
    name: 'same',
    description: 'device(id), all fields, the same id in every request',
    bodies: [body(DEVICE, { id: SEED_DEVICE_ID })],
  },
  {
    name: 'batch20',
    description: `devices(ids): 20 ids, 16 distinct drawn at random from ${FLEET_SIZE} and 4 of them repeated, all fields`,
    bodies: randomBodies('batch20', DEVICES, (draw) => ({ ids: twentyIds(draw) })),
  },
  {
    name: 'entities50',
    description: `_entities: 50 distinct Device representations drawn at random from ${FLEET_SIZE}, all fields (as a router sends them)`,
    bodies: randomBodies('entities50', ENTITIES, (draw) => ({
      representations: draw(50).map((id) => ({ __typename: 'Device', id })),
    })),
  },
  {
    // One id per request, in turn over 8 ids, so that with 32 connections about 4 requests
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
    bodies: randomBodies('batch20', DEVICES, (draw) => ({ ids: twentyIds(draw) })),
    upstream503: 0.3,
  },
];

/** The workloads a default run measures; `batch20-503` only when asked for by name. */
export const DEFAULT_WORKLOADS = ['single', 'same', 'batch20', 'entities50', 'hot'];
