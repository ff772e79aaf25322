import type { TextMapPropagator, Tracer } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace';
import type { TraceSampler, TracingSettings } from '../config.ts';
import type { Logger } from '../logger.ts';

/** What the service's spans are made with; absent when tracing is off. */
export interface Tracing {
  readonly tracer: Tracer;
  /** W3C Trace Context: `traceparent` (and `tracestate`) in, and out to Flatpeak. */
  readonly propagator: TextMapPropagator;
  /** Sends the spans still buffered, then stops; gives up after `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** The name spans carry as their instrumentation scope. */
const SCOPE = 'flatpeak-graph';

/**
 * The tracer provider, with an OTLP/HTTP (JSON) exporter behind a batching processor, or
 * undefined when no endpoint is configured: then nothing is created at all, and the app
 * neither makes spans nor sends `traceparent`.
 *
 * The SDK and the exporter are loaded only then (about 4 MB of heap otherwise unused).
 * Nothing is registered globally (no global tracer provider, context manager or
 * propagator): the tracer is handed to the pieces that make spans, which pass the parent
 * span along explicitly. An async-local "active span" would be wrong here, since calls
 * that wait in the shared upstream queue are started from whichever call freed the slot.
 */
export async function createTracing(settings: TracingSettings, logger: Logger): Promise<Tracing | undefined> {
  const { tracesUrl } = settings;
  if (!tracesUrl) return undefined;
  const [{ OTLPTraceExporter }, { defaultResource, resourceFromAttributes }, sdk, { ATTR_SERVICE_NAME }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const exporter = reportFailures(new OTLPTraceExporter({ url: tracesUrl.href }), logger, tracesUrl);
  const provider = new sdk.TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName })),
    sampler: samplerOf(sdk, settings.sampler, settings.samplerRatio),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
  });
  logger.info({ tracesUrl: tracesUrl.origin + tracesUrl.pathname, sampler: settings.sampler }, 'exporting traces over OTLP/HTTP');
  return {
    tracer: provider.getTracer(SCOPE),
    propagator: new W3CTraceContextPropagator(),
    async shutdown(timeoutMs = 2_000) {
      // A collector that does not answer must not hold the process past its grace period.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn('traces not flushed in time; the last spans are lost');
          resolve();
        }, timeoutMs);
      });
      await Promise.race([provider.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'flushing traces failed')), late]);
      clearTimeout(timer);
    },
  };
}

type Samplers = Pick<
  typeof import('@opentelemetry/sdk-trace'),
  'AlwaysOnSampler' | 'AlwaysOffSampler' | 'TraceIdRatioBasedSampler' | 'ParentBasedSampler'
>;

function samplerOf(
  { AlwaysOnSampler, AlwaysOffSampler, TraceIdRatioBasedSampler, ParentBasedSampler }: Samplers,
  name: TraceSampler,
  ratio: number,
): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/**
 * The SDK reports failed exports to a global diagnostic logger that is silent by default.
 * A collector going away is logged once, and its return once, not every batch in between.
 */
function reportFailures(exporter: SpanExporter, logger: Logger, url: URL): SpanExporter {
  let failing = false;
  const collector = url.origin + url.pathname;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS && failing) {
          failing = false;
          logger.info({ collector }, 'exporting traces again');
        } else if (result.code !== ExportResultCode.SUCCESS && !failing) {
          failing = true;
          logger.warn({ collector, err: result.error }, 'exporting traces failed; spans are dropped until the collector answers');
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
