import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAdmission, type RefusalReason } from '../../src/http/admission.ts';
import { createHttpServer, HTTP_TIMEOUTS } from '../../src/http/server.ts';
import { SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { subscribeSse } from '../support/sse.ts';

const DEVICE = `query { device(id: "${SEED_DEVICE_ID}") { id } }`;
const DEVICES = 'query ($ids: [ID!]!) { devices(ids: $ids) { id } }';
const ids = sampleDevices()
  .slice(3, 10)
  .map((device) => device.id);

const running: Harness[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((h) => h.close()));
});

async function harness(env: Record<string, string> = {}): Promise<Harness> {
  const h = await startHarness({ env });
  running.push(h);
  return h;
}

/** A counter or gauge from the facade's /metrics (0 when it has no sample yet). */
async function metric(h: Harness, name: string): Promise<number> {
  const text = await (await fetch(h.metricsUrl)).text();
  const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
}

const inFlight = (h: Harness) => metric(h, 'flatpeak_http_requests_in_flight');
const loadsInFlight = (h: Harness) => metric(h, 'flatpeak_device_loads_in_flight');

function post(h: Harness, query: string, variables?: Record<string, unknown>, signal?: AbortSignal) {
  return fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
    signal,
  });
}

describe('requests in flight (MAX_REQUESTS_IN_FLIGHT)', () => {
  it('answers 503 OVERLOADED past the limit, still answers probes, and admits again once requests end', async () => {
    const h = await harness({ MAX_REQUESTS_IN_FLIGHT: '3' });
    const paused = h.standin.pause();
    const held = Array.from({ length: 3 }, () => post(h, DEVICE));
    await vi.waitFor(() => expect(inFlight(h)).resolves.toBe(3));

    const refused = await post(h, DEVICE);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({
      errors: [{ message: expect.stringContaining('try again'), extensions: { code: 'OVERLOADED' } }],
    });
    for (const probe of ['/health', '/ready']) expect((await fetch(new URL(probe, h.url))).status).toBe(200);
    expect((await fetch(h.metricsUrl)).status).toBe(200);
    expect(await metric(h, 'flatpeak_http_requests_refused_total{reason="overloaded"}')).toBe(1);

    paused.release();
    for (const response of await Promise.all(held)) expect(await response.json()).toEqual({ data: { device: { id: SEED_DEVICE_ID } } });
    await vi.waitFor(() => expect(inFlight(h)).resolves.toBe(0));
    expect(await (await post(h, DEVICE)).json()).toEqual({ data: { device: { id: SEED_DEVICE_ID } } });
  });

  it('refuses through Yoga’s own HTTP handling too (a GET), and counts no request whose body is still arriving', async () => {
    const h = await harness({ MAX_REQUESTS_IN_FLIGHT: '1' });
    // Headers and half a body, then nothing: a slow client must not hold anyone's place.
    const slow = connect(Number(h.url.port), '127.0.0.1');
    slow.on('error', () => {});
    slow.write(`POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"query":`);
    const paused = h.standin.pause();
    const held = post(h, DEVICE);
    await vi.waitFor(() => expect(inFlight(h)).resolves.toBe(1));
    const url = new URL(h.url);
    url.searchParams.set('query', DEVICE);
    const refused = await fetch(url, { headers: { accept: 'application/json' } });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { errors: Array<{ extensions: unknown }> }).errors[0]!.extensions).toEqual({ code: 'OVERLOADED' });
    paused.release();
    expect((await held).status).toBe(200);
    slow.destroy();
  });

  it('gives a request’s place back when its client goes away before the answer', async () => {
    const h = await harness({ MAX_REQUESTS_IN_FLIGHT: '2' });
    const paused = h.standin.pause();
    const clients = [new AbortController(), new AbortController()];
    const gone = clients.map((client) => post(h, DEVICE, undefined, client.signal).catch(() => 'aborted'));
    await vi.waitFor(() => expect(inFlight(h)).resolves.toBe(2));
    for (const client of clients) client.abort();
    expect(await Promise.all(gone)).toEqual(['aborted', 'aborted']);
    await vi.waitFor(() => expect(inFlight(h)).resolves.toBe(0));

    const next = post(h, DEVICE);
    await vi.waitFor(() => expect(inFlight(h)).resolves.toBe(1));
    paused.release();
    expect((await next).status).toBe(200);
  });

  it('does not count an open subscription: MAX_SUBSCRIPTIONS bounds those', async () => {
    const h = await harness({ MAX_REQUESTS_IN_FLIGHT: '1' });
    const stream = await subscribeSse(h.url, 'subscription ($id: ID!) { deviceUpdated(id: $id) { id } }', { id: SEED_DEVICE_ID });
    expect(await stream.next()).toEqual({ data: { deviceUpdated: { id: SEED_DEVICE_ID } } });
    expect(await inFlight(h)).toBe(0);
    expect(await (await post(h, DEVICE)).json()).toEqual({ data: { device: { id: SEED_DEVICE_ID } } });
    stream.close();
  });
});

