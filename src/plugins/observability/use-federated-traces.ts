import { Trace } from '@apollo/usage-reporting-protobuf';
import { useApolloInstrumentation } from '@graphql-yoga/plugin-apollo-inline-trace';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { LIMITS } from '../../limits.ts';

/**
 * ftv1 traces (`extensions.ftv1`) for an Apollo router or gateway that sends
 * `apollo-federation-include-trace: ftv1`. Installed only when FTV1_TRACES is on: a trace
 * tells how long each resolver took, which is for a trusted router, not for any caller
 * (timings tell a cached device of someone else's from a missing one).
 *
 * The tracing itself is Yoga's (`useApolloInstrumentation`, the part of
 * `useApolloInlineTrace` that records fields and errors); only the encoding is ours:
 * `useApolloInlineTrace` spreads the whole encoded trace into the arguments of one
 * `String.fromCharCode` call, which overflows the stack for a large trace (about 150 full
 * `_entities`) and turns the answer into an HTTP 500. Here a trace is encoded with Buffer,
 * and one over LIMITS.traceBytes is left out rather than fail the response. The package
 * calls that helper its own: package.json pins its exact version, and the tests in
 * test/integration/federated-traces*.test.ts decode the traces it records.
 */
export function useFederatedTraces(): Plugin {
  const [instrumentation, tracesOf] = useApolloInstrumentation({
    ignoreRequest: (request) => request.headers.get('apollo-federation-include-trace') !== 'ftv1',
  });
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(instrumentation);
      addPlugin({
        onExecutionResult({ request, result, context, setResult }) {
          if (!result || isAsyncIterable(result)) return; // incremental delivery: no trace
          const trace = tracesOf.get(request)?.traces.get(context)?.trace;
          if (!trace) return;
          const encoded = Trace.encode(trace).finish();
          if (encoded.byteLength > LIMITS.traceBytes.value) return;
          const ftv1 = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('base64');
          setResult({ ...result, extensions: { ...result.extensions, ftv1 } });
        },
      });
    },
  };
}
