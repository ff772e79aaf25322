import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, Histogram, type Registry } from 'prom-client';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The GraphQL side of `/metrics` (served on a port of its own: src/http/metrics-server.ts):
 * request duration by method, status and operation type, operations and failed results by operation type, and
 * execution time. The same names as Yoga's Prometheus plugin, which cost ~10 % of a
 * small request (a hook on every phase, label objects built per request); this keeps
 * two hooks and no caller-chosen label (operation names, URLs and error paths would let
 * any client mint unbounded time series).
 */
export function useGraphQLMetrics(registry: Registry): Plugin {
  const httpDuration = new Histogram({
    name: 'graphql_yoga_http_duration',
    help: 'Time spent on HTTP connection',
    labelNames: ['method', 'statusCode', 'operationType'],
    buckets: SECONDS,
    registers: [registry],
  });
  const requests = new Counter({
    name: 'graphql_envelop_request',
    help: 'Counts the amount of GraphQL requests executed through Envelop',
    labelNames: ['operationType'],
    registers: [registry],
  });
  const errorResults = new Counter({
    name: 'graphql_envelop_error_result',
    help: 'Counts the amount of errors reported from all phases',
    labelNames: ['operationType', 'phase'],
    registers: [registry],
  });
  const execution = new Histogram({
    name: 'graphql_envelop_phase_execute',
    help: 'Time spent on running the GraphQL "execute" function',
    labelNames: ['operationType'],
    buckets: SECONDS,
    registers: [registry],
  });
  const started = new WeakMap<Request, { at: number; operationType: string }>();

  return {
    onRequest({ request }) {
      started.set(request, { at: performance.now(), operationType: 'unknown' });
    },
    onExecute({ args }) {
      const operationType =
        getOperationAST(args.document as DocumentNode, args.operationName as string | undefined)?.operation ?? 'unknown';
      const entry = started.get((args.contextValue as { request: Request }).request);
      if (entry) entry.operationType = operationType;
      const at = performance.now();
      return {
        onExecuteDone({ result }) {
          execution.observe({ operationType }, (performance.now() - at) / 1000);
          requests.inc({ operationType });
          if ('errors' in result && result.errors?.length) errorResults.inc({ operationType, phase: 'execute' });
        },
      };
    },
    onResponse({ request, response }) {
      const entry = started.get(request);
      if (!entry) return;
      // Deleted once read, not left for the collector: such entries cost every scavenge (docs/benchmarks.md, "What survives a scavenge").
      started.delete(request);
      httpDuration.observe(
        { method: request.method, statusCode: response.status, operationType: entry.operationType },
        (performance.now() - entry.at) / 1000,
      );
    },
  };
}
