import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { type DocumentNode, type ExecutionArgs, getOperationAST, GraphQLError, type GraphQLSchema, OperationTypeNode } from 'graphql';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, handleProtocols, makeServer, type OperationResult } from 'graphql-ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Yoga } from '../app.ts';
import type { Authenticate } from '../callers/authenticate.ts';
import { FacadeError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface WebSocketSettings {
  /** The GraphQL endpoint: upgrades to any other path are refused. */
  readonly endpoint: string;
  /** Connections held open at once (MAX_WEBSOCKETS); more upgrades are answered 503. */
  readonly maxConnections: number;
  /** Each socket is pinged this often and closed if it did not answer the previous ping. */
  readonly keepAliveMs: number;
  /** Bytes of one message; a larger one closes the socket (1009). */
  readonly maxMessageBytes: number;
  /** Browser origins allowed to connect (CORS_ORIGINS); a socket from any other page is refused. */
  readonly allowedOrigins: ReadonlySet<string>;
}

export interface WebSocketSubscriptions {
  /** For the HTTP server's `upgrade` event. */
  readonly upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * SIGTERM: no new sockets; each open one is closed (1001) once its subscriptions have sent
   * their last message, and any still open after `graceMs` is cut off.
   */
  close(graceMs: number): Promise<void>;
  readonly open: number;
}

/** What the socket's connection carries from its upgrade request and `connection_init`. */
interface Connection {
  readonly request: IncomingMessage;
  /** The upgrade request's headers, the `connection_init` payload's Authorization in place of its own. */
  headers: Headers;
  /** One per running operation: aborted when the client completes it or the socket closes. */
  readonly operations: Map<string, AbortController>;
  readonly url: string;
}

const GOING_AWAY = 1001;

/**
 * GraphQL over WebSocket (`graphql-transport-ws`, the graphql-ws library) on the GraphQL
 * endpoint, for Apollo Router's passthrough mode and apps (Apollo Kotlin, Apollo iOS,
 * graphql-ws clients). Each subscription runs through the app's own Yoga instance
 * (`getEnveloped`): the same parse and validation limits, context (the caller
 * authenticated from the token), access rule, limits and shared pollers as over SSE.
 *
 * A thin adapter over `makeServer` rather than graphql-ws's `useServer`, which logs
 * errors with their stacks and closes with their messages.
 */
export function createWebSocketSubscriptions({
  yoga,
  authenticate,
  settings,
  logger,
  onOpen = () => {},
}: {
  yoga: Yoga;
  authenticate: Authenticate;
  settings: WebSocketSettings;
  logger: Logger;
  /** Told the number of open sockets whenever it changes (a gauge). */
  onOpen?: (sockets: number) => void;
}): WebSocketSubscriptions {
  const sockets = new Map<WebSocket, Connection>();
  let closing = false;
  const allClosed = new Set<() => void>();
  // ws's own upgrade handling only; the HTTP server is the app's.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: settings.maxMessageBytes,
    handleProtocols: (protocols) => handleProtocols(protocols),
    // No compression: a client could make the server inflate far more than it sent.
    perMessageDeflate: false,
  });
  // How each operation runs: Yoga's execution, prepared for that operation's context.
  const enveloped = new WeakMap<object, Execution>();

  const server = makeServer<Record<string, unknown> | undefined, Connection>({
    // The token may come in connection_init (browsers cannot set headers on a WebSocket)
    // or in the upgrade request's Authorization header (a router forwarding it).
    async onConnect(ctx) {
      const token = authorizationIn(ctx.connectionParams);
      const connection = ctx.extra;
      if (token !== undefined) connection.headers.set('authorization', token);
      // Refused here with a close code, before any subscription: a bad token is a bad connection.
      const caller = await authenticate(
        new Request(connection.url, { headers: connection.headers }),
        connection.request.socket.remoteAddress,
      );
      // Without a token (CALLER_AUTH=jwt, or pass-through) every subscription would be refused:
      // such a socket would only hold a connection.
      if (caller.kind === 'anonymous') {
        throw new FacadeError(
          'UNAUTHENTICATED',
          'Sign in: send your token in connection_init as { "Authorization": "Bearer <token>" }, or in the Authorization header',
        );
      }
      return true;
    },
    async onSubscribe(ctx, id, payload) {
      const connection = ctx.extra;
      const controller = new AbortController();
      connection.operations.get(id)?.abort();
      connection.operations.set(id, controller);
      // A request of its own per operation: its signal ends the subscription (and the watch)
      // when the client completes it or goes away.
      const request = new Request(connection.url, { method: 'POST', headers: connection.headers, signal: controller.signal });
      // An `error` message ends the operation without onComplete.
      const refused = (errors: readonly GraphQLError[]) => {
        settle(connection, id);
        return errors;
      };
      const run = yoga.getEnveloped({ request, params: payload, req: connection.request } as never);
      try {
        const schema = run.schema as GraphQLSchema;
        const document = run.parse(payload.query) as DocumentNode;
        const errors = run.validate(schema, document) as readonly GraphQLError[];
        if (errors.length > 0) return refused(errors);
        if (getOperationAST(document, payload.operationName)?.operation !== OperationTypeNode.SUBSCRIPTION) {
          return refused([
            new FacadeError('BAD_USER_INPUT', 'Only subscriptions are served over WebSocket: send queries and mutations over HTTP'),
          ]);
        }
        const contextValue: object = await run.contextFactory();
        const args: ExecutionArgs = {
          schema,
          document,
          contextValue,
          variableValues: payload.variables,
          operationName: payload.operationName,
        };
        enveloped.set(contextValue, {
          execute: (execution) => run.execute(execution) as OperationResult,
          subscribe: (execution) => run.subscribe(execution) as OperationResult,
        });
        return args;
      } catch (error) {
        if (error instanceof GraphQLError) return refused([error]);
        settle(connection, id);
        throw error;
      }
    },
    execute: (args) => enveloped.get(args.contextValue as object)!.execute(args),
    subscribe: (args) => enveloped.get(args.contextValue as object)!.subscribe(args),
    onComplete(ctx, id) {
      settle(ctx.extra, id);
    },
  });

  /** The operation is over; while shutting down, its socket closes after its last one. */
  function settle(connection: Connection, id: string) {
    connection.operations.get(id)?.abort();
    connection.operations.delete(id);
    if (!closing || connection.operations.size > 0) return;
    // After the `complete` message, which graphql-ws sends once this hook has returned.
    setImmediate(() => {
      for (const [socket, open] of sockets) if (open === connection) socket.close(GOING_AWAY, 'The server is shutting down');
    });
  }

  function refuse(socket: Duplex, status: number, reason: string, message: string) {
    const body = JSON.stringify({ errors: [{ message, extensions: { code: reason } }] });
    socket.on('error', () => {});
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  function accept(socket: WebSocket, request: IncomingMessage) {
    const connection: Connection = {
      request,
      headers: headersOf(request),
      operations: new Map(),
      url: `http://localhost${settings.endpoint}`,
    };
    sockets.set(socket, connection);
    onOpen(sockets.size);
    socket.on('error', () => {}); // the 'close' that follows says enough
    let answered = true;
    socket.on('pong', () => {
      answered = true;
    });
    const keepAlive = setInterval(() => {
      // No answer since the last ping: the peer, or the path to it, is gone.
      if (!answered) return void socket.terminate();
      answered = false;
      socket.ping();
    }, settings.keepAliveMs);
    keepAlive.unref();

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, () => resolve());
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data, isBinary) => {
            if (isBinary) return void socket.close(CloseCode.BadRequest, 'Messages must be text');
            handle((data as Buffer).toString('utf8')).catch((error: unknown) => {
              // A refused connection_init (a bad token) ends the connection, with the reason.
              if (error instanceof FacadeError) {
                socket.close(CloseCode.Forbidden, closeReason(`Forbidden: ${error.message}`));
                return;
              }
              logger.warn(
                { err: error instanceof Error ? { type: error.name, message: error.message } : String(error) },
                'websocket error',
              );
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      connection,
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      for (const controller of connection.operations.values()) controller.abort();
      sockets.delete(socket);
      onOpen(sockets.size);
      void closed(code, String(reason));
      if (sockets.size === 0) for (const resolve of allClosed) resolve();
    });
  }

  return {
    upgrade(request, socket, head) {
      const path = (request.url ?? '').split('?')[0];
      if (path !== settings.endpoint) return refuse(socket, 404, 'NOT_FOUND', `WebSockets are served on ${settings.endpoint} only`);
      const origin = request.headers.origin;
      // A web page's socket carries its Origin, and no CORS check protects it: only listed
      // pages may open one (routers and apps send none).
      if (origin !== undefined && !settings.allowedOrigins.has(origin)) {
        return refuse(socket, 403, 'FORBIDDEN', 'This origin may not open a WebSocket here (CORS_ORIGINS)');
      }
      // Refused before the handshake, with a reason: a socket accepted without the protocol
      // would only be closed again (4406) with nothing said over HTTP.
      if (handleProtocols(request.headers['sec-websocket-protocol'] ?? '') === false) {
        return refuse(
          socket,
          400,
          'BAD_REQUEST',
          `WebSockets here speak ${GRAPHQL_TRANSPORT_WS_PROTOCOL}: ask for it in the Sec-WebSocket-Protocol header`,
        );
      }
      if (closing) return refuse(socket, 503, 'SHUTTING_DOWN', 'This server is shutting down; connect again to continue');
      if (sockets.size >= settings.maxConnections) {
        return refuse(
          socket,
          503,
          'TOO_MANY_SUBSCRIPTIONS',
          `This server holds ${settings.maxConnections} WebSockets, its most; try again later`,
        );
      }
      // The server's idle timeout is for HTTP requests; a socket is kept alive by pings.
      (socket as Socket).setTimeout(0);
      wss.handleUpgrade(request, socket, head, (ws) => accept(ws, request));
    },
    async close(graceMs) {
      closing = true;
      for (const [socket, connection] of sockets) {
        if (connection.operations.size === 0) socket.close(GOING_AWAY, 'The server is shutting down');
      }
      if (sockets.size === 0) return;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      allClosed.add(done);
      const cutOff = setTimeout(() => {
        for (const socket of sockets.keys()) socket.terminate();
      }, graceMs);
      await finished;
      clearTimeout(cutOff);
    },
    get open() {
      return sockets.size;
    },
  };
}

interface Execution {
  execute(args: ExecutionArgs): OperationResult;
  subscribe(args: ExecutionArgs): OperationResult;
}

/** The upgrade request's headers as a Fetch Headers (what the context factory reads). */
function headersOf(request: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name.startsWith('sec-websocket-')) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/** `{ "Authorization": "Bearer …" }` in connection_init's payload (any case), as Apollo's clients send it. */
function authorizationIn(payload: Record<string, unknown> | undefined): string | undefined {
  if (!payload) return undefined;
  for (const [key, value] of Object.entries(payload)) if (key.toLowerCase() === 'authorization' && typeof value === 'string') return value;
  return undefined;
}

/** A close reason is at most 123 bytes. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = `${reason.slice(0, -2)}…`;
  return reason;
}
