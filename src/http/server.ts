import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { hasValidTarget } from './request-target.ts';

export interface HttpTimeouts {
  /** The request line and headers must arrive within this (Node: 60 s). */
  readonly headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (Node: 300 s). Not the response. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection stays open this long (Node: 5 s). */
  readonly keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above (Node: 30 s, which would let 10 s run to 40 s). */
  readonly checkIntervalMs: number;
  /**
   * A connection with a request in progress and no byte moving either way for this long is
   * closed (Node: never): a client that stopped reading its answer, which would otherwise
   * hold it in memory for as long as it likes. Longer than any silence of a healthy request
   * (the request deadline, subscription heartbeats: 5 s multipart, 12 s SSE), and than the
   * two timeouts above, so that a slow request still gets its 408.
   */
  readonly stalledMs: number;
}

/**
 * Sized for a JSON API of small requests (bodies are at most 128 KB): a client whose
 * headers take 10 s, or whose body takes 20 s, is holding a connection, not sending a
 * request. Idle keep-alive connections outlive a load balancer's or router's own idle
 * timeout (60 s on AWS ALB), so that it is always the client that closes them, never
 * this server while the client is sending on one.
 */
export const HTTP_TIMEOUTS: HttpTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
  keepAliveTimeoutMs: 65_000,
  checkIntervalMs: 2_000,
  stalledMs: 30_000,
};

const BAD_REQUEST = JSON.stringify({
  errors: [{ message: 'Bad request: the request target must be a path and Host a host name.', extensions: { code: 'BAD_REQUEST' } }],
});

/**
 * The HTTP server in front of the Yoga app, as `main.ts` and the tests run it: requests
 * whose target or Host cannot make a URL are answered 400 here, before Yoga's adapter
 * would answer them 500 with a stack trace.
 */
export function createHttpServer(
  app: RequestListener,
  timeouts: HttpTimeouts = HTTP_TIMEOUTS,
  upgrade?: (request: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Server {
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    (request: IncomingMessage, response: ServerResponse) => {
      if (!hasValidTarget(request)) {
        response.writeHead(400, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
        response.end(BAD_REQUEST);
        return;
      }
      app(request, response);
    },
  );
  // Without a 'timeout' listener, Node destroys the socket. Between requests the keep-alive
  // timeout applies instead.
  server.setTimeout(timeouts.stalledMs);
  // CONNECT (authority-form) never reaches the request handler; without a listener Node
  // would drop the connection without an answer.
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => {});
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(BAD_REQUEST)}\r\nconnection: close\r\n\r\n${BAD_REQUEST}`,
    );
  });
  // WebSocket subscriptions; without a listener Node destroys the upgrading connection.
  if (upgrade) {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!hasValidTarget(request)) {
        socket.on('error', () => {});
        socket.end(
          `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(BAD_REQUEST)}\r\nconnection: close\r\n\r\n${BAD_REQUEST}`,
        );
        return;
      }
      upgrade(request, socket, head);
    });
  }
  return server;
}
