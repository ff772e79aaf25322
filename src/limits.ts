/**
 * Every bound the service puts on what callers may send or hold, in one table: what it
 * bounds, the environment variable that changes it (if any), its default, and what a
 * caller gets past it. Modules read their bound from here (configurable ones through the
 * validated Config, whose defaults are these); docs/architecture.md's table of limits is
 * this table, and a test keeps the two in step.
 */
export interface Limit {
  /** What is bounded, in a few words. */
  readonly bounds: string;
  readonly value: number;
  /** The variable that sets it, read once by src/config.ts; none: fixed. */
  readonly variable?: string;
  /** What a caller gets past the bound: an `extensions.code`, an HTTP status, or what happens. */
  readonly refusal: string;
}

const KB = 1024;
const MB = 1024 * KB;

export const LIMITS = {
  // HTTP: what one connection and one request may hold.
  requestBodyBytes: { bounds: 'bytes of one request body', value: 128 * KB, refusal: 'HTTP 413 `REQUEST_ENTITY_TOO_LARGE`' },
  largeBodyBytes: {
    bounds: 'bodies this large (and new documents) take turns, one per event-loop iteration',
    value: 16 * KB,
    refusal: 'none: the request waits its turn',
  },
  pipelinedPerConnection: { bounds: 'requests one connection may have waiting for answers', value: 16, refusal: 'connection closed' },
  unsentBytes: {
    bounds: 'bytes of answers written but not yet taken by their clients, all together',
    value: 16 * MB,
    refusal: 'the slowest readers are disconnected',
  },
  requestsInFlight: {
    bounds: 'GraphQL operations worked on at once (open subscriptions aside)',
    value: 1_024,
    variable: 'MAX_REQUESTS_IN_FLIGHT',
    refusal: 'HTTP 503 `OVERLOADED`, `Retry-After: 1`',
  },

  // Documents: what one operation may ask for, checked before it runs.
  tokens: { bounds: 'tokens in one document', value: 5_000, refusal: 'HTTP 400 `GRAPHQL_VALIDATION_FAILED`' },
  nesting: {
    bounds: 'selection sets, lists and list types nested in one another (parse time)',
    value: 32,
    refusal: 'HTTP 400 `GRAPHQL_VALIDATION_FAILED`',
  },
  depth: { bounds: 'field depth of an operation', value: 10, refusal: 'HTTP 400 `GRAPHQL_VALIDATION_FAILED`' },
  aliases: { bounds: 'aliases in one operation (`__typename` included)', value: 30, refusal: 'HTTP 400 `GRAPHQL_VALIDATION_FAILED`' },
  directives: { bounds: 'directives in one operation', value: 50, refusal: 'HTTP 400 `GRAPHQL_VALIDATION_FAILED`' },
  cost: { bounds: "an operation's cost (graphql-armor's estimate)", value: 5_000, refusal: 'HTTP 400 `GRAPHQL_VALIDATION_FAILED`' },
  schemaSelections: {
    bounds: '`__schema` and `__type` selections in one operation (fragments expanded)',
    value: 2,
    refusal: 'HTTP 400 `GRAPHQL_VALIDATION_FAILED`',
  },
  validationErrors: {
    bounds: 'validation errors reported per document',
    value: 20,
    refusal: 'the rest are cut, with "Too many validation errors"',
  },
  quotedLength: { bounds: 'characters of a name quoted in an error message', value: 64, refusal: 'shortened with …' },
  messageLength: { bounds: 'characters of an error message', value: 500, refusal: 'shortened with …' },
  documentCacheEntries: {
    bounds: 'parsed and validated documents kept',
    value: 1_000,
    refusal: 'least recently used forgotten (parsed again)',
  },
  documentCacheMegabytes: {
    bounds: 'heap of the parsed and validated documents kept',
    value: 32,
    variable: 'DOCUMENT_CACHE_MB',
    refusal: 'least recently used forgotten (parsed again)',
  },
  runsBeforeCompiling: {
    bounds: 'runs of a document before graphql-jit compiles it (src/plugins/execution/use-compiled-execution.ts)',
    value: 10,
    refusal: "none: until then Yoga's executor runs it",
  },
  compiledFields: {
    bounds: 'fields of an operation, fragments expanded, that graphql-jit compiles',
    value: 200,
    refusal: "none: Yoga's executor runs it, uncompiled",
  },
  compiledDocuments: {
    bounds: 'documents kept compiled by graphql-jit',
    value: 100,
    refusal: 'least recently run forgotten (compiled again after as many runs)',
  },
  apqEntries: {
    bounds: 'documents registered by automatic persisted queries',
    value: 1_000,
    refusal: 'least recently used forgotten: `PERSISTED_QUERY_NOT_FOUND`, the client resends',
  },
  apqMegabytes: {
    bounds: 'heap of the documents registered by automatic persisted queries',
    value: 8,
    variable: 'APQ_CACHE_MB',
    refusal: 'least recently used forgotten: `PERSISTED_QUERY_NOT_FOUND`, the client resends',
  },
  apqDocumentLength: {
    bounds: 'characters of a document that automatic persisted queries register',
    value: 16 * KB,
    refusal: 'runs, but is not registered',
  },

  // Execution: what one operation may make the service do.
  deviceIds: { bounds: 'ids one `devices(ids:)` field takes', value: 100, refusal: '`BAD_USER_INPUT`' },
  pageSize: { bounds: '`first` of a device listing', value: 100, refusal: '`BAD_USER_INPUT`' },
  devicesPerRequest: {
    bounds: 'distinct devices one request may load (aliases multiply)',
    value: 200,
    variable: 'MAX_DEVICES_PER_REQUEST',
    refusal: '`BAD_USER_INPUT` on the items past it',
  },
  callsPerRequest: {
    bounds: 'upstream calls one request may have in flight or queued',
    value: 64,
    variable: 'FLATPEAK_MAX_CALLS_PER_REQUEST',
    refusal: 'none: its other devices wait their turn',
  },
  deviceLoadsInFlight: {
    bounds: 'device loads of all requests at once',
    value: 16_384,
    variable: 'MAX_DEVICE_LOADS_IN_FLIGHT',
    refusal: '`UPSTREAM_OVERLOADED` on the items past it',
  },
  upstreamQueue: {
    bounds: 'upstream calls waiting under the concurrency limit',
    value: 4_096,
    variable: 'FLATPEAK_MAX_QUEUE',
    refusal: '`UPSTREAM_OVERLOADED`',
  },
  requestDeadlineMs: {
    bounds: 'milliseconds any request may take',
    value: 10_000,
    variable: 'REQUEST_DEADLINE_MS',
    refusal: '`UPSTREAM_TIMEOUT` on the unfinished items',
  },

  // Input of writes.
  textLength: { bounds: 'characters of a text field of a write', value: 255, refusal: 'a user error `too_long`, nothing written' },
  locationsPerDevice: { bounds: 'locations of one device in a write', value: 50, refusal: 'a user error `too_many`, nothing written' },

  // Responses.
  compressFromBytes: {
    bounds: 'bytes from which an answer is compressed (br, else gzip) for a client whose `Accept-Encoding` allows',
    value: 1 * KB,
    refusal: 'none: smaller answers are sent as they are',
  },
  traceBytes: {
    bounds: 'bytes of an encoded ftv1 trace (FTV1_TRACES on)',
    value: 4 * MB,
    refusal: 'the trace is left out, the answer is sent',
  },

  // Callers.
  tokenLength: { bounds: "bytes of a caller's token", value: 8 * KB, refusal: 'HTTP 401 `UNAUTHENTICATED`' },
  introspectionPerMinute: {
    bounds: 'operations asking for `__schema` or `__type` one caller may send per minute (`0`: no limit)',
    value: 30,
    variable: 'INTROSPECTION_PER_MINUTE',
    refusal: '`RATE_LIMITED` with `retryAfterMs`',
  },
  subscriptionsPerCaller: {
    bounds: 'subscriptions one caller may hold open',
    value: 20,
    variable: 'MAX_SUBSCRIPTIONS_PER_CALLER',
    refusal: '`TOO_MANY_SUBSCRIPTIONS`',
  },
  subscriptions: {
    bounds: 'subscriptions this replica holds open (lowered to what its heap holds: 2,048 with the documented heap)',
    value: 10_000,
    variable: 'MAX_SUBSCRIPTIONS',
    refusal: '`TOO_MANY_SUBSCRIPTIONS`',
  },
  webSockets: {
    bounds: 'graphql-transport-ws connections this replica holds open',
    value: 10_000,
    variable: 'MAX_WEBSOCKETS',
    refusal: 'HTTP 503 to the upgrade request',
  },
  webSocketMessageBytes: { bounds: 'bytes of one WebSocket message', value: 128 * KB, refusal: 'connection closed (1009)' },
  callbackHeartbeatMs: {
    bounds: "milliseconds of the shortest `heartbeatIntervalMs` a router's callback subscription may ask for",
    value: 100,
    refusal: 'HTTP 400 `BAD_USER_INPUT`',
  },
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof LIMITS;
