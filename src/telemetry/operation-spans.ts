import {
  type Context as TraceContext,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import { type DocumentNode, type ExecutionResult, getOperationAST } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import type { Tracing } from './tracing.ts';

// Still "development" in the semantic conventions, so not in the package's stable entry
// point; OpenTelemetry advises copying such names rather than importing `/incubating`.
const ATTR_GRAPHQL_OPERATION_TYPE = 'graphql.operation.type';
const ATTR_GRAPHQL_OPERATION_NAME = 'graphql.operation.name';

interface Operation {
  readonly span: Span;
  /** The span as a parent: what upstream calls made for the operation start from. */
  readonly context: TraceContext;
  /** Ends when its last incremental payload has gone (@defer, @stream), not with the response head. */
  streaming: boolean;
}

export interface OperationTracing {
  readonly plugin: Plugin;
  /** The parent of the upstream calls made for `request`. */
  traceContextOf(request: Request): TraceContext | undefined;
  /** For the access log: this request's trace (the caller's, continued, or a new one). */
  traceIdOf(request: Request): string | undefined;
}

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * A server span per GraphQL operation, child of the caller's `traceparent` when it sent one
 * (the router does). Named and described by the semantic conventions for GraphQL: the
 * operation's type and name only. Never the document, variables or any header, which
 * can carry personal data and tokens.
 */
export function createOperationTracing({ tracer, propagator }: Tracing, endpoint: string): OperationTracing {
  const operations = new WeakMap<Request, Operation>();
  const plugin: Plugin = {
    // Once per GraphQL operation (GET or POST), before its context and any upstream call.
    onParams({ request }) {
      if (operations.has(request)) return;
      const parent = propagator.extract(ROOT_CONTEXT, request.headers, headerGetter);
      const span = tracer.startSpan(
        'GraphQL Operation',
        { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_HTTP_ROUTE]: endpoint } },
        parent,
      );
      operations.set(request, { span, context: trace.setSpan(parent, span), streaming: false });
    },
    onExecute({ args }) {
      const operation = operations.get(args.contextValue.request);
      const ast = getOperationAST(args.document as DocumentNode, args.operationName as string | undefined);
      if (!operation || !ast) return;
      const name = ast.name?.value.slice(0, 100);
      operation.span.setAttribute(ATTR_GRAPHQL_OPERATION_TYPE, ast.operation);
      if (name) operation.span.setAttribute(ATTR_GRAPHQL_OPERATION_NAME, name);
      operation.span.updateName(name ? `${ast.operation} ${name}` : ast.operation);
    },
    // Every result, including those that never reached execution (refused, invalid).
    onExecutionResult({ request, result, setResult }) {
      const operation = operations.get(request);
      if (!operation || !result) return;
      if (!isAsyncIterable(result)) {
        recordErrors(operation.span, result);
        return;
      }
      operation.streaming = true;
      const end = () => operation.span.end();
      setResult(
        mapAsyncIterator(
          result,
          (payload) => {
            recordErrors(operation.span, payload);
            return payload;
          },
          (error: unknown) => {
            end();
            throw error;
          },
          end,
        ),
      );
    },
    onResponse({ request, response }) {
      const operation = operations.get(request);
      if (!operation) return;
      operation.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
      if (response.status >= 500) operation.span.setStatus({ code: SpanStatusCode.ERROR });
      if (!operation.streaming) operation.span.end();
    },
  };
  return {
    plugin,
    traceContextOf: (request) => operations.get(request)?.context,
    traceIdOf: (request) => operations.get(request)?.span.spanContext().traceId ?? callerTraceId(request),
  };
}

const incoming = new W3CTraceContextPropagator();

/** The trace id of the caller's `traceparent`, if it sent a valid one. */
export function callerTraceId(request: Request): string | undefined {
  if (!request.headers.has('traceparent')) return undefined;
  const context = trace.getSpanContext(incoming.extract(ROOT_CONTEXT, request.headers, headerGetter));
  return context && isSpanContextValid(context) ? context.traceId : undefined;
}

type Payload = ExecutionResult & { incremental?: ReadonlyArray<{ errors?: ExecutionResult['errors'] }> };

/** Error status with the errors' codes (their messages stay out: they can name ids). */
function recordErrors(span: Span, result: Payload): void {
  const errors = [...(result.errors ?? []), ...(result.incremental ?? []).flatMap((part) => part.errors ?? [])];
  if (errors.length === 0) return;
  const codes = new Set(errors.map((error) => String((error.extensions?.['code'] as string | undefined) ?? 'UNKNOWN')));
  span.setStatus({ code: SpanStatusCode.ERROR, message: [...codes].join(', ') });
}
