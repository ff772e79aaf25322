import type { Plugin } from 'graphql-yoga';
import type { UpstreamStatus } from '../../upstream/status.ts';

/**
 * `GET /status`: a small JSON document for dashboards and people on call, always 200:
 * whether this replica is ready, and what it last saw of Flatpeak (circuit, last login,
 * last probe). Probes and orchestrators use `/health` and `/ready`, never this.
 */
export function useStatusEndpoint({ ready, upstream }: { ready: () => boolean; upstream: () => Promise<UpstreamStatus> }): Plugin {
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== '/status' || request.method !== 'GET') return;
      return upstream().then((flatpeak) => {
        endResponse(
          new fetchAPI.Response(JSON.stringify({ ready: ready(), flatpeak }), {
            headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
          }),
        );
      });
    },
  };
}
