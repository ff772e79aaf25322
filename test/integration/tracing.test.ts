import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { MINIMAL_DEVICE_ID, SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { DEMO_API_KEY } from '../../tools/standin/server.ts';
import { faultOn } from '../support/faults.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { readMultipart } from '../support/multipart.ts';
import { type OtlpReceiver, type ReceivedSpan, SPAN_KIND, STATUS_CODE, startOtlpReceiver } from '../support/otlp-receiver.ts';

const [a, b] = sampleDevices()
  .slice(3, 5)
  .map((device) => device.id) as [string, string];

// A caller's span, as the router would send it (W3C Trace Context, sampled).
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const TWO_DEVICES = 'query TwoDevices($a: ID!, $b: ID!) { first: device(id: $a) { id } second: device(id: $b) { id } }';

let receiver: OtlpReceiver;
let h: Harness | undefined;
let logs = '';

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());
afterEach(async () => {
  await stop();
  logs = '';
});

/** Closes the facade, which sends the spans still buffered. */
async function stop(): Promise<void> {
  await h?.close();
  h = undefined;
}

async function harness(env: Record<string, string>): Promise<Harness> {
  const logger = createLogger('info', { write: (line: string) => void (logs += line) });
  h = await startHarness({ env, logger });
  return h;
}

/** The facade's access-log line for the request with this request id. */
function accessLog(requestId: string): Record<string, unknown> | undefined {
  return logs
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line['msg'] === 'request' && line['requestId'] === requestId);
}

/** `00-<trace id>-<parent id>-<flags>` → its parts. */
function parseTraceparent(header: unknown): { traceId: string; parentId: string; flags: string } | undefined {
  const match = typeof header === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(header) : null;
  return match ? { traceId: match[1]!, parentId: match[2]!, flags: match[3]! } : undefined;
}

