import type { Plugin } from 'graphql-yoga';
import type { GraphiQLAssets } from '../../graphiql-assets.ts';

/**
 * GETs under the assets' path answered with GraphiQL's files; before the endpoint guard,
 * which answers 404 to every other path.
 */
export function useGraphiQLAssets(assets: GraphiQLAssets): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      const answer = assets.serve(url.pathname, request.headers.get('accept-encoding'), fetchAPI);
      if (answer) return answer.then((response) => endResponse(response));
    },
  };
}
