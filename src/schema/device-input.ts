import type { InputFieldBuilder, InputFieldMap } from '@pothos/core';
import { z } from 'zod';
import { builder, type BuilderTypes } from '../builder.ts';
import { LIMITS } from '../limits.ts';
import { DEVICE_TYPES, type DeviceType, type DeviceWrite } from '../upstream/types.ts';

/**
 * What apps may send to createDevice and updateDevice: the GraphQL inputs, and the checks
 * (zod) their values pass before any upstream call. Every problem becomes a user error with the path of the field (GraphQL
 * names) and a stable code, so that an app can show it next to the form field.
 */

export interface DeviceUserError {
  /** Path to the input field, e.g. ["input", "properties", "pvTilt"]; null when no one field is at fault. */
  readonly field: readonly string[] | null;
  readonly message: string;
  /** Ours (`required`, `too_long`, `out_of_range`, `invalid_format`, …) or Flatpeak's own (`reference_id_missing`, …). */
  readonly code: string;
}

/** The GraphQL type of a write field, and so of its Pothos declaration. */
type GraphQLKind = 'String' | 'Float' | 'Boolean' | 'IDList' | 'DeviceType' | 'DeviceProperties';

/**
 * One field of a write, declared once: its GraphQL type and description, the rule its value
 * must follow, and its name in Flatpeak's REST body. The GraphQL inputs, their validation,
 * the REST body and the mapping of Flatpeak's error codes back to input paths all come from
 * the tables below.
 */
interface WriteField {
  readonly graphql: GraphQLKind;
  readonly check: z.ZodType;
  /** Flatpeak's name; null: not sent to Flatpeak. */
  readonly rest: string | null;
  readonly description: string;
  /** The description on UpdateDeviceInput, where it says something else. */
  readonly onUpdate?: string;
}

/** Far above any real charger, battery or array (kW, kWh), far below what would overflow anything. */
export const MAX_RATING = 1_000_000;

const text = z
  .string()
  .trim()
  .min(1, { error: 'must not be blank' })
  .max(LIMITS.textLength.value, { error: `must be at most ${LIMITS.textLength.value} characters` })
  .regex(/^[^\p{Cc}]*$/u, { error: 'must not contain control characters' });

const rating = z
  .number()
  .min(0, { error: 'must not be negative' })
  .max(MAX_RATING, { error: `must be at most ${MAX_RATING}` });

const degrees = (most: number) =>
  z
    .number()
    .min(0, { error: `must be from 0 to ${most} degrees` })
    .max(most, { error: `must be from 0 to ${most} degrees` });

const PROPERTY_FIELDS = {
  powerRatingImportKwh: {
    graphql: 'Float',
    check: rating,
    rest: 'power_rating_import_kwh',
    description: `Rated power the device can import (draw) from the grid, in kW; 0 to ${MAX_RATING}.`,
  },
  capacityKwh: {
    graphql: 'Float',
    check: rating,
    rest: 'capacity_kwh',
    description: `Energy storage capacity of the device, in kWh; 0 to ${MAX_RATING}.`,
  },
  powerRatingExportKwh: {
    graphql: 'Float',
    check: rating,
    rest: 'power_rating_export_kwh',
    description: `Rated power the device can export to the grid, in kW; 0 to ${MAX_RATING}.`,
  },
  pvAzimuth: {
    graphql: 'Float',
    check: degrees(360),
    rest: 'pv_azimuth',
    description: 'Azimuth (compass orientation) of the PV panels, in degrees from 0 to 360.',
  },
  pvTilt: {
    graphql: 'Float',
    check: degrees(90),
    rest: 'pv_tilt',
    description: 'Tilt of the PV panels from horizontal, in degrees from 0 to 90.',
  },
  pvTerrainShading: {
    graphql: 'Boolean',
    check: z.boolean(),
    rest: 'pv_terrain_shading',
    description: 'Whether the surrounding terrain shades the PV panels.',
  },
  pvForecastsEnabled: {
    graphql: 'Boolean',
    check: z.boolean(),
    rest: 'pv_forecasts_enabled',
    description: 'Whether Flatpeak should produce PV generation forecasts for this device.',
  },
  installDate: {
    graphql: 'String',
    check: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset, e.g. 2022-03-22T11:12:21Z' }),
    rest: 'install_date',
    description: 'When the device was installed: an ISO 8601 date-time with an offset, e.g. 2022-03-22T11:12:21Z.',
  },
} as const satisfies Record<string, WriteField>;

