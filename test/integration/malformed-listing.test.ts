import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MINIMAL_DEVICE_ID, type RawDevice, sampleDevices, seedDevice } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { root } from '../support/process.ts';

/**
 * docs/consumers.md shows what a malformed device looks like in a listing. The embedded
 * stand-in's sample devices are all well-formed, so the example runs here, against a
 * stand-in that lists one between two good ones, and its answer is the one documented.
 */
const SECTION = '### A malformed device in a listing: UPSTREAM_BAD_RESPONSE';

function documented(): { query: string; answer: unknown } {
  const markdown = readFileSync(join(root, 'docs/consumers.md'), 'utf8');
  const start = markdown.indexOf(SECTION);
  expect(start, `docs/consumers.md has the section "${SECTION}"`).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf('\n#', start + SECTION.length);
  const section = markdown.slice(start, end === -1 ? undefined : end);
  const query = /```graphql\n([\s\S]*?)```/.exec(section)?.[1];
  const answer = /```json\n([\s\S]*?)```/.exec(section)?.[1];
  if (!query || !answer) throw new Error('the section lost its GraphQL example or its answer');
  return { query, answer: JSON.parse(answer) };
}

const minimal = sampleDevices().find((device) => device.id === MINIMAL_DEVICE_ID)!;
/** Between the seed device (January 2022) and the minimal one (June 2021), newest first. */
const malformed: RawDevice = {
  ...seedDevice,
  id: 'dev_0000000000000000000000bad',
  reference_id: 'SAMPLE-BAD',
  time_created: '2021-12-01T00:00:00Z',
  live_mode: 'yes',
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ standin: { devices: [seedDevice, malformed, minimal] } });
});
afterAll(() => h?.close());

it('answers the documented query with the documented answer: the item null with UPSTREAM_BAD_RESPONSE, the others served', async () => {
  const { query, answer } = documented();
  const { status, body } = await h.query(query);
  expect(status).toBe(200);
  // As the docs examples are checked: the fields shown (error locations aside), arrays whole.
  expect(body).toMatchObject(answer as object);
});
