import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MINIMAL_DEVICE_ID, SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { DeviceEntitiesDocument, ServiceSdlDocument } from '../__generated__/graphql.ts';
import { codesByPath, type Harness, startHarness } from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.standin.resetLog());

describe('federation subgraph', () => {
  it('serves the committed schema.graphql as _service.sdl', async () => {
    const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    const { body } = await h.query(ServiceSdlDocument);
    expect(body.errors).toBeUndefined();
    expect(body.data?._service.sdl?.trim()).toBe(committed.trim());
    expect(body.data?._service.sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.9"');
    expect(h.standin.count()).toBe(0);
  });

  it('resolves _entities in order, through one deduplicated loader batch, missing ones as null', async () => {
    const other = sampleDevices()[5]!.id;
    const representations = [
      { __typename: 'Device', id: other },
      { __typename: 'Device', id: 'dev_gone' },
      { __typename: 'Device', id: SEED_DEVICE_ID },
      { __typename: 'Device', id: other },
      { __typename: 'Device', id: MINIMAL_DEVICE_ID },
    ];
    const { status, body } = await h.query(DeviceEntitiesDocument, { representations });
    expect(status).toBe(200);
    expect(body.data?._entities).toEqual([
      { id: other, modelName: sampleDevices()[5]!.model_name },
      null,
      { id: SEED_DEVICE_ID, modelName: 'Pico Ultimate' },
      { id: other, modelName: sampleDevices()[5]!.model_name },
      { id: MINIMAL_DEVICE_ID, modelName: 'Wallbox 7' },
    ]);
    expect(codesByPath(body)).toEqual({ '_entities.1': 'NOT_FOUND' });
    expect(h.standin.count('/devices/')).toBe(4);
  });

  it('shares the loader between _entities and root fields of the same request', async () => {
    const { body } = await h.query(
      `query ($r: [_Any!]!, $id: ID!) {
        _entities(representations: $r) { ... on Device { id } }
        device(id: $id) { referenceId }
      }`,
      { r: [{ __typename: 'Device', id: SEED_DEVICE_ID }], id: SEED_DEVICE_ID },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ _entities: [{ id: SEED_DEVICE_ID }], device: { referenceId: 'DEV1234567890' } });
    expect(h.standin.count('/devices/')).toBe(1);
  });

  it('validates entity ids like any other id', async () => {
    const { body } = await h.query(DeviceEntitiesDocument, { representations: [{ __typename: 'Device', id: '../login' }] });
    expect(body.data?._entities).toEqual([null]);
    expect(codesByPath(body)).toEqual({ '_entities.0': 'BAD_USER_INPUT' });
    expect(h.standin.count()).toBe(0);
  });

  it('fails only the representation that lacks its key', async () => {
    const { status, body } = await h.query(DeviceEntitiesDocument, {
      representations: [{ __typename: 'Device', id: SEED_DEVICE_ID }, { __typename: 'Device' }, { __typename: 'Device', id: 7 }],
    });
    expect(status).toBe(200);
    expect(body.data?._entities).toEqual([{ id: SEED_DEVICE_ID, modelName: 'Pico Ultimate' }, null, null]);
    expect(codesByPath(body)).toEqual({ '_entities.1': 'BAD_USER_INPUT', '_entities.2': 'BAD_USER_INPUT' });
  });

  it('does not offer Location as a resolvable entity', async () => {
    const { body } = await h.query('{ __type(name: "_Entity") { possibleTypes { name } } }');
    expect(body.data).toEqual({ __type: { possibleTypes: [{ name: 'Device' }] } });
  });
});
