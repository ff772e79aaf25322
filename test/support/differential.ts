/**
 * What the differential tests (fast-lane, compiled-execution) send to two facades alike
 * but for the part under test, each in front of its own stand-in.
 */

/** Answered 403 by each stand-in, once the test sets that fault: a failing item among good ones. */
export const FAILING_ID = 'dev_00000000000000000000f403';
/** A device no stand-in has. */
export const MISSING_ID = 'dev_ffffffffffffffffffffffff';

/** Every field of a device, its properties' included. */
export const DEVICE_FIELDS =
  'id accountId referenceId liveMode flexEnabled manufacturer modelCode modelName timeCreated lastSeen locations { id } ' +
  'properties { capacityKwh installDate powerRatingExportKwh powerRatingImportKwh pvAzimuth pvForecastsEnabled pvTerrainShading pvTilt }';