describe('pipelining', () => {
  it('closes a connection that sends more than 16 requests without reading the answers, and serves everyone else', async () => {
    const h = await harness();
    const paused = h.standin.pause();
    const body = JSON.stringify({ query: DEVICE });
    const request = `POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const socket = connect(Number(h.url.port), '127.0.0.1');
    socket.on('error', () => {});
    const closed = new Promise<string>((resolve) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('close', () => resolve(received));
    });
    socket.write(request.repeat(200));
    // Closed while every answer still waits on Flatpeak: nothing was answered.
    expect(await closed).toBe('');
    expect(await metric(h, 'flatpeak_http_requests_refused_total{reason="pipelining"}')).toBe(1);
    // The 16 it had in flight gave their places back (Node emits no 'close' for their responses).
    await vi.waitFor(() => expect(inFlight(h)).resolves.toBe(0));

    paused.release();
    expect(await (await post(h, DEVICE)).json()).toEqual({ data: { device: { id: SEED_DEVICE_ID } } });
  });

  it('starts a connection’s pipelined requests one after the other: one answer in memory and one place each', async () => {
    const h = await harness({ MAX_REQUESTS_IN_FLIGHT: '2' });
    const paused = h.standin.pause();
    const body = JSON.stringify({ query: DEVICE });
    const request = `POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const socket = connect(Number(h.url.port), '127.0.0.1');
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.write(request.repeat(10));
    await vi.waitFor(() => expect(inFlight(h)).resolves.toBe(1));
    // The other nine have not started: another client still gets the second place.
    const other = post(h, DEVICE);
    await vi.waitFor(() => expect(inFlight(h)).resolves.toBe(2));
    paused.release();
    expect((await other).status).toBe(200);
    await vi.waitFor(() => expect(received.match(/HTTP\/1\.1 200/g)).toHaveLength(10), { timeout: 5_000 });
    socket.destroy();
  });

  it('never starts the requests pipelined behind a subscription, so they hold no place', async () => {
    const h = await harness({ MAX_REQUESTS_IN_FLIGHT: '1' });
    const subscribe = JSON.stringify({ query: `subscription { deviceUpdated(id: "${SEED_DEVICE_ID}") { id } }` });
    const query = JSON.stringify({ query: DEVICE });
    const socket = connect(Number(h.url.port), '127.0.0.1');
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\naccept: text/event-stream\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(subscribe)}\r\n\r\n${subscribe}` +
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(query)}\r\n\r\n${query}`.repeat(
          5,
        ),
    );
    await vi.waitFor(() => expect(received).toContain(SEED_DEVICE_ID));
    expect(await inFlight(h)).toBe(0);
    expect((await post(h, DEVICE)).status).toBe(200);
    socket.destroy();
  });

  it('never starts a request pipelined behind an answer that closes the connection', async () => {
    const h = await harness();
    const watched = ids[6]!;
    const subscription = encodeURIComponent(`subscription { deviceUpdated(id: "${watched}") { id } }`);
    const socket = connect(Number(h.url.port), '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // An absolute-form target is answered 400 with `connection: close` (src/http/server.ts).
    socket.write(
      'GET http://elsewhere.example/ HTTP/1.1\r\nHost: localhost\r\n\r\n' +
        `GET /graphql?query=${subscription} HTTP/1.1\r\nHost: localhost\r\naccept: text/event-stream\r\n\r\n`,
    );
    await closed;
    // Answered after the connection closed: had the subscription started, it would have called Flatpeak first.
    expect((await post(h, DEVICE)).status).toBe(200);
    expect(await metric(h, 'flatpeak_subscriptions_open')).toBe(0);
    expect(h.standin.count(`/devices/${watched}`)).toBe(0);
  });

  it('answers a connection that pipelines a few requests, in order', async () => {
    const h = await harness();
    const bodies = ids.slice(0, 4).map((id) => JSON.stringify({ query: `query { device(id: "${id}") { id } }` }));
    const requests = bodies.map(
      (body, i) =>
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${i === bodies.length - 1 ? 'connection: close\r\n' : ''}\r\n${body}`,
    );
    const socket = connect(Number(h.url.port), '127.0.0.1');
    const received = await new Promise<string>((resolve, reject) => {
      let text = '';
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      socket.on('close', () => resolve(text));
      socket.write(requests.join(''));
    });
    const answered = [...received.matchAll(/"id":"(dev_[A-Za-z0-9]+)"/g)].map((match) => match[1]);
    expect(answered).toEqual(ids.slice(0, 4));
  });
});

describe('answers their clients do not take', () => {
  it('closes the connections with the most unsent past the budget, before their stall timeout', async () => {
    const refusals: RefusalReason[] = [];
    const admission = createAdmission({
      maxInFlight: 10,
      maxPerConnection: 16,
      maxUnsentBytes: 1024 * 1024,
      onRefused: (reason) => refusals.push(reason),
    });
    // A large answer each (as 30 aliases of the schema's introspection make), to clients that read nothing.
    const server = createHttpServer(
      admission.wrap((_request, response) => response.end(Buffer.alloc(32 * 1024 * 1024))),
      HTTP_TIMEOUTS,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const closed: Array<Promise<unknown>> = [];
    server.on('connection', (connection: Socket) => closed.push(new Promise((resolve) => connection.once('close', resolve))));
    const clients = Array.from({ length: 2 }, () => {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      socket.pause();
      return socket;
    });
    try {
      await vi.waitFor(() => expect(closed).toHaveLength(2));
      await Promise.all(closed);
      expect(refusals).toEqual(['slow-reader', 'slow-reader']);
    } finally {
      for (const socket of clients) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('device loads in flight (MAX_DEVICE_LOADS_IN_FLIGHT)', () => {
  it('fails the loads past the budget at once, item by item, and frees the budget when requests end', async () => {
    const h = await harness({ MAX_DEVICE_LOADS_IN_FLIGHT: '5' });
    const paused = h.standin.pause();
    const first = post(h, DEVICES, { ids: ids.slice(0, 3) });
    await vi.waitFor(() => expect(loadsInFlight(h)).resolves.toBe(3));
    const second = post(h, DEVICES, { ids: ids.slice(3, 7) });
    await vi.waitFor(() => expect(loadsInFlight(h)).resolves.toBe(5));
    paused.release();

    expect(await (await first).json()).toEqual({ data: { devices: ids.slice(0, 3).map((id) => ({ id })) } });
    const partial = (await (await second).json()) as {
      data: { devices: unknown[] };
      errors: Array<{ path: unknown[]; extensions: { code: string } }>;
    };
    expect(partial.data.devices).toEqual([{ id: ids[3] }, { id: ids[4] }, null, null]);
    expect(partial.errors.map((error) => [error.path, error.extensions.code])).toEqual([
      [['devices', 2], 'UPSTREAM_OVERLOADED'],
      [['devices', 3], 'UPSTREAM_OVERLOADED'],
    ]);
    await vi.waitFor(() => expect(loadsInFlight(h)).resolves.toBe(0));
    expect(await (await post(h, DEVICES, { ids: ids.slice(0, 5) })).json()).toEqual({
      data: { devices: ids.slice(0, 5).map((id) => ({ id })) },
    });
  });
});
