import type { Plugin } from 'graphql-yoga';

/**
 * 404 for any path but the GraphQL endpoint's (with or without a trailing slash), once the
 * probes and /metrics have answered theirs. Yoga's own check lets through any URL that
 * merely ends in the endpoint (`/metrics?/graphql`, `/health?x=/graphql`, `/admin/graphql`),
 * and the access log writes probe paths at debug level: an operation sent to one would
 * read devices without a line at info.
 */
export function useEndpointOnly(endpoint: string): Plugin {
  const withSlash = `${endpoint}/`;
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint && url.pathname !== withSlash)
        endResponse(new fetchAPI.Response('', { status: 404, statusText: 'Not Found' }));
    },
  };
}
