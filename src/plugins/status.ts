import type { Plugin } from 'graphql-yoga';
import type { UpstreamStatus } from '../upstream/status.ts';

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

/**
 * `/ready`: 200 while this process serves, 503 once it drains. What Yoga's
 * `useReadinessCheck` answers, without the URLPattern it matches every other request
 * against (about 5 % of a small request's CPU).
 */
export function useReadinessEndpoint(ready: () => boolean, endpoint = '/ready'): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname === endpoint) endResponse(new fetchAPI.Response(null, { status: ready() ? 200 : 503 }));
    },
  };
}
