import type { ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Admission } from '../../http/admission.ts';

/**
 * MAX_REQUESTS_IN_FLIGHT, applied once an operation's parameters are read (the body is in:
 * a slow client holds no place). Past it the operation does not run: 503 OVERLOADED with
 * Retry-After. A subscription stops counting once it starts: it lives as long as its
 * client, and MAX_SUBSCRIPTIONS and MAX_SUBSCRIPTIONS_PER_CALLER bound it.
 */
export function useAdmission(admission: Admission): Plugin {
  const responseOf = (context: unknown) => (context as { res?: ServerResponse }).res;
  return {
    onParams({ context, setResult }) {
      const res = responseOf(context);
      if (res && !admission.admit(res)) setResult({ errors: [overloaded()] });
    },
    onSubscribe({ args }) {
      const res = responseOf(args.contextValue);
      if (res) admission.release(res);
    },
  };
}

const overloaded = () =>
  new GraphQLError('The service is answering as many requests as it can; try again in a moment.', {
    extensions: { code: 'OVERLOADED', http: { status: 503, headers: { 'retry-after': '1' } } },
  });
