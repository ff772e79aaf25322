import { createHash } from 'node:crypto';
import { builder } from '../builder.ts';
import { locationRefused, mayReassign, referenceForWrite, requirePermission } from '../callers/access.ts';
import { WRITE_SCOPE } from '../callers/caller.ts';
import { deviceNotFound } from '../callers/read-as.ts';
import type { Context } from '../context.ts';
import { FacadeError } from '../errors.ts';
import { assertDeviceId } from '../loaders/device-loader.ts';
import type { Device } from '../upstream/types.ts';
import {
  changesSomething,
  CreateDeviceInputRef,
  type DeviceUserError,
  fieldOfUpstreamCode,
  toDeviceWrite,
  UpdateDeviceInputRef,
  type ValidInput,
  validateDeviceInput,
} from './device-input.ts';
import { DeviceRef } from './device.ts';

// Not `UserError`: in a supergraph, another subgraph's UserError with other fields would not compose.
const DeviceUserErrorRef = builder.objectRef<DeviceUserError>('DeviceUserError').implement({
  description:
    'Why a write was refused, for the app to show next to the form field at fault: our own checks (before Flatpeak is called) or Flatpeak’s answer (a 4xx).',
  fields: (t) => ({
    field: t.stringList({
      nullable: true,
      description: 'Path to the input field at fault, e.g. ["input", "properties", "pvTilt"]; null when no one field is.',
      resolve: (error) => error.field,
    }),
    message: t.exposeString('message', { description: 'What is wrong, in English, for people.' }),
    code: t.exposeString('code', {
      description:
        'What is wrong, for code: ours (required, blank, too_long, too_many, out_of_range, invalid_format, duplicate, invalid, not_allowed) or Flatpeak’s own error code (e.g. reference_id_missing).',
    }),
  }),
});

interface Payload {
  readonly device: Device | null;
  readonly userErrors: readonly DeviceUserError[];
  readonly clientMutationId: string | null;
}

function payloadType(name: string, what: string) {
  return builder.objectRef<Payload>(name).implement({
    description: `The outcome of ${what}: the device, or the reasons it was refused.`,
    fields: (t) => ({
      device: t.field({
        type: DeviceRef,
        nullable: true,
        description: 'The device as Flatpeak holds it after the write; null when userErrors says why not.',
        resolve: (payload) => payload.device,
      }),
      userErrors: t.field({
        type: [DeviceUserErrorRef],
        description: 'What was refused and why; empty when the write succeeded.',
        resolve: (payload) => payload.userErrors,
      }),
      clientMutationId: t.string({
        nullable: true,
        description: 'The clientMutationId of the input, as sent.',
        resolve: (payload) => payload.clientMutationId,
      }),
    }),
  });
}

const CreateDevicePayloadRef = payloadType('CreateDevicePayload', 'createDevice');
const UpdateDevicePayloadRef = payloadType('UpdateDevicePayload', 'updateDevice');

/**
 * The Idempotency-Key for a client's attempt: a hash of who the caller is, what it does and
 * its clientMutationId, so that two callers (or two mutations) never share a key.
 */
function idempotencyKey(context: Context, operation: string, clientMutationId: string | undefined): string | undefined {
  if (clientMutationId === undefined) return undefined;
  return createHash('sha256').update(`${context.caller.key}\n${operation}\n${clientMutationId}`).digest('base64url');
}

const refused = (input: ValidInput | undefined, userErrors: DeviceUserError[]): Payload => ({
  device: null,
  userErrors,
  clientMutationId: input?.clientMutationId ?? null,
});

/** Flatpeak refused the write (4xx): the reason goes to userErrors; anything else stays an error. */
function upstreamRefusal(error: unknown, creating: boolean): DeviceUserError[] | undefined {
  if (!(error instanceof FacadeError)) return undefined;
  if (error.code !== 'UPSTREAM_REJECTED' && !(creating && error.code === 'NOT_FOUND')) return undefined;
  return [
    {
      field: fieldOfUpstreamCode(error.upstream?.code),
      message: error.upstreamMessage ?? error.message,
      code: error.upstream?.code ?? `http_${error.upstream?.status ?? 400}`,
    },
  ];
}

const notYours = (referenceId: string): DeviceUserError => ({
  field: ['input', 'referenceId'],
  message: `referenceId ${JSON.stringify(referenceId)} is not one of your references`,
  code: 'not_allowed',
});

/** A location the caller may not place the device at (`locationRefused`), named. */
function notYourLocation(caller: Context['caller'], input: ValidInput, current: readonly string[] = []): DeviceUserError | undefined {
  const refused = input.locations === undefined ? undefined : locationRefused(caller, input.locations, current);
  if (refused === undefined) return undefined;
  return {
    field: ['input', 'locations', String(refused.index)],
    message: `You are not part of location ${JSON.stringify(refused.location)}, so you cannot place a device there`,
    code: 'not_allowed',
  };
}

/** What only a device's owner may change (`mayReassign`): whose the device is and where. */
const OWNER_FIELDS = ['referenceId', 'locations'] as const;

const notOwner = (field: (typeof OWNER_FIELDS)[number]): DeviceUserError => ({
  field: ['input', field],
  message: `Only the device's owner (its referenceId is one of your references) may change its ${field}`,
  code: 'not_allowed',
});

