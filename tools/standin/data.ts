/** Flatpeak's REST device, as the stand-in stores and serves it (snake_case, raw JSON). */
export type RawDevice = Record<string, unknown> & { id: string; time_created: string; reference_id: string };

export const DEMO_ACCOUNT_ID = 'acc_661677911f2197045e6cf1b1';
export const SEED_DEVICE_ID = 'dev_63a6087272941ef077a8fd3e';

/** The device of Flatpeak's "Retrieve a device" page, field for field. */
export const seedDevice: RawDevice = {
  id: SEED_DEVICE_ID,
  object: 'device',
  live_mode: true,
  reference_id: 'DEV1234567890',
  locations: ['loc_641b90b758fb8e6293716e40'],
  manufacturer: 'Nova Systems',
  model_code: 'PICOXN2',
  model_name: 'Pico Ultimate',
  time_created: '2022-01-24T14:15:22Z',
  account_id: DEMO_ACCOUNT_ID,
  properties: {
    power_rating_import_kwh: 14.2,
    capacity_kwh: 123,
    power_rating_export_kwh: 7,
    pv_azimuth: 0,
    pv_tilt: 23,
    pv_terrain_shading: false,
    pv_forecasts_enabled: false,
    install_date: '2022-03-22T11:12:21Z',
  },
  last_seen: '2022-03-22T11:12:21Z',
  flex_enabled: true,
};

/** A device with only the fields the current API requires: every optional one is absent. */
export const MINIMAL_DEVICE_ID = 'dev_000000000000000000000001';
/** A device as older API versions return it: no locations, manufacturer or model. */
export const LEGACY_DEVICE_ID = 'dev_000000000000000000000002';

const MODELS = [
  ['Nova Systems', 'PICOXN2', 'Pico Ultimate'],
  ['Voltaic', 'VX-11', 'Wallbox 11'],
  ['Heliodyne', 'HD-PV6', 'Roof Array 6'],
  ['Stormcell', 'SC-B13', 'Home Battery 13.5'],
  ['Ampere Motors', 'AM-E4', 'E4 Hatchback'],
] as const;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/**
 * Thirty-odd devices with varied shapes; the same on every start, so tests can name them.
 * One is a bad upstream answer on purpose: LEGACY_DEVICE_ID, as older API versions send a
 * device, lacks the model fields the schema declares non-null, so selecting one of them
 * answers UPSTREAM_BAD_RESPONSE for that device (docs/consumers.md, "A malformed device in a
 * listing", shows it). Other malformed shapes are the tests' own (malformed-listing.test.ts).
 */
export function sampleDevices(): RawDevice[] {
  const generated: RawDevice[] = Array.from({ length: 32 }, (_, i) => {
    const [manufacturer, modelCode, modelName] = MODELS[i % MODELS.length]!;
    const created = new Date(Date.UTC(2023, 0, 1 + i * 7, 9, i % 60, 0));
    const device: RawDevice = {
      id: `dev_${hex(0x6500_0000 + i * 977, 8)}${hex(i * 7919 + 1, 16)}`,
      object: 'device',
      live_mode: i % 4 !== 0,
      reference_id: `SAMPLE-${String(i + 1).padStart(3, '0')}`,
      locations: i % 3 === 0 ? [] : [`loc_${hex(0x6600_0000 + i, 24)}`],
      manufacturer,
      model_code: modelCode,
      model_name: modelName,
      time_created: created.toISOString().replace('.000Z', 'Z'),
      account_id: DEMO_ACCOUNT_ID,
    };
    if (i % 2 === 0) {
      device.properties = {
        power_rating_import_kwh: 7.4 + i,
        capacity_kwh: 10 + i * 2.5,
        ...(i % 4 === 0 ? { pv_azimuth: (i * 15) % 360, pv_tilt: 20 + (i % 15), pv_terrain_shading: i % 8 === 0 } : {}),
      };
    }
    if (i % 5 !== 0) device.last_seen = new Date(created.getTime() + 86_400_000 * (i + 1)).toISOString();
    if (i % 6 === 0) device.flex_enabled = false;
    // A field Flatpeak may add one day: the facade must ignore it.
    if (i % 7 === 0) device.firmware_version = `1.${i}.0`;
    return device;
  });

  const minimal: RawDevice = {
    id: MINIMAL_DEVICE_ID,
    object: 'device',
    live_mode: false,
    reference_id: 'MINIMAL',
    locations: [],
    manufacturer: 'Voltaic',
    model_code: 'VX-7',
    model_name: 'Wallbox 7',
    time_created: '2021-06-01T08:00:00.003',
    account_id: DEMO_ACCOUNT_ID,
  };
  const legacy: RawDevice = {
    id: LEGACY_DEVICE_ID,
    object: 'device',
    live_mode: true,
    reference_id: 'LEGACY',
    time_created: '2020-02-02T02:02:02Z',
    account_id: DEMO_ACCOUNT_ID,
  };
  return [seedDevice, minimal, legacy, ...generated];
}

/** The development identity's users (tools/standin/identity.ts, `npm run token`). */
export const SAMPLE_USERS = ['alice', 'bob'] as const;
export const ALICE_DEVICE_ID = 'dev_a11ce0000000000000000001';
export const BOB_DEVICE_ID = 'dev_b0b000000000000000000001';

/**
 * Devices owned by the sample users: their `reference_id` is the user's name, which is what
 * the service matches against a token's `sub` (AUTH_REFERENCE_CLAIM's default), so that
 * alice sees hers and bob is refused them. Older than every other sample device, so that
 * they come last in listings and leave the first pages the documentation shows unchanged.
 */
export function userDevices(): RawDevice[] {
  const device = (id: string, referenceId: string, created: string, model: readonly [string, string, string]): RawDevice => ({
    id,
    object: 'device',
    live_mode: true,
    reference_id: referenceId,
    locations: [],
    manufacturer: model[0],
    model_code: model[1],
    model_name: model[2],
    time_created: created,
    account_id: DEMO_ACCOUNT_ID,
    flex_enabled: true,
  });
  return [
    device(ALICE_DEVICE_ID, 'alice', '2019-05-01T10:00:00Z', MODELS[1]),
    device('dev_a11ce0000000000000000002', 'alice', '2019-04-01T10:00:00Z', MODELS[3]),
    device(BOB_DEVICE_ID, 'bob', '2019-03-01T10:00:00Z', MODELS[4]),
  ];
}
