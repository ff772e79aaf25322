import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { LIMITS } from '../../src/limits.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** A POST whose body goes out in chunks, without Content-Length (Transfer-Encoding: chunked). */
function postChunked(chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(h.url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('request body limit', () => {
  const padding = (bytes: number) => ' '.repeat(bytes);

  it('refuses a body whose Content-Length is over the limit at once, with 413', async () => {
    h.standin.resetLog();
    const body = JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { id } }` }) + padding(LIMITS.requestBodyBytes.value);
    const response = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe(
      'REQUEST_ENTITY_TOO_LARGE',
    );
    expect(h.standin.count('/devices/')).toBe(0);
  });

  it('counts a chunked body as it arrives: over the limit is 413, under it runs', async () => {
    const query = JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { id } }` });
    const over = await postChunked([query.slice(0, -1), padding(70_000), padding(70_000), '}']);
    expect(over.status).toBe(413);
    const under = await postChunked([query.slice(0, 10), query.slice(10), padding(1_000)]);
    expect(under.status).toBe(200);
    expect(JSON.parse(under.body)).toEqual({ data: { device: { id: SEED_DEVICE_ID } } });
  });
});
