import type { Plugin } from 'graphql-yoga';
import { compressDynamic, isCompressible, negotiateCoding } from '../../http/content-coding.ts';

/**
 * Answers of at least `minBytes` (JSON results, GraphiQL's page) compressed in the coding
 * the client's `Accept-Encoding` prefers: brotli, else gzip. A listing of a hundred devices
 * is ~50 KB of JSON and a tenth of that compressed, which an app on a mobile network feels.
 * Left alone: smaller answers (compressing saves less than it costs), answers already
 * coded, and streams (SSE, multipart), which are sent part by part and have no length.
 * Runs in Yoga's handler and in the fast lane alike (both run every onResponse hook); last
 * of them, so that the headers the others set are carried over.
 */
export function useCompressedResponses(minBytes: number): Plugin {
  return {
    onResponse({ request, response, setResponse, fetchAPI }) {
      const { headers } = response;
      if (request.method === 'HEAD' || headers.has('content-encoding') || !isCompressible(headers.get('content-type'))) return;
      // Its coding was chosen already, by Accept-Encoding (GraphiQL's files).
      if (/accept-encoding/i.test(headers.get('vary') ?? '')) return;
      // Caches must key what they keep on Accept-Encoding, compressed or not.
      headers.append('vary', 'Accept-Encoding');
      // A body of known length (Yoga's answers in full say it); none: a stream, left alone.
      const length = Number(headers.get('content-length') ?? Number.NaN);
      if (!(length >= minBytes)) return;
      const coding = negotiateCoding(request.headers.get('accept-encoding'), ['br', 'gzip', 'identity']);
      if (coding === undefined || coding === 'identity') return;
      return response.bytes().then((bytes) => {
        const body = compressDynamic(bytes, coding);
        const replaced = new fetchAPI.Headers(headers);
        replaced.set('content-encoding', coding);
        replaced.set('content-length', String(body.byteLength));
        setResponse(
          new fetchAPI.Response(body as Uint8Array<ArrayBuffer>, {
            status: response.status,
            statusText: response.statusText,
            headers: replaced,
          }),
        );
      });
    },
  };
}
