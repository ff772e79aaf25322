import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../../context.ts';
import type { Logger } from '../../logger.ts';

interface Seen {
  readonly startedAt: number;
  requestId?: string;
  operation?: string;
}

// Probes and scrapes arrive every few seconds; at info level they would bury the traffic.
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics', '/status']);

/**
 * One access-log line per HTTP request (path without its query string, status, time to
 * the response head, operation name, request id, trace id), and the request id echoed in
 * `x-request-id` so that a caller can quote it. No headers, variables or documents.
 */
export function useRequestLog(logger: Logger, traceIdOf: (request: Request) => string | undefined = () => undefined): Plugin<Context> {
  const seen = new WeakMap<Request, Seen>();
  return {
    onRequest({ request }) {
      seen.set(request, { startedAt: performance.now() });
    },
    onExecute({ args }) {
      const entry = seen.get(args.contextValue.request);
      if (!entry) return;
      entry.requestId = args.contextValue.requestId;
      const name = (args.operationName as string | undefined) ?? getOperationAST(args.document as DocumentNode)?.name?.value;
      if (name) entry.operation = name.slice(0, 100);
    },
    onResponse({ request, response }) {
      const entry = seen.get(request);
      // Deleted once read, not left for the collector: such entries cost every scavenge (docs/benchmarks.md, "What survives a scavenge").
      seen.delete(request);
      if (entry?.requestId) response.headers.set('x-request-id', entry.requestId);
      const path = pathOf(request.url);
      const level = QUIET_PATHS.has(path) ? 'debug' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          requestId: entry?.requestId,
          traceId: traceIdOf(request),
          method: request.method,
          path,
          status: response.status,
          ms: entry ? Math.round(performance.now() - entry.startedAt) : undefined,
          operation: entry?.operation,
        },
        'request',
      );
    },
  };
}

/** The path of an absolute URL, without its query: a URL object per request costs ~1.5 % of a small one. */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start === -1) return '/';
  const query = url.indexOf('?', start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}
