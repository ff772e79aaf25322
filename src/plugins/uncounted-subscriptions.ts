import type { ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Admission } from '../http/admission.ts';

/**
 * A subscription stops counting against MAX_REQUESTS_IN_FLIGHT once it starts: it lives as
 * long as its client, and MAX_SUBSCRIPTIONS and MAX_SUBSCRIPTIONS_PER_CALLER bound it.
 */
export function useUncountedSubscriptions(admission: Admission): Plugin {
  return {
    onSubscribe({ args }) {
      const { res } = args.contextValue as { res?: ServerResponse };
      if (res) admission.release(res);
    },
  };
}