const properties = z.object(optional(PROPERTY_FIELDS));

const DEVICE_FIELDS = {
  referenceId: {
    graphql: 'String',
    check: text,
    rest: 'reference_id',
    description: `Your reference for the device (at most ${LIMITS.textLength.value} characters). Signed-in users may leave it out: the device gets their own reference; only references that are theirs are accepted.`,
    onUpdate: `A new reference for the device (at most ${LIMITS.textLength.value} characters). Signed-in users may only change it on a device of theirs (its reference is one of theirs), and only to one of their own references.`,
  },
  type: { graphql: 'DeviceType', check: z.enum(DEVICE_TYPES), rest: 'type', description: 'What kind of asset the device is.' },
  locations: {
    graphql: 'IDList',
    check: z
      .array(z.string().regex(/^loc_[A-Za-z0-9]{1,64}$/, { error: 'must be a location ID: loc_ followed by up to 64 letters or digits' }))
      .max(LIMITS.locationsPerDevice.value, { error: `must list at most ${LIMITS.locationsPerDevice.value} locations` })
      .refine((ids) => new Set(ids).size === ids.length, { error: 'must not list a location twice', params: { code: 'duplicate' } }),
    rest: 'locations',
    description: `Flatpeak Locations (loc_…) where the device may be, at most ${LIMITS.locationsPerDevice.value}.`,
    onUpdate: `Flatpeak Locations (loc_…) where the device may be, at most ${LIMITS.locationsPerDevice.value}; replaces the current list. Signed-in users may only change it on a device of theirs (its reference is one of theirs), not on one they read through a shared location.`,
  },
  manufacturer: {
    graphql: 'String',
    check: text,
    rest: 'manufacturer',
    description: `Name of the device manufacturer (at most ${LIMITS.textLength.value} characters).`,
  },
  modelCode: {
    graphql: 'String',
    check: text,
    rest: 'model_code',
    description: `Device model code, as declared by the manufacturer (at most ${LIMITS.textLength.value} characters).`,
  },
  modelName: {
    graphql: 'String',
    check: text,
    rest: 'model_name',
    description: `Model name, as declared by the manufacturer (at most ${LIMITS.textLength.value} characters).`,
  },
  properties: {
    graphql: 'DeviceProperties',
    check: properties,
    rest: 'properties',
    description: 'Technical properties of the device.',
    onUpdate: 'Technical properties to change; the others stay as they are.',
  },
  clientMutationId: {
    graphql: 'String',
    check: z
      .string()
      .min(1, { error: 'must not be empty' })
      .max(LIMITS.textLength.value, { error: `must be at most ${LIMITS.textLength.value} characters` }),
    rest: null,
    description:
      'Your own id for this attempt (at most 255 characters). Send the same id again when you retry after a network error: Flatpeak receives an Idempotency-Key derived from it (and from who you are), so a retried create does not create a second device.',
  },
} as const satisfies Record<string, WriteField>;

const deviceInput = z.object(optional(DEVICE_FIELDS));

/** Each field's rule, as given or absent. */
function optional<T extends Record<string, WriteField>>(fields: T): { [K in keyof T]: z.ZodOptional<T[K]['check']> } {
  return Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, field.check.optional()])) as {
    [K in keyof T]: z.ZodOptional<T[K]['check']>;
  };
}

const TYPE_DESCRIPTIONS: Record<DeviceType, string> = {
  EV_CHARGER: 'An electric vehicle charger.',
  ELECTRIC_VEHICLE: 'An electric vehicle.',
  BATTERY_SYSTEM: 'A stationary battery.',
  PV_SYSTEM: 'A photovoltaic (solar) system.',
  OTHER: 'Any other compatible asset.',
};

export const DeviceTypeRef = builder.enumType('DeviceType', {
  description: 'What kind of asset a device is, as Flatpeak classifies it.',
  values: Object.fromEntries(DEVICE_TYPES.map((type) => [type, { description: TYPE_DESCRIPTIONS[type] }])),
});

type Variant = 'create' | 'update';

