import { execute, parse } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import type { Caller } from '../../src/callers/caller.ts';
import { createRateLimiter } from '../../src/callers/rate-limit.ts';
import { createContextFactory } from '../../src/context.ts';
import { createLogger } from '../../src/logger.ts';
import { schema } from '../../src/schema/index.ts';
import { createCoalescer } from '../../src/upstream/coalescer.ts';
import { createDeviceSource } from '../../src/upstream/device-source.ts';
import { device as deviceSchema } from '../../src/upstream/types.ts';
import type { FlatpeakClient } from '../../src/upstream/flatpeak.ts';
import { seedDevice } from '../../tools/standin/data.ts';

const raw = (id: string, referenceId: string) => deviceSchema.parse({ ...seedDevice, id, reference_id: referenceId });

function contextFor(caller: Caller, client: Partial<FlatpeakClient>) {
  const factory = createContextFactory({
    client: client as FlatpeakClient,
    devices: createDeviceSource({ coalescer: createCoalescer(), cache: undefined, ttlMs: 0, refreshDeadlineMs: 5_000 }),
    serviceToken: { token: () => Promise.resolve('service-token'), ready: () => 'service-token', invalidate() {} },
    authenticate: () => Promise.resolve(caller),
    rateLimiter: createRateLimiter({ perSecond: 0, burst: 1 }),
    logger: createLogger('silent'),
    requestDeadlineMs: 5_000,
    maxDevicesPerRequest: 100,
    maxCallsPerRequest: 4,
  });
  return factory({ request: new Request('http://facade/graphql') } as never);
}

const user = (references: string[]): Caller => ({
  kind: 'user',
  key: 'sub:u',
  subject: 'u',
  scopes: new Set(),
  references,
  locations: [],
  acceptedUntil: Number.POSITIVE_INFINITY,
});

describe('myDevices', () => {
  it('primes the request’s loader: a listed device loaded afterwards costs no call', async () => {
    const getDevice = vi.fn((id: string) => Promise.resolve(raw(id, 'ref-1')));
    const listDevices = vi.fn(() => Promise.resolve({ hasMore: false, items: [raw('dev_1', 'ref-1'), raw('dev_2', 'ref-1')] }));
    const context = await contextFor(user(['ref-1']), { getDevice, listDevices });
    const result = await execute({ schema, document: parse('{ myDevices { edges { node { id } } } }'), contextValue: context });
    expect(result.errors).toBeUndefined();
    expect(listDevices).toHaveBeenCalledWith({ limit: 30, startingAfter: undefined, referenceId: 'ref-1' }, expect.anything());
    expect((await context.loaders.device.load('dev_2')).id).toBe('dev_2');
    expect(getDevice).not.toHaveBeenCalled();
  });

  it('leaves out a listed device the caller may not read, even if Flatpeak sent it', async () => {
    const listDevices = vi.fn(() => Promise.resolve({ hasMore: false, items: [raw('dev_1', 'ref-1'), raw('dev_9', 'someone-else')] }));
    const context = await contextFor(user(['ref-1']), { listDevices });
    const result = await execute({
      schema,
      document: parse('{ myDevices { edges { cursor node { id } } pageInfo { endCursor } } }'),
      contextValue: context,
    });
    expect(result.data).toEqual({ myDevices: { edges: [{ cursor: 'dev_1', node: { id: 'dev_1' } }], pageInfo: { endCursor: 'dev_1' } } });
  });

  it('answers a caller without a reference with FORBIDDEN and no call', async () => {
    const listDevices = vi.fn();
    const context = await contextFor(user([]), { listDevices });
    const result = await execute({ schema, document: parse('{ myDevices { edges { cursor } } }'), contextValue: context });
    expect(result.errors?.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
    expect(listDevices).not.toHaveBeenCalled();
  });
});