/**
 * Whether the input changes an owner's field. An edit form sends every field: a value that
 * stays as it is changes nothing, and is not refused to someone who is not the owner.
 */
function changes(field: (typeof OWNER_FIELDS)[number], input: ValidInput, current: Device): boolean {
  if (field === 'referenceId') return input.referenceId !== undefined && input.referenceId !== current.reference_id;
  const locations = input.locations;
  if (locations === undefined) return false;
  const now = new Set(current.locations);
  return locations.length !== now.size || locations.some((location) => !now.has(location));
}

async function createDevice(context: Context, raw: unknown): Promise<Payload> {
  // Who may write at all; which devices is decided per write.
  requirePermission(context.caller, 'write');
  const checked = validateDeviceInput(raw);
  if (!checked.ok) return refused(undefined, checked.errors);
  const input = checked.value;
  const reference = referenceForWrite(context.caller, input.referenceId);
  if (!reference.allowed) {
    if (reference.reason === 'no-reference')
      throw new FacadeError('FORBIDDEN', 'Your token carries no device reference, so you cannot register devices');
    return refused(input, [notYours(input.referenceId!)]);
  }
  if (reference.referenceId === undefined) {
    return refused(input, [{ field: ['input', 'referenceId'], message: 'referenceId is required', code: 'required' }]);
  }
  const placement = notYourLocation(context.caller, input);
  if (placement) return refused(input, [placement]);
  try {
    const device = await context.writeDevice({
      body: toDeviceWrite(input, reference.referenceId),
      idempotencyKey: idempotencyKey(context, 'createDevice', input.clientMutationId),
    });
    return { device, userErrors: [], clientMutationId: input.clientMutationId ?? null };
  } catch (error) {
    const userErrors = upstreamRefusal(error, true);
    if (userErrors) return refused(input, userErrors);
    throw error;
  }
}

async function updateDevice(context: Context, id: string, raw: unknown): Promise<Payload> {
  // Who may write at all; which devices is decided per write.
  requirePermission(context.caller, 'write');
  assertDeviceId(id);
  const checked = validateDeviceInput(raw);
  if (!checked.ok) return refused(undefined, checked.errors);
  const input = checked.value;
  if (!changesSomething(input))
    return refused(input, [{ field: ['input'], message: 'Give at least one field to change', code: 'required' }]);
  // The read rule decides which devices a caller may change: one it may not read is
  // answered as missing, exactly as a read would be. Decided on Flatpeak's copy now, not a
  // cached one: a device handed to someone else elsewhere must not be taken back, nor a
  // removed location restored as "no change", within the cache's TTL.
  const current = await context.readDeviceForWrite(id);
  if (!mayReassign(context.caller, current)) {
    const ownersOnly = OWNER_FIELDS.filter((field) => changes(field, input, current));
    if (ownersOnly.length > 0) return refused(input, ownersOnly.map(notOwner));
  }
  const placement = notYourLocation(context.caller, input, current.locations);
  if (placement) return refused(input, [placement]);
  let referenceId = current.reference_id;
  if (input.referenceId !== undefined && changes('referenceId', input, current)) {
    const reference = referenceForWrite(context.caller, input.referenceId);
    if (!reference.allowed) return refused(input, [notYours(input.referenceId)]);
    referenceId = reference.referenceId ?? current.reference_id;
  }
  try {
    const device = await context.writeDevice({
      id,
      // Flatpeak's update takes at least reference_id: the current one unless it changes.
      body: toDeviceWrite(input, referenceId),
      idempotencyKey: idempotencyKey(context, `updateDevice:${id}`, input.clientMutationId),
    });
    return { device, userErrors: [], clientMutationId: input.clientMutationId ?? null };
  } catch (error) {
    if (error instanceof FacadeError && error.code === 'NOT_FOUND') throw deviceNotFound(id);
    const userErrors = upstreamRefusal(error, false);
    if (userErrors) return refused(input, userErrors);
    throw error;
  }
}

builder.mutationFields((t) => ({
  createDevice: t.field({
    type: CreateDevicePayloadRef,
    requiresScopes: [[WRITE_SCOPE]],
    description: `Register a device with Flatpeak. Needs the ${WRITE_SCOPE} scope. Refused input comes back in userErrors (nothing is created); Flatpeak being unreachable is an error, as for reads.`,
    args: { input: t.arg({ type: CreateDeviceInputRef, required: true, description: 'The new device.' }) },
    resolve: (_root, { input }, context) => createDevice(context, input),
  }),
  updateDevice: t.field({
    type: UpdateDevicePayloadRef,
    requiresScopes: [[WRITE_SCOPE]],
    description: `Change a device you may read. Needs the ${WRITE_SCOPE} scope. Refused input comes back in userErrors (nothing changes); a device you may not read is NOT_FOUND, as for reads.`,
    args: {
      id: t.arg.id({ required: true, description: 'Flatpeak device ID, e.g. dev_63a6087272941ef077a8fd3e.' }),
      input: t.arg({ type: UpdateDeviceInputRef, required: true, description: 'The changes.' }),
    },
    resolve: (_root, { id, input }, context) => updateDevice(context, id, input),
  }),
}));
