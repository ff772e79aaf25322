import type { ServerResponse } from 'node:http';

/**
 * Calls `gone` when the client closes the connection before its answer is complete; returns
 * how to stop watching. On Node the response's own `close` event says so: the request's
 * AbortSignal would cost a native AbortController per request, which nothing else asks for.
 */
export function whenClientGone({ request, res }: { request: Request; res?: ServerResponse | undefined }, gone: () => void): () => void {
  if (!res) {
    if (request.signal.aborted) return goneAlready(gone);
    request.signal.addEventListener('abort', gone, { once: true });
    return () => request.signal.removeEventListener('abort', gone);
  }
  // A pipelined request starts only once the answer before it is complete
  // (src/http/admission.ts), so its response has the connection, and 'close' comes.
  if (res.destroyed && !res.writableFinished) return goneAlready(gone);
  const closed = () => {
    if (!res.writableFinished) gone();
  };
  res.once('close', closed);
  return () => res.removeListener('close', closed);
}

// Gone before the context was made (while the token was verified, or the request waited for
// its turn): no event is still to come, and the request would call Flatpeak for nobody.
function goneAlready(gone: () => void): () => void {
  gone();
  return () => {};
}
