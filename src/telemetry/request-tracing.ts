import type { Context as TraceContext } from '@opentelemetry/api';
import type { Plugin } from 'graphql-yoga';
import { callerTraceId, createOperationTracing } from './operation-spans.ts';
import type { Tracing } from './tracing.ts';
import { createUpstreamTracing, type UpstreamTracing } from './upstream-spans.ts';

/** The pieces of tracing that the app wires in, each in its place. */
export interface RequestTracing {
  /** The server span per operation (none when tracing is off). */
  readonly plugins: readonly Plugin[];
  /** For the Flatpeak client: a span per attempt. */
  readonly upstream: UpstreamTracing | undefined;
  /** For the context: the parent of a request's upstream calls. */
  readonly traceContextOf: ((request: Request) => TraceContext | undefined) | undefined;
  /** For the access log. */
  readonly traceIdOf: (request: Request) => string | undefined;
}

/**
 * Tracing off costs a header lookup per logged request: no spans, no `traceparent` sent.
 * The log line still carries the caller's trace id, so that logs join the caller's trace.
 */
export function createRequestTracing(tracing: Tracing | undefined, graphqlEndpoint: string): RequestTracing {
  if (!tracing) return { plugins: [], upstream: undefined, traceContextOf: undefined, traceIdOf: callerTraceId };
  const operations = createOperationTracing(tracing, graphqlEndpoint);
  return {
    plugins: [operations.plugin],
    upstream: createUpstreamTracing(tracing),
    traceContextOf: operations.traceContextOf,
    traceIdOf: operations.traceIdOf,
  };
}
