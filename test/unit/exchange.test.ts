import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lifetime } from '../../src/request/lifetime.ts';
import { EXCHANGE_TIMED_OUT, exchange } from '../../src/upstream/exchange.ts';

// A real server on loopback: what undici's dispatch does with a socket is what is tested.
let server: Server;
let origin: string;
const agent = new Agent({ connections: 4 });
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/device') {
      res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '3' }).end('{"id":"dev_1"}');
    } else if (req.url === '/chunked') {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.write('a'.repeat(600));
      res.end('b'.repeat(600));
    } else if (req.url === '/bom') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('\uFEFF{"id":"dev_1"}');
    } else if (req.url === '/empty') {
      res.writeHead(204).end();
    } else {
      held.push(res); // never answers on its own
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of held) res.destroy();
  await agent.close();
  server.close();
});

const settings = (signal: AbortSignal | Lifetime = new AbortController().signal, timeoutMs = 10_000, maxBodyBytes = 1024) => ({
  signal,
  timeoutMs,
  maxBodyBytes,
});
const get = (path: string) => ({ origin, path, method: 'GET' as const });

describe('exchange', () => {
  it('answers with the status, the headers (lower-case names) and the whole body as text', async () => {
    const answer = await exchange(agent, get('/device'), settings());
    expect(answer).toMatchObject({ statusCode: 200, text: '{"id":"dev_1"}' });
    expect(answer.headers['retry-after']).toBe('3');
  });

  it('reads the body as undici’s body.text() did: without a UTF-8 byte-order mark', async () => {
    expect((await exchange(agent, get('/bom'), settings())).text).toBe('{"id":"dev_1"}');
  });

  it('answers an empty body as an empty text', async () => {
    expect(await exchange(agent, get('/empty'), settings())).toMatchObject({ statusCode: 204, text: '' });
  });

  it('stops reading a body past the limit and answers it as undefined, keeping the status, told before the body', async () => {
    const statuses: number[] = [];
    const answer = await exchange(agent, get('/chunked'), {
      ...settings(undefined, 10_000, 1000),
      onStatus: (status) => statuses.push(status),
    });
    expect(answer).toMatchObject({ statusCode: 503, text: undefined });
    expect(statuses).toEqual([503]);
    // The same agent still serves the next exchange.
    expect((await exchange(agent, get('/device'), settings())).statusCode).toBe(200);
  });

  it('rejects with EXCHANGE_TIMED_OUT when the answer takes longer than its time', async () => {
    await expect(exchange(agent, get('/hold'), settings(undefined, 50))).rejects.toBe(EXCHANGE_TIMED_OUT);
  });

  it('times out while the request still waits for a connection, and never sends it', async () => {
    const one = new Agent({ connections: 1 });
    const holder = new AbortController();
    const before = held.length + 1;
    const holding = exchange(one, get('/hold'), settings(holder.signal, Number.POSITIVE_INFINITY)).catch((error: unknown) => error);
    await vi.waitFor(() => expect(held.length).toBe(before));
    await expect(exchange(one, get('/hold'), settings(undefined, 50))).rejects.toBe(EXCHANGE_TIMED_OUT);
    // The queued request reaches the connection once it is free, and is aborted there unsent.
    holder.abort(new Error('done'));
    await holding;
    await expect(exchange(one, get('/device'), settings())).resolves.toMatchObject({ statusCode: 200 });
    expect(held.length).toBe(before);
    await one.close();
  });

  it('rejects with the reason of the signal that aborts it, an AbortSignal or a Lifetime', async () => {
    const controller = new AbortController();
    const pending = exchange(agent, get('/hold'), settings(controller.signal));
    const reason = new Error('the client went away');
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);

    const lifetime = new Lifetime();
    const waiting = exchange(agent, get('/hold'), settings(lifetime));
    lifetime.end(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('rejects at once, with its reason, when its signal has aborted already', async () => {
    const lifetime = new Lifetime();
    const reason = new Error('deadline');
    lifetime.end(reason);
    await expect(exchange(agent, get('/hold'), settings(lifetime))).rejects.toBe(reason);
  });
});
