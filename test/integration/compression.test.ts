import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/limits.ts';
import { SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';

/**
 * GraphQL answers of 1 KB and more are compressed for clients that say they take it, in
 * the fast lane and in Yoga alike; smaller answers, clients that do not ask, and streams are
 * left as they are. Bodies are read raw (undici's `request` does not decode) and decoded here,
 * and read again through undici's `fetch`, a client that decodes as apps' do.
 */
const FIELDS = 'id liveMode referenceId locations { id } manufacturer modelCode modelName timeCreated lastSeen flexEnabled';
const ids = sampleDevices()
  .slice(3, 23)
  .map((device) => device.id);
const TWENTY = JSON.stringify({ query: `query ($ids: [ID!]!) { devices(ids: $ids) { ${FIELDS} } }`, variables: { ids } });
const ONE = JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { id modelName } }` });

let lane: Harness;
let yoga: Harness;

beforeAll(async () => {
  [lane, yoga] = await Promise.all([startHarness(), startHarness({ fastLane: false })]);
});
afterAll(async () => {
  await Promise.all([lane?.close(), yoga?.close()]);
});

async function post(h: Harness, body: string, headers: Record<string, string> = {}) {
  const response = await request(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body,
  });
  const raw = Buffer.from(await response.body.arrayBuffer());
  const coding = response.headers['content-encoding'] as string | undefined;
  const decoded = coding === 'br' ? brotliDecompressSync(raw) : coding === 'gzip' ? gunzipSync(raw) : raw;
  return { status: response.statusCode, headers: response.headers, raw, coding, json: JSON.parse(decoded.toString()) as unknown };
}

async function laneServed(h: Harness): Promise<number> {
  const text = await (await fetch(new URL('/metrics', h.url))).text();
  return Number(/^flatpeak_http_fast_lane_requests_total (\d+)$/m.exec(text)?.[1]);
}

describe.each([
  ['the fast lane', () => lane],
  ['Yoga', () => yoga],
])('compressed answers through %s', (path, harness) => {
  it('sends a 20-device answer brotli to a browser, gzip to a gzip-only client, the same JSON once decoded', async () => {
    const h = harness();
    const before = await laneServed(h);
    const plain = await post(h, TWENTY);
    expect(plain.coding).toBeUndefined();
    expect(plain.headers.vary).toContain('Accept-Encoding');
    expect(plain.raw.byteLength).toBeGreaterThan(4 * LIMITS.compressFromBytes.value);
    expect((plain.json as { data: { devices: unknown[] } }).data.devices).toHaveLength(20);

    const br = await post(h, TWENTY, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(br.status).toBe(200);
    expect(br.coding).toBe('br');
    expect(Number(br.headers['content-length'])).toBe(br.raw.byteLength);
    expect(br.headers.vary).toContain('Accept-Encoding');
    // The other plugins' headers are carried over.
    expect(br.headers['x-request-id']).toBeDefined();
    expect(br.headers['cache-control']).toBeDefined();
    expect(br.json).toEqual(plain.json);
    expect(br.raw.byteLength).toBeLessThan(plain.raw.byteLength / 4);

    const gzip = await post(h, TWENTY, { 'accept-encoding': 'gzip' });
    expect(gzip.coding).toBe('gzip');
    expect(gzip.json).toEqual(plain.json);

    expect((await post(h, TWENTY, { 'accept-encoding': 'br;q=0, gzip;q=0' })).coding).toBeUndefined();
    expect(await laneServed(h)).toBe(path === 'the fast lane' ? before + 4 : before);
  });

  it('leaves an answer under 1 KB as it is', async () => {
    const small = await post(harness(), ONE, { 'accept-encoding': 'br, gzip' });
    expect(small.coding).toBeUndefined();
    expect(small.raw.byteLength).toBeLessThan(LIMITS.compressFromBytes.value);
    expect(small.json).toEqual({ data: { device: { id: SEED_DEVICE_ID, modelName: expect.any(String) as unknown } } });
  });

  it('is read by a client that decodes (undici fetch)', async () => {
    const response = await fetch(harness().url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'br' },
      body: TWENTY,
    });
    expect(response.headers.get('content-encoding')).toBe('br');
    expect(((await response.json()) as { data: { devices: unknown[] } }).data.devices).toHaveLength(20);
  });
});

describe('streams and GraphiQL', () => {
  it('leaves an event stream as it is: each event is sent as it comes', async () => {
    const controller = new AbortController();
    const response = await fetch(yoga.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'accept-encoding': 'br, gzip' },
      body: JSON.stringify({ query: `subscription { deviceUpdated(id: "${SEED_DEVICE_ID}") { ${FIELDS} } }` }),
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    // Yoga marks its streams `Content-Encoding: none`, for proxies: not compressed.
    expect(['none', null]).toContain(response.headers.get('content-encoding'));
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('event: next');
    controller.abort();
  });

  it('serves the GraphiQL page small, and its files immutable and compressed', async () => {
    const page = await request(yoga.url, { headers: { accept: 'text/html', 'accept-encoding': 'br' } });
    const raw = Buffer.from(await page.body.arrayBuffer());
    const html = (page.headers['content-encoding'] === 'br' ? brotliDecompressSync(raw) : raw).toString();
    expect(raw.byteLength).toBeLessThan(2 * 1024);
    const files = [...html.matchAll(/(?:href|src)="(\/graphql\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(files.map((file) => file.split('.').pop())).toEqual(['ico', 'css', 'js']);
    for (const file of files) {
      const response = await request(new URL(file, yoga.url), { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      await response.body.dump();
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      // Until brotli is ready (it runs after the first visit, for seconds), gzip.
      expect(['br', 'gzip']).toContain(response.headers['content-encoding']);
    }
    const missing = await request(new URL('/graphql/assets/graphiql.AAAAAAAAAAAAAAAA.js', yoga.url));
    await missing.body.dump();
    expect(missing.statusCode).toBe(404);
  });
});