const inTrace = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);
const byKind = (spans: readonly ReceivedSpan[], kind: number) => spans.filter((span) => span.kind === kind);

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it("continues the caller's trace: one operation span, one client span per upstream attempt, traceparent sent to Flatpeak", async () => {
    const facade = await harness({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.href, OTEL_SERVICE_NAME: 'devices-subgraph' });
    facade.standin.setFault(faultOn(`/devices/${b}`, { status: 503 }, 1)); // b's first attempt fails, its retry succeeds
    const { body } = await facade.query(
      TWO_DEVICES,
      { a, b },
      { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`, 'x-request-id': 'req-traced' },
    );
    expect(body).toEqual({ data: { first: { id: a }, second: { id: b } } });
    const seenByFlatpeak = facade.standin.requests.filter((request) => request.path.startsWith('/devices/'));
    const flatpeak = facade.standin.url.origin;
    await stop(); // flushes the exporter

    const trace = inTrace(TRACE_ID);
    const [operation, ...others] = byKind(trace, SPAN_KIND.SERVER);
    expect(others).toEqual([]);
    expect(operation).toMatchObject({
      serviceName: 'devices-subgraph',
      name: 'query TwoDevices',
      parentSpanId: CALLER_SPAN_ID,
      attributes: {
        'graphql.operation.type': 'query',
        'graphql.operation.name': 'TwoDevices',
        'http.request.method': 'POST',
        'http.response.status_code': 200,
      },
    });
    // The operation's attributes hold neither the document nor the variables.
    expect(Object.keys(operation!.attributes).sort()).toEqual(
      ['graphql.operation.name', 'graphql.operation.type', 'http.request.method', 'http.response.status_code', 'http.route'].sort(),
    );

    const attempts = byKind(trace, SPAN_KIND.CLIENT);
    expect(attempts).toHaveLength(3);
    expect(trace).toHaveLength(4);
    for (const attempt of attempts) {
      expect(attempt.parentSpanId).toBe(operation!.spanId);
      expect(attempt).toMatchObject({
        name: 'GET /devices/{id}',
        attributes: { 'http.request.method': 'GET', 'url.template': '/devices/{id}' },
      });
    }
    const ofA = attempts.filter((span) => span.attributes['url.full'] === `${flatpeak}/devices/${a}`);
    expect(ofA).toHaveLength(1);
    expect(ofA[0]).toMatchObject({ attributes: { 'http.response.status_code': 200 }, status: { code: STATUS_CODE.UNSET } });
    const ofB = attempts.filter((span) => span.attributes['url.full'] === `${flatpeak}/devices/${b}`);
    const failed = ofB.find((span) => span.attributes['http.request.resend_count'] === undefined);
    const retried = ofB.find((span) => span.attributes['http.request.resend_count'] === 1);
    expect(failed).toMatchObject({
      attributes: { 'http.response.status_code': 503, 'error.type': '503' },
      status: { code: STATUS_CODE.ERROR },
    });
    expect(retried).toMatchObject({ attributes: { 'http.response.status_code': 200 } });

    // Flatpeak saw each attempt as the parent of its work: same trace, that attempt's span id.
    const sent = seenByFlatpeak.map((request) => parseTraceparent(request.headers.traceparent));
    expect(sent.map((parent) => parent?.traceId)).toEqual([TRACE_ID, TRACE_ID, TRACE_ID]);
    expect(new Set(sent.map((parent) => parent?.parentId))).toEqual(new Set(attempts.map((span) => span.spanId)));

    // The shared login is its own trace, not the caller's.
    const login = receiver.spans.find((span) => span.name === 'GET /login');
    expect(login).toMatchObject({ kind: SPAN_KIND.CLIENT, parentSpanId: undefined });
    expect(login?.traceId).not.toBe(TRACE_ID);

    // No token, key or header value in any span.
    const exported = JSON.stringify(receiver.spans);
    expect(exported).not.toContain('Bearer');
    expect(exported).not.toContain(DEMO_API_KEY);
    expect(exported).not.toContain('eyJ');

    expect(accessLog('req-traced')).toMatchObject({ traceId: TRACE_ID, status: 200, operation: 'TwoDevices' });
  });

  it('starts a new trace for a caller that sends none, and follows a caller that does not sample', async () => {
    const facade = await harness({ OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url.href}` });
    await facade.query('{ device(id: "' + a + '") { id } }', undefined, { 'x-request-id': 'req-untraced' });
    const unsampledTrace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
    facade.standin.resetLog();
    await facade.query(`{ device(id: "${b}") { id } }`, undefined, {
      traceparent: `00-${unsampledTrace}-${CALLER_SPAN_ID}-00`,
      'x-request-id': 'req-unsampled',
    });
    const [toFlatpeak] = facade.standin.requests.filter((request) => request.path === `/devices/${b}`);
    await stop();

    const traceId = accessLog('req-untraced')?.['traceId'];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const [operation] = byKind(inTrace(String(traceId)), SPAN_KIND.SERVER);
    expect(operation).toMatchObject({ name: 'query', parentSpanId: undefined, attributes: { 'graphql.operation.type': 'query' } });
    expect(operation!.attributes).not.toHaveProperty('graphql.operation.name');
    expect(byKind(inTrace(String(traceId)), SPAN_KIND.CLIENT)).toHaveLength(1);

    // Not sampled by the caller: nothing recorded, but the decision travels on to Flatpeak.
    expect(inTrace(unsampledTrace)).toEqual([]);
    expect(parseTraceparent(toFlatpeak?.headers.traceparent)).toMatchObject({ traceId: unsampledTrace, flags: '00' });
    expect(accessLog('req-unsampled')).toMatchObject({ traceId: unsampledTrace });
  });

  it('records an operation that failed as an error, with its codes and no messages', async () => {
    const facade = await harness({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.href });
    const traceId = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2';
    const { body } = await facade.query('query Missing { device(id: "dev_absent") { id } }', undefined, {
      traceparent: `00-${traceId}-${CALLER_SPAN_ID}-01`,
    });
    expect(body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await stop();
    const [operation] = byKind(inTrace(traceId), SPAN_KIND.SERVER);
    expect(operation).toMatchObject({ name: 'query Missing', status: { code: STATUS_CODE.ERROR, message: 'NOT_FOUND' } });
    expect(byKind(inTrace(traceId), SPAN_KIND.CLIENT)).toEqual([
      expect.objectContaining({ attributes: expect.objectContaining({ 'http.response.status_code': 404, 'error.type': '404' }) }),
    ]);
  });

  it('keeps a @defer operation open until its last part, with the deferred call inside it', async () => {
    const facade = await harness({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.href });
    const traceId = 'cccccccccccccccccccccccccccccc03';
    // The deferred device answers late: a span ended with the response head would end before its call.
    facade.standin.setFault(faultOn(`/devices/${MINIMAL_DEVICE_ID}`, { delayMs: 100 }));
    const response = await fetch(facade.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed', traceparent: `00-${traceId}-${CALLER_SPAN_ID}-01` },
      body: JSON.stringify({
        query: `query Later { device(id: "${SEED_DEVICE_ID}") { id } ... @defer { other: device(id: "${MINIMAL_DEVICE_ID}") { id } } }`,
      }),
    });
    const parts = readMultipart(response);
    let count = 0;
    while (await parts.next()) count += 1;
    expect(count).toBeGreaterThan(1);
    await stop();

    const [operation] = byKind(inTrace(traceId), SPAN_KIND.SERVER);
    const attempts = byKind(inTrace(traceId), SPAN_KIND.CLIENT);
    expect(operation).toMatchObject({ name: 'query Later' });
    expect(attempts).toHaveLength(2);
    // The SDK stamps a span's start from Date.now() (whole milliseconds) and its end as start
    // plus a precise duration, so two spans' clocks can disagree by up to 1 ms. The deferred
    // call answers 100 ms late: a span ended with the response head would miss by far more.
    const clockSlackNs = 1_000_000n;
    for (const attempt of attempts) {
      expect(attempt.parentSpanId).toBe(operation!.spanId);
      // Ended after the deferred call, not with the response head.
      expect(BigInt(operation!.endTimeUnixNano) + clockSlackNs).toBeGreaterThanOrEqual(BigInt(attempt.endTimeUnixNano));
    }
  });
});

describe('tracing off (no endpoint)', () => {
  it("sends no traceparent to Flatpeak, and still logs the caller's trace id", async () => {
    const facade = await harness({});
    const before = receiver.spans.length;
    await facade.query(TWO_DEVICES, { a, b }, { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`, 'x-request-id': 'req-off' });
    await facade.query(TWO_DEVICES, { a, b }, { 'x-request-id': 'req-off-plain' });
    expect(facade.standin.requests.length).toBeGreaterThan(0);
    expect(facade.standin.requests.every((request) => request.headers.traceparent === undefined)).toBe(true);
    expect(accessLog('req-off')).toMatchObject({ traceId: TRACE_ID });
    expect(accessLog('req-off-plain')).not.toHaveProperty('traceId');
    expect(receiver.spans.length).toBe(before);
  });
});
