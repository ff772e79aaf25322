import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Apollo's multipart subscription protocol (what Apollo Client, iOS and Kotlin send). */
export const MULTIPART_SUBSCRIPTION_CONTENT_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0';

/** Apollo Router's interval: proxies drop connections idle for much longer. */
const HEARTBEAT_MS = 5_000;

const PART = '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n';

/**
 * Subscriptions over `multipart/mixed`, as Apollo's clients ask for them
 * (`Accept: multipart/mixed;subscriptionSpec=1.0`). Yoga serves subscriptions over SSE
 * only; it refuses multipart for them on purpose (its multipart is incremental delivery,
 * which has no heartbeats). This is Apollo's protocol: each event a part holding
 * `{"payload": <result>}`, `{}` every 5 s as a heartbeat, and the closing boundary when the
 * stream ends. Whichever of SSE and multipart the Accept header lists first wins.
 */
export function useMultipartSubscriptions({ heartbeatMs = HEARTBEAT_MS }: { heartbeatMs?: number } = {}): Plugin {
  const subscriptions = new WeakSet<Request>();
  return {
    onSubscribe({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      if (request) subscriptions.add(request);
    },
    onResultProcess({ request, result, setResultProcessor }) {
      if (!subscriptions.has(request) || !isAsyncIterable(result) || !prefersMultipart(request.headers.get('accept'))) return;
      setResultProcessor(
        (stream, fetchAPI) => multipartResponse(stream as AsyncIterable<ExecutionResult>, fetchAPI, heartbeatMs),
        'multipart/mixed',
      );
    },
  };
}

function prefersMultipart(accept: string | null): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((entry) => entry.split(';')[0]!.trim().toLowerCase());
  const multipart = types.indexOf('multipart/mixed');
  const sse = types.indexOf('text/event-stream');
  return multipart !== -1 && (sse === -1 || multipart < sse);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function multipartResponse(
  stream: AsyncIterable<ExecutionResult>,
  fetchAPI: { Response: typeof Response; ReadableStream: typeof ReadableStream },
  heartbeatMs: number,
): Response {
  const encoder = new TextEncoder();
  const iterator = (stream as AsyncIterable<ExecutionResult, undefined>)[Symbol.asyncIterator]();
  let heartbeat: NodeJS.Timeout | undefined;
  let first = true;
  // The first part opens with the boundary; every part ends with the next one.
  const part = (json: string) => {
    const text = `${first ? '\r\n--graphql' : ''}${PART}${json}\r\n--graphql`;
    first = false;
    return encoder.encode(text);
  };

  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(part('{}'));
      heartbeat = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(heartbeat);
        else if (controller.desiredSize > 0) controller.enqueue(part('{}'));
      }, heartbeatMs);
    },
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (value !== undefined) controller.enqueue(part(JSON.stringify({ payload: withoutInternals(value) })));
        if (done) {
          clearInterval(heartbeat);
          controller.enqueue(encoder.encode('--\r\n'));
          controller.close();
        }
      } catch (error) {
        clearInterval(heartbeat);
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(heartbeat);
      await iterator.return?.();
    },
  });
  return new fetchAPI.Response(body, {
    status: 200,
    headers: { 'content-type': MULTIPART_SUBSCRIPTION_CONTENT_TYPE, 'cache-control': 'no-cache', connection: 'keep-alive' },
  });
}

/** Only what a client may see of a result: errors as GraphQL serializes them (message, locations, path, extensions). */
function withoutInternals(result: ExecutionResult): Record<string, unknown> {
  const { data, errors, extensions } = result;
  return {
    ...(data === undefined ? {} : { data }),
    ...(errors ? { errors: errors.map(serializeError) } : {}),
    ...(extensions ? { extensions } : {}),
  };
}

function serializeError(error: NonNullable<ExecutionResult['errors']>[number]): unknown {
  const json = (typeof error.toJSON === 'function' ? error.toJSON() : { ...error }) as { extensions?: Record<string, unknown> };
  // Yoga reads `http` (status, headers) off an error for the response; it is not for clients.
  if (json.extensions && 'http' in json.extensions) {
    const { http: _http, ...extensions } = json.extensions;
    json.extensions = extensions;
  }
  return json;
}
