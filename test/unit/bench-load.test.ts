import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { measure, type RunOptions } from '../bench/load.ts';

/** A server that answers every request `delayMs` later, and counts them. */
async function slowServer(delayMs: number): Promise<{ server: Server; url: string; seen: () => number }> {
  let seen = 0;
  const server = createServer((req, res) => {
    seen += 1;
    req.resume();
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{}}'), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, seen: () => seen };
}

const options = (more: Partial<RunOptions>): RunOptions => ({
  seconds: 0.25,
  connections: 10,
  warmupSeconds: 0,
  upstreamStats: () => Promise.resolve({ devices: 0, logins: 0 }),
  ...more,
});
const load = { method: 'POST' as const, bodies: ['{"query":"{ __typename }"}'] };

describe("the bench's load generator", () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('open loop: sends rate × seconds requests whether or not the earlier ones are answered, and waits for every answer', async () => {
    // 10 connections to a server that takes 200 ms an answer: a closed loop sends at most
    // 2 requests on each in 0.25 s (the test below); 400 req/s for 0.25 s is 100.
    const slow = await slowServer(200);
    server = slow.server;
    const measured = await measure([slow.url], [process.pid], load, options({ rate: 400 }));
    expect(slow.seen()).toBe(100);
    expect(measured.requests).toBe(100);
    expect(measured.errorShare).toBe(0);
    // The last tenth waited for a connection, nine answers of 200 ms each on it at least,
    // and that wait is in their latency (due by 250 ms, answered after 2,000).
    expect(measured.p99).toBeGreaterThan(1500);
  });

  it('closed loop: each connection sends its next request only once the last is answered', async () => {
    const slow = await slowServer(200);
    server = slow.server;
    const measured = await measure([slow.url], [process.pid], load, options({}));
    // One at 0 ms and one at about 200 ms on each; the next would start after 0.25 s.
    expect(slow.seen()).toBeLessThanOrEqual(10 * 2);
    expect(measured.requests).toBe(slow.seen());
  });
});
