import { builder } from '../builder.ts';
import { mayRead, requirePermission, signIn } from '../callers/access.ts';
import type { Caller } from '../callers/caller.ts';
import type { Context } from '../context.ts';
import { badUserInput, FacadeError } from '../errors.ts';
import { assertDeviceId } from '../loaders/device-loader.ts';
import type { DeviceListQuery } from '../upstream/flatpeak.ts';
import type { Device } from '../upstream/types.ts';
import { DeviceRef } from './device.ts';
import { LIMITS } from '../limits.ts';
import { PAGE_SIZE } from './cost-hints.ts';

const DEFAULT_PAGE = 30;

interface DeviceEdge {
  readonly cursor: string;
  /** Or, for an item Flatpeak sent malformed, its FacadeError: graphql-js reports a returned Error at the node's path. */
  readonly node: Device;
}

const DeviceConnection = builder.connectionObject(
  {
    type: DeviceRef,
    name: 'DeviceConnection',
    description: 'A page of devices, newest first, with Flatpeak’s cursor pagination.',
  },
  {
    name: 'DeviceEdge',
    description: 'A device in a page of devices, with its cursor.',
  },
);

/**
 * One page of `GET /devices`, as a Relay connection. The cursor is the device id, which
 * is what Flatpeak's `starting_after` takes. Listed devices prime the request's loader, so
 * selecting one again (or nested) costs no call; each still passes the access rule.
 */
async function devicePage(
  context: Context,
  { first = DEFAULT_PAGE, after, referenceId }: { first?: number | null; after?: string | null; referenceId?: string | undefined },
) {
  first ??= DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > LIMITS.pageSize.value)
    throw badUserInput(`first must be from 1 to ${LIMITS.pageSize.value}; got ${first}`);
  if (after != null) {
    assertDeviceId(after);
    // The cursor goes to Flatpeak as `starting_after`: it must be a device this caller may
    // read, or Flatpeak's answer (a 404, a position) would tell whether someone else's exists.
    await context.loaders.device.load(after).catch((error: unknown) => {
      throw error instanceof FacadeError && error.code === 'NOT_FOUND' ? badUserInput(`${after} is not a cursor of this list`) : error;
    });
  }
  const query: DeviceListQuery = { limit: first, startingAfter: after ?? undefined, referenceId };
  const page = await context.listDevices(query);
  const edges: DeviceEdge[] = [];
  // A malformed item has no id to serve as its cursor: it shares its predecessor's.
  let cursor = after ?? '';
  let endCursor: string | null = null;
  for (const item of page.items) {
    if (item instanceof FacadeError) {
      edges.push({ cursor, node: item as unknown as Device });
      continue;
    }
    // Flatpeak filtered by reference; the rule is applied anyway, so no listing can show
    // a device that `device(id)` would refuse.
    if (!mayRead(context.caller, item)) continue;
    context.loaders.device.prime(item.id, item);
    cursor = endCursor = item.id;
    edges.push({ cursor, node: item });
  }
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasMore,
      hasPreviousPage: after != null,
      startCursor: edges[0]?.cursor || null,
      endCursor,
    },
  };
}

/** The caller's own reference (the reference_id filter for `myDevices`), or why it has none. */
function referenceOf(caller: Caller): string | undefined {
  switch (caller.kind) {
    case 'anonymous':
      throw signIn();
    case 'trusted':
      return undefined; // CALLER_AUTH=none: every device of the account is the caller's
    case 'flatpeak':
      return undefined; // the caller's Flatpeak token already scopes the list
    case 'user':
      if (caller.references.length === 0) {
        throw new FacadeError('FORBIDDEN', 'Your token carries no device reference, so you have no devices of your own');
      }
      return caller.references[0];
  }
}

builder.queryFields((t) => ({
  myDevices: t.field({
    type: DeviceConnection,
    authenticated: true,
    listSize: PAGE_SIZE,
    description:
      'The devices registered under your own reference (the devices whose referenceId is your reference), newest first. Pass pageInfo.endCursor as `after` for the next page.',
    args: {
      first: t.arg.int({
        defaultValue: DEFAULT_PAGE,
        description: `How many devices, from 1 to ${LIMITS.pageSize.value} (${DEFAULT_PAGE} if unset).`,
      }),
      after: t.arg.string({ description: 'The cursor after which the page starts (pageInfo.endCursor of the previous page).' }),
    },
    resolve: (_root, { first, after }, context) => devicePage(context, { first, after, referenceId: referenceOf(context.caller) }),
  }),
  deviceList: t.field({
    type: DeviceConnection,
    requiresScopes: [['devices:read:all']],
    listSize: PAGE_SIZE,
    description: `Every device of the account, newest first, optionally only those with a given referenceId. Needs the devices:read:all scope.`,
    args: {
      first: t.arg.int({
        defaultValue: DEFAULT_PAGE,
        description: `How many devices, from 1 to ${LIMITS.pageSize.value} (${DEFAULT_PAGE} if unset).`,
      }),
      after: t.arg.string({ description: 'The cursor after which the page starts (pageInfo.endCursor of the previous page).' }),
      referenceId: t.arg.string({ description: 'Only devices with this reference.' }),
    },
    resolve: (_root, { first, after, referenceId }, context) => {
      requirePermission(context.caller, 'list-all');
      return devicePage(context, { first, after, referenceId: referenceId ?? undefined });
    },
  }),
}));
