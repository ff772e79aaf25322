import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createTracing } from '../../src/telemetry/tracing.ts';
import { problemsOf } from '../support/config.ts';

describe('tracing configuration (the OpenTelemetry variables)', () => {
  it('is off by default: no endpoint, no tracer provider', async () => {
    const { tracing } = loadConfig({ FLATPEAK_API_URL: 'https://api.flatpeak.com' });
    expect(tracing).toEqual({ tracesUrl: undefined, serviceName: 'flatpeak-graph', sampler: 'parentbased_always_on', samplerRatio: 1 });
    expect(await createTracing(tracing, createLogger('silent'))).toBeUndefined();
  });

  it.each([
    ['http://otel-collector:4318', 'http://otel-collector:4318/v1/traces'],
    ['http://otel-collector:4318/', 'http://otel-collector:4318/v1/traces'],
    ['https://collector.example.com/otlp', 'https://collector.example.com/otlp/v1/traces'],
  ])('appends v1/traces to the base endpoint %s', (endpoint, expected) => {
    expect(
      loadConfig({ FLATPEAK_API_URL: 'https://api.flatpeak.com', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing.tracesUrl?.href,
    ).toBe(expected);
  });

  it('uses the per-signal endpoint as given, before the base one', () => {
    const { tracing } = loadConfig({
      FLATPEAK_API_URL: 'https://api.flatpeak.com',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces.example:9999/custom',
      OTEL_SERVICE_NAME: 'devices',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(tracing).toEqual({
      tracesUrl: new URL('http://traces.example:9999/custom'),
      serviceName: 'devices',
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    });
  });

  it('names every bad variable', () => {
    expect(
      problemsOf({
        FLATPEAK_API_URL: 'https://api.flatpeak.com',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '1.5',
      }),
    ).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL (got "collector:4318")',
      expect.stringMatching(/^OTEL_TRACES_SAMPLER: must be one of always_on, .*parentbased_traceidratio \(got "sometimes"\)$/),
      'OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1 (got "1.5")',
    ]);
  });
});
