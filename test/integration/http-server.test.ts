import type { Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, HTTP_TIMEOUTS } from '../../src/http/server.ts';
import { sampleDevices } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { rawRequest } from '../support/raw-http.ts';

const INTERNALS = /\n\s+at |\/src\/|node_modules|originalError|TypeError/;

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness();
  port = Number(h.url.port);
});
afterAll(() => h.close());

describe('request line and Host', () => {
  it.each([
    ['a Host with a space', 'GET /health HTTP/1.1\r\nHost: a b\r\n'],
    ['an unclosed IPv6 Host', 'GET /health HTTP/1.1\r\nHost: [::1\r\n'],
    ['a Host whose port is out of range', 'GET /health HTTP/1.1\r\nHost: localhost:99999\r\n'],
    ['a Host with a path', 'GET /health HTTP/1.1\r\nHost: localhost/x\r\n'],
    ['a Host with user info', 'GET /health HTTP/1.1\r\nHost: user@localhost\r\n'],
    ['an absolute-form target', 'GET http://127.0.0.1:1/graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: 127.0.0.1:1\r\n'],
    ['an absolute-form target to another host', 'GET http://evil.example/graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: localhost\r\n'],
    ['the asterisk form', 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n'],
    ['the authority form (CONNECT)', 'CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n'],
    ['two Host headers', 'GET /health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n'],
  ])('%s is answered 400 with a fixed JSON error and no internals', async (_, head) => {
    const response = await rawRequest(port, `${head}Connection: close\r\n\r\n`);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }] });
    expect(response.raw).not.toMatch(INTERNALS);
  });

  it.each([
    ['an IPv4 Host with the port', (p: number) => `127.0.0.1:${p}`],
    ['a name', () => 'flatpeak-graph.internal'],
    ['an IPv6 literal', (p: number) => `[::1]:${p}`],
  ])('%s is served', async (_, host) => {
    const response = await rawRequest(
      port,
      `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: ${host(port)}\r\nConnection: close\r\n\r\n`,
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ data: { __typename: 'Query' } });
  });

  it('serves HTTP/1.0 without a Host', async () => {
    const response = await rawRequest(port, 'GET /health HTTP/1.0\r\n\r\n');
    expect(response.status).toBe(200);
  });
});

describe('paths', () => {
  // Yoga's own check lets through any target whose URL merely ends in the endpoint; the
  // access log writes probe paths at debug level, so an operation sent to one would read
  // devices unseen.
  const DEVICE = `{ device(id: "${sampleDevices()[7]!.id}") { id } }`;
  const post = (path: string) =>
    fetch(new URL(path, h.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: DEVICE }),
    });

  it.each([
    ['POST /metrics?/graphql', () => post('/metrics?/graphql')],
    ['POST /status?x=/graphql', () => post('/status?x=/graphql')],
    ['POST /health?x=/graphql', () => post('/health?x=/graphql')],
    ['GET /health?query=…&x=/graphql', () => fetch(new URL(`/health?query=${encodeURIComponent(DEVICE)}&x=/graphql`, h.url))],
    ['POST /admin/graphql', () => post('/admin/graphql')],
  ])('%s runs no operation (404)', async (_, send) => {
    h.standin.resetLog();
    const response = await send();
    expect({ status: response.status, body: await response.text() }).toEqual({ status: 404, body: '' });
    expect(h.standin.count('/devices/')).toBe(0);
  });

  it.each([
    ['GET /health', '/health', 200],
    ['GET /ready', '/ready', 200],
    ['GET /status', '/status', 200],
    ['GET /graphql', `/graphql?query=${encodeURIComponent('{ __typename }')}`, 200],
    ['GET /graphql/ (a trailing slash, as Yoga takes it)', `/graphql/?query=${encodeURIComponent('{ __typename }')}`, 200],
  ])('%s is still served', async (_, path, status) => {
    expect((await fetch(new URL(path, h.url))).status).toBe(status);
  });
});

describe('server timeouts', () => {
  it('are sized for an API, not left at Node defaults', async () => {
    const server = createHttpServer(() => {});
    expect(server.headersTimeout).toBe(HTTP_TIMEOUTS.headersTimeoutMs);
    expect(server.requestTimeout).toBe(HTTP_TIMEOUTS.requestTimeoutMs);
    expect(server.keepAliveTimeout).toBe(HTTP_TIMEOUTS.keepAliveTimeoutMs);
    expect(HTTP_TIMEOUTS.headersTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(HTTP_TIMEOUTS.requestTimeoutMs).toBeLessThanOrEqual(30_000);
    expect(server.timeout).toBe(HTTP_TIMEOUTS.stalledMs);
    expect(HTTP_TIMEOUTS.stalledMs).toBeGreaterThan(HTTP_TIMEOUTS.requestTimeoutMs);
  });

  describe('with short timeouts', () => {
    let server: Server;
    let shortPort: number;
    beforeAll(async () => {
      // Reads the whole body before answering, as Yoga does.
      server = createHttpServer((request, response) => request.resume().on('end', () => response.end('ok')), {
        headersTimeoutMs: 300,
        requestTimeoutMs: 600,
        keepAliveTimeoutMs: 300,
        checkIntervalMs: 50,
        stalledMs: 1_000,
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      shortPort = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    it('a client that never finishes its headers gets 408 and the connection closed', async () => {
      const response = await rawRequest(shortPort, 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
      expect(response.status).toBe(408);
    });

    it('a client that never finishes its body gets 408 and the connection closed', async () => {
      const response = await rawRequest(
        shortPort,
        'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":',
      );
      expect(response.status).toBe(408);
    });

    it('a client that stops reading its answer has its connection closed', async () => {
      const stalled = createHttpServer((_request, response) => response.end(Buffer.alloc(64 * 1024 * 1024)), {
        ...HTTP_TIMEOUTS,
        stalledMs: 300,
      });
      await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
      try {
        const serverSide = new Promise<Socket>((resolve) => stalled.once('connection', resolve));
        const socket = connect((stalled.address() as AddressInfo).port, '127.0.0.1');
        socket.on('error', () => {});
        socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
        socket.pause(); // reads nothing: 64 MB cannot all fit in the connection's buffers
        // A paused client would not see the close; the server's side of the connection does.
        await new Promise((resolve) => void serverSide.then((connection) => connection.once('close', resolve)));
        socket.destroy();
      } finally {
        stalled.closeAllConnections();
        await new Promise((resolve) => stalled.close(resolve));
      }
    });

    it('an idle keep-alive connection is closed by the server', async () => {
      const response = await rawRequest(shortPort, 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(response.status).toBe(200);
      expect(response.body).toBe('ok');
    });
  });
});
