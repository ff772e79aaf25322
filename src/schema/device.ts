import { builder } from '../builder.ts';
import { badUserInput, FacadeError } from '../errors.ts';
import type { Device, DeviceProperties } from '../upstream/types.ts';
import { LocationRef } from './location.ts';
import { LIMITS } from '../limits.ts';
import { DEVICE_COST, DEVICES_BY_ID_SIZE } from './cost-hints.ts';

// Descriptions follow Flatpeak's API reference for "Retrieve a device".
export const DevicePropertiesRef = builder.objectRef<DeviceProperties>('DeviceProperties').implement({
  description: 'Technical properties of a device, as declared when it was registered. Every property is optional.',
  fields: (t) => ({
    powerRatingImportKwh: t.float({
      description: 'Rated power the device can import (draw) from the grid, in kW.',
      nullable: true,
      resolve: (p) => p.power_rating_import_kwh,
    }),
    capacityKwh: t.float({
      description: 'Energy storage capacity of the device, in kWh.',
      nullable: true,
      resolve: (p) => p.capacity_kwh,
    }),
    powerRatingExportKwh: t.float({
      description: 'Rated power the device can export to the grid, in kW.',
      nullable: true,
      resolve: (p) => p.power_rating_export_kwh,
    }),
    pvAzimuth: t.float({
      description: 'Azimuth (compass orientation) of the PV panels, in degrees.',
      nullable: true,
      resolve: (p) => p.pv_azimuth,
    }),
    pvTilt: t.float({
      description: 'Tilt of the PV panels from horizontal, in degrees.',
      nullable: true,
      resolve: (p) => p.pv_tilt,
    }),
    pvTerrainShading: t.boolean({
      description: 'Whether the surrounding terrain shades the PV panels.',
      nullable: true,
      resolve: (p) => p.pv_terrain_shading,
    }),
    pvForecastsEnabled: t.boolean({
      description: 'Whether Flatpeak produces PV generation forecasts for this device.',
      nullable: true,
      resolve: (p) => p.pv_forecasts_enabled,
    }),
    installDate: t.field({
      type: 'DateTime',
      description: 'When the device was installed, in UTC.',
      nullable: true,
      resolve: (p) => p.install_date,
    }),
  }),
});

/**
 * manufacturer and the model fields are required by the current API but absent from older
 * API versions. Such a device stays loadable: a client that does not select the missing
 * field gets the device; one that does gets an error on that field, and (the field being
 * non-null, as the schema promises) null for the device.
 */
function required(device: Device, field: 'manufacturer' | 'model_code' | 'model_name'): string {
  const value = device[field];
  if (value == null) {
    throw new FacadeError('UPSTREAM_BAD_RESPONSE', `Flatpeak did not send ${field} for device ${device.id}`);
  }
  return value;
}

export const DeviceRef = builder.objectRef<Device>('Device').implement({
  description: 'This object represents a device or another asset of a compatible type.',
  cost: DEVICE_COST,
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Flatpeak unique object id (dev_…).' }),
    liveMode: t.exposeBoolean('live_mode', {
      description: 'Has the value true if the object exists in live mode or the value false if the object exists in test mode.',
    }),
    referenceId: t.exposeString('reference_id', {
      description: 'A reference that is meaningful to you, for example, an ID from your system.',
    }),
    locations: t.field({
      type: [LocationRef],
      description: 'Flatpeak Locations where this device may be located.',
      resolve: (device) => device.locations.map((id) => ({ id })),
    }),
    manufacturer: t.string({
      description: 'Name of device manufacturer.',
      resolve: (device) => required(device, 'manufacturer'),
    }),
    modelCode: t.string({
      description: 'Device model code, as declared by the manufacturer.',
      resolve: (device) => required(device, 'model_code'),
    }),
    modelName: t.string({
      description: 'Model name, as declared by the manufacturer.',
      resolve: (device) => required(device, 'model_name'),
    }),
    timeCreated: t.expose('time_created', { type: 'DateTime', description: 'Time when the object was created, in UTC.' }),
    accountId: t.exposeID('account_id', { description: 'Flatpeak account ID (acc_…).' }),
    properties: t.field({
      type: DevicePropertiesRef,
      description: 'Technical properties of the device.',
      nullable: true,
      resolve: (device) => device.properties,
    }),
    lastSeen: t.field({
      type: 'DateTime',
      description: 'Timestamp of when the device has last queried the service.',
      nullable: true,
      resolve: (device) => device.last_seen,
    }),
    flexEnabled: t.boolean({
      description: 'Set to true when device is not managed by a third-party flexibility operator. Flatpeak defaults it to true when unset.',
      resolve: (device) => device.flex_enabled ?? true,
    }),
  }),
});

// The router resolves Device references through the same per-request loader as the root
// fields, so `_entities` batches and deduplicates exactly like `devices(ids)`.
builder.asEntity(DeviceRef, {
  key: builder.selection<{ id: string }>('id'),
  // A representation is the router's JSON, not checked against the key: one without a
  // string id fails alone instead of throwing DataLoader (and every entity) over.
  resolveReference: ({ id }, context) =>
    typeof id === 'string'
      ? context.loaders.device.load(id)
      : Promise.reject(badUserInput('A Device representation needs its key field id, as a string')),
});

builder.queryFields((t) => ({
  device: t.field({
    type: DeviceRef,
    nullable: true,
    // The router refuses anonymous callers before calling; the subgraph checks everything itself too.
    authenticated: true,
    description: 'Retrieve a device by its Flatpeak ID.',
    args: { id: t.arg.id({ required: true, description: 'Flatpeak device ID, e.g. dev_63a6087272941ef077a8fd3e.' }) },
    resolve: (_root, { id }, context) => context.loaders.device.load(id),
  }),
  devices: t.field({
    type: [DeviceRef],
    authenticated: true,
    nullable: { list: false, items: true },
    listSize: DEVICES_BY_ID_SIZE,
    description: `Retrieve up to ${LIMITS.deviceIds.value} devices by ID. The result has one entry per requested ID, in the same order (duplicates included); a device that cannot be loaded is null with an error at its index.`,
    args: { ids: t.arg.idList({ required: true, description: `Flatpeak device IDs, at most ${LIMITS.deviceIds.value}.` }) },
    resolve: (_root, { ids }, context) => {
      if (ids.length > LIMITS.deviceIds.value) {
        throw badUserInput(`devices accepts at most ${LIMITS.deviceIds.value} ids; got ${ids.length}`);
      }
      // One promise per position: graphql-js puts a failed item's error at its own index.
      return ids.map((id) => context.loaders.device.load(id));
    },
  }),
}));