/** The GraphQL input fields of a table, for a create or an update. */
function inputFields(
  t: InputFieldBuilder<BuilderTypes, 'InputObject'>,
  fields: Record<string, WriteField>,
  variant: Variant,
): InputFieldMap {
  return Object.fromEntries(
    Object.entries(fields).map(([name, field]): [string, InputFieldMap[string]] => {
      const description = variant === 'update' && field.onUpdate ? field.onUpdate : field.description;
      switch (field.graphql) {
        case 'String':
          return [name, t.string({ description })];
        case 'Float':
          return [name, t.float({ description })];
        case 'Boolean':
          return [name, t.boolean({ description })];
        case 'IDList':
          return [name, t.idList({ description })];
        case 'DeviceType':
          return [name, t.field({ type: DeviceTypeRef, description })];
        case 'DeviceProperties':
          return [name, t.field({ type: DevicePropertiesInputRef, description })];
      }
    }),
  );
}

const DevicePropertiesInputRef = builder.inputType('DevicePropertiesInput', {
  description:
    'Technical properties of a device. Every property is optional; on an update, those given replace the current ones and the others stay.',
  fields: (t) => inputFields(t, PROPERTY_FIELDS, 'create'),
});

export const CreateDeviceInputRef = builder.inputType('CreateDeviceInput', {
  description: 'A new device. Null and absent fields mean the same: not given.',
  fields: (t) => inputFields(t, DEVICE_FIELDS, 'create'),
});

export const UpdateDeviceInputRef = builder.inputType('UpdateDeviceInput', {
  description: 'The changes to a device: only the fields given change (null and absent mean the same: unchanged). At least one is needed.',
  fields: (t) => inputFields(t, DEVICE_FIELDS, 'update'),
});

export type ValidInput = z.output<typeof deviceInput>;

/** The input without its nulls (null and absent mean the same: not given), checked. */
export function validateDeviceInput(input: unknown): { ok: true; value: ValidInput } | { ok: false; errors: DeviceUserError[] } {
  const parsed = deviceInput.safeParse(withoutNulls(input));
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((issue) => ({
      field: ['input', ...issue.path.map(String)],
      message: `${issue.path.at(-1) === undefined ? 'input' : String(issue.path.at(-1))} ${issue.message}`,
      code: codeOf(issue),
    })),
  };
}

function codeOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return issue.origin === 'string' ? 'too_long' : issue.origin === 'array' ? 'too_many' : 'out_of_range';
    case 'too_small':
      return issue.origin === 'string' ? 'blank' : 'out_of_range';
    case 'invalid_format':
      return 'invalid_format';
    case 'custom':
      return typeof issue.params?.code === 'string' ? issue.params.code : 'invalid';
    default:
      return 'invalid';
  }
}

function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutNulls) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => field !== null && field !== undefined)
      .map(([key, field]) => [key, withoutNulls(field)]),
  ) as T;
}

/** Whether the input changes anything (an update needs at least one field). */
export function changesSomething(input: ValidInput): boolean {
  const { clientMutationId: _id, properties: props, ...fields } = input;
  return Object.keys(fields).length > 0 || (props !== undefined && Object.keys(props).length > 0);
}

/** The REST body: Flatpeak's snake_case names; `reference_id` as decided by the access rule. */
export function toDeviceWrite(input: ValidInput, referenceId: string | undefined): DeviceWrite {
  const { properties: given, ...fields } = input;
  const body: Record<string, unknown> = restFields(DEVICE_FIELDS, fields);
  delete body.reference_id;
  if (referenceId !== undefined) body.reference_id = referenceId;
  if (given && Object.keys(given).length > 0) body.properties = restFields(PROPERTY_FIELDS, given);
  return body;
}

/** The given fields of `values` under their REST names; fields Flatpeak does not take are left out. */
function restFields(fields: Record<string, WriteField>, values: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const rest = fields[name]?.rest;
    if (rest && value !== undefined) body[rest] = value;
  }
  return body;
}

/** Flatpeak's snake_case field names in its error codes (`pv_tilt_invalid`), to the input's path. */
const UPSTREAM_FIELDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ...Object.entries(DEVICE_FIELDS).flatMap(([name, { rest }]) => (rest ? [[rest, ['input', name]] as const] : [])),
  ...Object.entries(PROPERTY_FIELDS).map(([name, { rest }]) => [rest, ['input', 'properties', name]] as const),
  // Flatpeak names a location in the singular in some codes (`location_not_found`).
  ['location', ['input', 'locations']],
];

/** The input field a Flatpeak error code names, when it names one. */
export function fieldOfUpstreamCode(code: string | undefined): readonly string[] | null {
  if (!code) return null;
  return UPSTREAM_FIELDS.find(([prefix]) => code === prefix || code.startsWith(`${prefix}_`))?.[1] ?? null;
}
