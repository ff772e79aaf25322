import { type Context as TraceContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapSetter, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import { FacadeError } from '../errors.ts';
import type { Tracing } from './tracing.ts';

// "Development" in the semantic conventions; copied rather than imported from `/incubating`.
const ATTR_URL_TEMPLATE = 'url.template';

/** One HTTP attempt as the span describes it: no query string (it can hold a caller's reference id), no headers. */
export interface AttemptRequest {
  readonly method: string;
  /** Scheme, host and path only. */
  readonly url: URL;
  /** The path with its ids as placeholders (`/devices/{id}`): the span's name stays low-cardinality. */
  readonly template: string;
  /** 0 for the first attempt of a call, then 1, 2… for its retries. */
  readonly resendCount: number;
}

export interface AttemptSpan {
  /** `traceparent` (and the caller's `tracestate`) naming this attempt as the parent of Flatpeak's work. */
  readonly headers: Record<string, string>;
  responded(status: number): void;
  /** The attempt is over; `error` is why it failed, if it did. */
  end(error?: unknown): void;
}

/** Client spans for calls to Flatpeak: one per HTTP attempt, so that each retry shows as its own span. */
export type UpstreamTracing = (request: AttemptRequest, parent: TraceContext | undefined) => AttemptSpan;

export function createUpstreamTracing({ tracer, propagator }: Tracing): UpstreamTracing {
  return ({ method, url, template, resendCount }, parent = ROOT_CONTEXT) => {
    const span = tracer.startSpan(
      `${method} ${template}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_SERVER_ADDRESS]: url.hostname,
          [ATTR_SERVER_PORT]: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
          [ATTR_URL_FULL]: url.origin + url.pathname,
          [ATTR_URL_TEMPLATE]: template,
          ...(resendCount > 0 ? { [ATTR_HTTP_REQUEST_RESEND_COUNT]: resendCount } : {}),
        },
      },
      parent,
    );
    const headers: Record<string, string> = {};
    propagator.inject(trace.setSpan(parent, span), headers, defaultTextMapSetter);
    return {
      headers,
      responded(status) {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      },
      end(error) {
        if (error !== undefined) {
          const status = error instanceof FacadeError ? error.upstream?.status : undefined;
          const type = status !== undefined && status >= 400 ? String(status) : error instanceof FacadeError ? error.code : '_OTHER';
          span.setAttribute(ATTR_ERROR_TYPE, type);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      },
    };
  };
}
