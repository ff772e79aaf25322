import type { Plugin } from 'graphql-yoga';

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
