import { randomUUID } from 'node:crypto';

// A caller-supplied request id is kept for tracing across services, but only if it is
// short and plain: it is copied into upstream headers and log lines.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the caller's `x-request-id` when it is plain, a new UUID otherwise. */
export function requestIdOf(request: Request): string {
  const incoming = request.headers.get('x-request-id');
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
