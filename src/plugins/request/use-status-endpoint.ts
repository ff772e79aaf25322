import type { Plugin } from 'graphql-yoga';
import type { UpstreamStatus } from '../../upstream/status.ts';

/**
 * `GET /status`: a small JSON document for dashboards and people on call, always 200:
 * whether this replica is ready, whether it talks to Flatpeak or serves sample data from
 * the development stand-in, and what it last saw of its upstream (circuit, last login,
 * last probe). Probes and orchestrators use `/health` and `/ready`, never this.
 */
export function useStatusEndpoint({
  ready,
  standin,
  upstream,
}: {
  ready: () => boolean;
  /** FLATPEAK_STANDIN: the upstream is the development stand-in, whose devices are samples. */
  standin: boolean;
  upstream: () => Promise<UpstreamStatus>;
}): Plugin {
  const source = { upstream: standin ? 'standin' : 'flatpeak', sampleData: standin };
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== '/status' || request.method !== 'GET') return;
      return upstream().then((flatpeak) => {
        endResponse(
          new fetchAPI.Response(JSON.stringify({ ready: ready(), ...source, flatpeak }), {
            headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
          }),
        );
      });
    },
  };
}
