import { z } from 'zod';

/**
 * Flatpeak's REST shapes, validated where they enter the service. Unknown fields are
 * dropped (zod's default), documented optional fields may be missing.
 */

// Flatpeak documents its times as UTC; some payloads omit the `Z`, so a time without an
// offset is read as UTC rather than as the server's local time.
const dateTime = z.string().transform((value, ctx) => {
  const hasOffset = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const isoLike = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?/.test(value);
  const date = isoLike ? new Date(hasOffset || value.length === 10 ? value : `${value}Z`) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `not an ISO-8601 date-time: ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return date;
});

export const deviceProperties = z.object({
  power_rating_import_kwh: z.number().nullish(),
  capacity_kwh: z.number().nullish(),
  power_rating_export_kwh: z.number().nullish(),
  pv_azimuth: z.number().nullish(),
  pv_tilt: z.number().nullish(),
  pv_terrain_shading: z.boolean().nullish(),
  pv_forecasts_enabled: z.boolean().nullish(),
  install_date: dateTime.nullish(),
});

export const device = z.object({
  id: z.string().min(1),
  object: z.literal('device'),
  live_mode: z.boolean(),
  reference_id: z.string(),
  // Older API versions leave out locations, manufacturer and model: a device without them
  // is still a device; the GraphQL layer reports the gap only if a client asks for it.
  locations: z.array(z.string().min(1)).default([]),
  manufacturer: z.string().nullish(),
  model_code: z.string().nullish(),
  model_name: z.string().nullish(),
  time_created: dateTime,
  account_id: z.string().min(1),
  properties: deviceProperties.nullish(),
  last_seen: dateTime.nullish(),
  flex_enabled: z.boolean().nullish(),
});

/** A page of `GET /devices`; each item is checked on its own, so one odd device spoils only itself. */
export const devicePage = z.object({
  object: z.literal('list'),
  has_more: z.boolean(),
  data: z.array(z.unknown()),
});

export const login = z.object({
  bearer_token: z.string().min(1),
  expires_in: z.number().positive(),
  live_mode: z.boolean().optional(),
});

export const errorBody = z.object({
  object: z.literal('error'),
  type: z.string().optional(),
  code: z.string().optional(),
  message: z.string().optional(),
});

export type Device = z.infer<typeof device>;
export type DeviceProperties = z.infer<typeof deviceProperties>;
export type Login = z.infer<typeof login>;

/** The kinds of device Flatpeak's create and update accept. */
export const DEVICE_TYPES = ['EV_CHARGER', 'ELECTRIC_VEHICLE', 'BATTERY_SYSTEM', 'PV_SYSTEM', 'OTHER'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/**
 * The body of `POST /devices` and `PATCH /devices/{id}` (a PATCH sends only what
 * changes, plus `reference_id`). Built from input the schema layer has already validated.
 */
export interface DeviceWrite {
  reference_id?: string;
  type?: DeviceType;
  locations?: string[];
  manufacturer?: string;
  model_code?: string;
  model_name?: string;
  properties?: {
    power_rating_import_kwh?: number;
    capacity_kwh?: number;
    power_rating_export_kwh?: number;
    pv_azimuth?: number;
    pv_tilt?: number;
    pv_terrain_shading?: boolean;
    pv_forecasts_enabled?: boolean;
    /** ISO-8601 date-time. */
    install_date?: string;
  };
}
