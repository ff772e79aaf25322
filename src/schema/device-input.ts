import { z } from 'zod';
import type { DeviceType, DeviceWrite } from '../upstream/types.ts';
import { LIMITS } from '../limits.ts';

/**
 * What apps may send to createDevice and updateDevice, checked with zod before any
 * upstream call. Every problem becomes a user error with the path of the field (GraphQL
 * names) and a stable code, so that an app can show it next to the form field.
 */

export interface DeviceUserError {
  /** Path to the input field, e.g. ["input", "properties", "pvTilt"]; null when no one field is at fault. */
  readonly field: readonly string[] | null;
  readonly message: string;
  /** Ours (`required`, `too_long`, `out_of_range`, `invalid_format`, …) or Flatpeak's own (`reference_id_missing`, …). */
  readonly code: string;
}

/** The GraphQL input as Pothos hands it over: absent and null fields alike. */
export interface DeviceInput {
  referenceId?: string | null;
  type?: DeviceType | null;
  locations?: readonly string[] | null;
  manufacturer?: string | null;
  modelCode?: string | null;
  modelName?: string | null;
  properties?: DevicePropertiesInput | null;
  clientMutationId?: string | null;
}

export interface DevicePropertiesInput {
  powerRatingImportKwh?: number | null;
  capacityKwh?: number | null;
  powerRatingExportKwh?: number | null;
  pvAzimuth?: number | null;
  pvTilt?: number | null;
  pvTerrainShading?: boolean | null;
  pvForecastsEnabled?: boolean | null;
  installDate?: string | null;
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

const properties = z.object({
  powerRatingImportKwh: rating.optional(),
  capacityKwh: rating.optional(),
  powerRatingExportKwh: rating.optional(),
  pvAzimuth: z.number().min(0, { error: 'must be from 0 to 360 degrees' }).max(360, { error: 'must be from 0 to 360 degrees' }).optional(),
  pvTilt: z.number().min(0, { error: 'must be from 0 to 90 degrees' }).max(90, { error: 'must be from 0 to 90 degrees' }).optional(),
  pvTerrainShading: z.boolean().optional(),
  pvForecastsEnabled: z.boolean().optional(),
  installDate: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset, e.g. 2022-03-22T11:12:21Z' }).optional(),
});

const deviceInput = z.object({
  referenceId: text.optional(),
  type: z.enum(['EV_CHARGER', 'ELECTRIC_VEHICLE', 'BATTERY_SYSTEM', 'PV_SYSTEM', 'OTHER']).optional(),
  locations: z
    .array(z.string().regex(/^loc_[A-Za-z0-9]{1,64}$/, { error: 'must be a location ID: loc_ followed by up to 64 letters or digits' }))
    .max(LIMITS.locationsPerDevice.value, { error: `must list at most ${LIMITS.locationsPerDevice.value} locations` })
    .refine((ids) => new Set(ids).size === ids.length, { error: 'must not list a location twice', params: { code: 'duplicate' } })
    .optional(),
  manufacturer: text.optional(),
  modelCode: text.optional(),
  modelName: text.optional(),
  properties: properties.optional(),
  clientMutationId: z.string().min(1, { error: 'must not be empty' }).max(LIMITS.textLength.value, { error: `must be at most ${LIMITS.textLength.value} characters` }).optional(),
});

export type ValidInput = z.output<typeof deviceInput>;

/** The input without its nulls (null and absent mean the same: not given), checked. */
export function validateDeviceInput(input: DeviceInput): { ok: true; value: ValidInput } | { ok: false; errors: DeviceUserError[] } {
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
  const body: DeviceWrite = {};
  if (referenceId !== undefined) body.reference_id = referenceId;
  if (input.type !== undefined) body.type = input.type;
  if (input.locations !== undefined) body.locations = input.locations;
  if (input.manufacturer !== undefined) body.manufacturer = input.manufacturer;
  if (input.modelCode !== undefined) body.model_code = input.modelCode;
  if (input.modelName !== undefined) body.model_name = input.modelName;
  const p = input.properties;
  if (p && Object.keys(p).length > 0) {
    body.properties = {};
    if (p.powerRatingImportKwh !== undefined) body.properties.power_rating_import_kwh = p.powerRatingImportKwh;
    if (p.capacityKwh !== undefined) body.properties.capacity_kwh = p.capacityKwh;
    if (p.powerRatingExportKwh !== undefined) body.properties.power_rating_export_kwh = p.powerRatingExportKwh;
    if (p.pvAzimuth !== undefined) body.properties.pv_azimuth = p.pvAzimuth;
    if (p.pvTilt !== undefined) body.properties.pv_tilt = p.pvTilt;
    if (p.pvTerrainShading !== undefined) body.properties.pv_terrain_shading = p.pvTerrainShading;
    if (p.pvForecastsEnabled !== undefined) body.properties.pv_forecasts_enabled = p.pvForecastsEnabled;
    if (p.installDate !== undefined) body.properties.install_date = p.installDate;
  }
  return body;
}

/** Flatpeak's snake_case field names in its error codes (`pv_tilt_invalid`), to the input's path. */
const UPSTREAM_FIELDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['reference_id', ['input', 'referenceId']],
  ['type', ['input', 'type']],
  ['locations', ['input', 'locations']],
  ['location', ['input', 'locations']],
  ['manufacturer', ['input', 'manufacturer']],
  ['model_code', ['input', 'modelCode']],
  ['model_name', ['input', 'modelName']],
  ['power_rating_import_kwh', ['input', 'properties', 'powerRatingImportKwh']],
  ['power_rating_export_kwh', ['input', 'properties', 'powerRatingExportKwh']],
  ['capacity_kwh', ['input', 'properties', 'capacityKwh']],
  ['pv_azimuth', ['input', 'properties', 'pvAzimuth']],
  ['pv_tilt', ['input', 'properties', 'pvTilt']],
  ['pv_terrain_shading', ['input', 'properties', 'pvTerrainShading']],
  ['pv_forecasts_enabled', ['input', 'properties', 'pvForecastsEnabled']],
  ['install_date', ['input', 'properties', 'installDate']],
  ['properties', ['input', 'properties']],
];

/** The input field a Flatpeak error code names, when it names one. */
export function fieldOfUpstreamCode(code: string | undefined): readonly string[] | null {
  if (!code) return null;
  return UPSTREAM_FIELDS.find(([prefix]) => code === prefix || code.startsWith(`${prefix}_`))?.[1] ?? null;
}
