import { Trace } from '@apollo/usage-reporting-protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';

const TRACE = { 'apollo-federation-include-trace': 'ftv1' };

function decode(extensions: unknown): Trace {
  const ftv1 = (extensions as { ftv1?: unknown } | undefined)?.ftv1;
  expect(ftv1).toEqual(expect.any(String));
  return Trace.decode(Buffer.from(ftv1 as string, 'base64'));
}

const child = (node: Trace.INode | null | undefined, responseName: string): Trace.INode | undefined =>
  node?.child?.find((c) => c.responseName === responseName);

describe('ftv1 traces with FTV1_TRACES on, only for the requests that ask for them', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { FTV1_TRACES: 'on' } });
  });
  afterAll(() => h?.close());

  const query = `{ device(id: "${SEED_DEVICE_ID}") { id model: modelName } }`;

  it('traces every resolved field of a request that sends apollo-federation-include-trace: ftv1', async () => {
    const traced = await h.query(query, undefined, TRACE);
    expect(traced.body.data).toEqual({ device: { id: SEED_DEVICE_ID, model: 'Pico Ultimate' } });
    const trace = decode(traced.body.extensions);
    expect(Number(trace.durationNs)).toBeGreaterThan(0);
    expect(trace.root?.child).toHaveLength(1);

    const device = child(trace.root, 'device');
    expect(device).toMatchObject({ type: 'Device', parentType: 'Query' });
    expect(device?.child?.map((c) => c.responseName)).toEqual(['id', 'model']);
    expect(child(device, 'id')).toMatchObject({ type: 'ID!', parentType: 'Device' });
    // An aliased field carries the name it has in the schema.
    expect(child(device, 'model')).toMatchObject({ type: 'String!', parentType: 'Device', originalFieldName: 'modelName' });
    for (const node of [device!, ...device!.child!]) {
      expect(Number(node.endTime)).toBeGreaterThanOrEqual(Number(node.startTime));
      expect(Number(node.endTime)).toBeLessThanOrEqual(Number(trace.durationNs));
    }
  });

  it("puts a field's error on the field's node", async () => {
    const traced = await h.query('{ device(id: "dev_000000000000000000000000") { id } }', undefined, TRACE);
    expect(traced.body.errors?.[0]?.path).toEqual(['device']);
    const device = child(decode(traced.body.extensions).root, 'device');
    expect(device?.error?.map((e) => e.message)).toEqual([traced.body.errors![0]!.message]);
  });

  it('answers a request whose trace is large (200 full _entities), never an HTTP 500', async () => {
    const representations = Array.from({ length: 200 }, () => ({ __typename: 'Device', id: SEED_DEVICE_ID }));
    const fields =
      'id liveMode referenceId locations { id } manufacturer modelCode modelName timeCreated accountId lastSeen flexEnabled properties { capacityKwh pvAzimuth pvTilt installDate }';
    const traced = await h.query(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Device { ${fields} } } }`,
      { r: representations },
      TRACE,
    );
    expect(traced.status).toBe(200);
    expect((traced.body.data as { _entities: unknown[] })._entities).toHaveLength(200);
    expect(decode(traced.body.extensions).root?.child).toHaveLength(1);
  });
});
