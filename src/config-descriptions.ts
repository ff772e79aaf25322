import type { EnvVariable } from './config.ts';

/**
 * What an environment variable means, for people: `npm run docs:config` renders
 * docs/configuration.md's table from these and from the schema in config.ts (names, order
 * and defaults), and a test fails when the committed table differs. Kept apart from the
 * schema so that the validation rules stay readable; the type below makes a variable
 * without a description (or a description without a variable) a compile error.
 */
export interface VariableDescription {
  /** Markdown; links are relative to docs/. */
  readonly description: string;
  /** Shown instead of the schema's default, when that is not a value (unset means something) or is machine-specific. */
  readonly default?: string;
}

export const VARIABLE_DESCRIPTIONS: { readonly [Name in EnvVariable]: VariableDescription } = {
  PORT: { description: 'Port to listen on (`0`: any free port).' },
  HOST: { description: 'Interface to listen on; `0.0.0.0` in a container.' },
  METRICS_PORT: {
    description:
      'Port on `HOST` where Prometheus metrics are served (`GET /metrics`), apart from the apps’ port, which never serves them: they count every caller’s requests. `off` or `0`: not served. See [Metrics](operations.md#metrics).',
  },
  LOG_LEVEL: {
    description:
      '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. JSON logs on stdout: one access-log line per request at `info` (probes and scrapes at `debug`), with its request id and trace id; upstream failures at `warn`.',
  },
  NODE_ENV: {
    description:
      '`production` (the image sets it, and so every pod of deploy/kubernetes) refuses to start without `FLATPEAK_API_URL` and refuses the sample-data stand-in (`FLATPEAK_STANDIN`). Any other value, or none, changes nothing else.',
  },
  FLATPEAK_API_URL: {
    description:
      "Flatpeak's base URL, e.g. `https://api.flatpeak.com`; `https` unless it is on this machine. The service refuses to start without it; `npm start` and `npm run dev` from a clone start a local stand-in with sample devices when it is unset, and set it to that.",
    default: '*(required)*',
  },
  FLATPEAK_STANDIN: {
    description:
      '`true`: `FLATPEAK_API_URL` is the development stand-in (sample data), as set by `npm start` / `npm run dev` (tools/dev.ts); the start-up line, `/status` (`upstream: "standin"`, `sampleData: true`) and `/metrics` (`flatpeak_upstream_standin 1`) say so. Refused with `NODE_ENV=production`.',
  },
  FLATPEAK_ACCOUNT_ID: {
    description:
      'Service credentials (`acc_…`), together with `FLATPEAK_API_KEY`. Both unset: pass-through ([Credentials](security.md#credentials-two-ways-to-authenticate-to-flatpeak)).',
  },
  FLATPEAK_API_KEY: { description: 'Flatpeak API key. Never logged, never sent to clients, never echoed in a configuration error.' },
  FLATPEAK_CONNECT_TIMEOUT_MS: { description: 'TCP/TLS connect timeout to Flatpeak.' },
  FLATPEAK_HEADERS_TIMEOUT_MS: { description: "Time allowed for Flatpeak's response headers." },
  FLATPEAK_BODY_TIMEOUT_MS: { description: 'Time allowed between body chunks.' },
  FLATPEAK_KEEP_ALIVE_TIMEOUT_MS: { description: 'How long an idle connection to Flatpeak is kept.' },
  FLATPEAK_MAX_CONNECTIONS: {
    description: 'Connections to Flatpeak at most: the hard ceiling of the adaptive concurrency limit (which starts at 32 and learns).',
  },
  FLATPEAK_MAX_QUEUE: {
    description: 'Upstream calls that may wait under the concurrency limit; beyond that they fail at once with `UPSTREAM_OVERLOADED`.',
  },
  FLATPEAK_MAX_CALLS_PER_REQUEST: {
    description: 'Upstream calls one GraphQL request may have in flight or queued at once; its other devices wait their turn.',
  },
  FLATPEAK_ATTEMPT_TIMEOUT_MS: { description: 'Time allowed for one upstream attempt, connect to last byte.' },
  FLATPEAK_MAX_RETRIES: {
    description: 'Retries after the first attempt: reads; a write only when its connection was refused (it never reached Flatpeak).',
  },
  FLATPEAK_RETRY_BUDGET_RATIO: {
    description: 'Retries may add at most this share of the upstream calls of the last 10 s (plus 5 per second).',
  },
  FLATPEAK_BREAKER_FAILURE_RATIO: { description: 'Share of failed attempts (5xx, connection errors, timeouts) that opens the circuit.' },
  FLATPEAK_BREAKER_WINDOW_MS: { description: 'Window over which that share is measured.' },
  FLATPEAK_BREAKER_MIN_CALLS: { description: 'Attempts needed in the window before the circuit may open.' },
  FLATPEAK_BREAKER_OUTAGE_FAILURES: {
    description:
      'Failed attempts in a row (no success between) that open the circuit at once, however many successes came before: a total outage.',
  },
  FLATPEAK_BREAKER_OUTAGE_MS: {
    description: 'Failed attempts in a row for this long (at least 10 of them) also open it, for an outage at low traffic.',
  },
  FLATPEAK_BREAKER_COOLDOWN_MS: { description: 'How long an open circuit fails fast before one probe call goes through.' },
  REQUEST_DEADLINE_MS: { description: 'Every GraphQL request answers within this; unfinished items get `UPSTREAM_TIMEOUT`.' },
  MAX_DEVICES_PER_REQUEST: { description: 'Distinct devices one GraphQL request may load; beyond that, items get `BAD_USER_INPUT`.' },
  MAX_REQUESTS_IN_FLIGHT: {
    description:
      'GraphQL operations this instance works on at once, each counted from when its body has been read (open subscriptions aside); beyond that, 503 `OVERLOADED` with `Retry-After: 1`, at once. See [Memory bounds](architecture.md#memory-bounds).',
  },
  MAX_DEVICE_LOADS_IN_FLIGHT: {
    description:
      'Device loads of all requests at once (a load counts until its request ends); beyond that, items get `UPSTREAM_OVERLOADED` at once. See [Memory bounds](architecture.md#memory-bounds).',
  },
  CORS_ORIGINS: {
    description:
      'Comma-separated browser origins allowed to call the service cross-origin (web apps). None by default: with service credentials, any page could otherwise read devices.',
    default: '*(none)*',
  },
  FLATPEAK_PROBE_INTERVAL_MS: { description: '`/status` and `/metrics` probe Flatpeak at most this often (`/ready` never does).' },
  SHUTDOWN_DELAY_MS: {
    description:
      'After SIGTERM, time to keep serving while `/ready` answers 503, so a load balancer stops routing before the listener closes (5000 behind one).',
  },
  SHUTDOWN_GRACE_MS: { description: 'After SIGTERM, time given to requests in flight before connections are closed.' },
  PERSISTED_OPERATIONS: {
    description:
      'Which requests run: `off` (documents only), `allow` (documents, manifest hashes, Apollo APQ) or `require` (manifest hashes only). See [Mobile apps](consumers.md#mobile-apps-typed-and-persisted-operations).',
  },
  PERSISTED_OPERATIONS_MANIFEST: {
    description:
      'The persisted-documents manifest (`{ "<sha256 hex>": "<document>" }`); read at start-up unless the mode is `off`. A relative path is relative to the working directory; the default is the committed file, wherever the service is started from.',
    default: '`examples/__generated__/persisted-documents.json`',
  },
  CALLER_AUTH: {
    description:
      "How callers are known: `jwt` (verify each caller's JWT) or `none` (callers are not identified and read every device of the account). Required with service credentials; `npm start` on the stand-in sets `none` unless told `jwt` (then it serves a development identity: [Trying JWT locally](security.md#trying-jwt-locally)); must be unset in pass-through mode. See [Callers](security.md#callers-who-may-read-which-device).",
    default: '*(see meaning)*',
  },
  AUTH_JWKS_URL: {
    description:
      "`jwt`: the identity provider's JSON Web Key Set, e.g. `https://id.example.com/.well-known/jwks.json`; `https` unless on this machine. Cached (10 min), refetched for an unknown key id.",
  },
  AUTH_ISSUER: { description: '`jwt`: the `iss` every token must carry.' },
  AUTH_AUDIENCE: { description: "`jwt`: the `aud` every token must carry (this service's identifier at the identity provider)." },
  AUTH_ALGORITHMS: { description: '`jwt`: accepted signature algorithms, asymmetric only (RS/PS/ES 256–512, EdDSA).' },
  AUTH_JWKS_COOLDOWN_MS: { description: '`jwt`: a token with an unknown key id refetches the key set at most this often.' },
  AUTH_CLOCK_TOLERANCE_S: {
    description:
      "`jwt`: seconds of leeway on a token's `exp` and `nbf` (clocks drift). A `deviceUpdated` stream ends at the token's `exp` plus this, with `UNAUTHENTICATED`.",
  },
  AUTH_REFERENCE_CLAIM: { description: "`jwt`: the claim whose value (or values) are the caller's device `reference_id`s." },
  AUTH_LOCATIONS_CLAIM: {
    description: "`jwt`: the claim listing the caller's location ids (`loc_…`); devices at those locations are the caller's too.",
  },
  RATE_LIMIT_PER_SECOND: {
    description:
      'Per-caller token bucket, counted in upstream device reads (one document of 100 ids counts 100); `0` turns it off. See [Per-caller limits](security.md#per-caller-limits).',
  },
  RATE_LIMIT_BURST: { description: 'What a caller may spend at once after a pause.' },
  INTROSPECTION_PER_MINUTE: {
    description:
      'Operations asking for `__schema` or `__type` one caller may send per minute (all at once after a pause), shared by the replicas with `REDIS_URL`; past it `RATE_LIMITED`. `0`: no limit. See [Document limits](security.md#document-limits).',
  },
  DEVICE_CACHE_TTL_MS: {
    description:
      "Keep Flatpeak's device answers this long, per upstream credential, and serve them stale for as long again while one refresh runs. Errors are never kept; a 404 forgets the device. Responses then carry `Cache-Control: private, max-age=…`; otherwise `no-store`.",
    default: '`0` (off)',
  },
  DEVICE_POLL_INTERVAL_MS: {
    description:
      '`deviceUpdated`: each watched device is fetched this often (after the previous poll ends), once for all its subscribers (with `REDIS_URL`, once for the whole fleet).',
  },
  SUBSCRIPTION_MAX_ERRORS: {
    description: '`deviceUpdated`: after this many failed polls of a device in a row, its subscriptions end with the error.',
  },
  MAX_SUBSCRIPTIONS_PER_CALLER: { description: 'Subscriptions one caller may hold open at once; beyond that `TOO_MANY_SUBSCRIPTIONS`.' },
  MAX_SUBSCRIPTIONS: {
    description:
      'Subscriptions this instance holds open at once; beyond that `TOO_MANY_SUBSCRIPTIONS`. Lowered at start-up to what the heap holds (48 KB each above 256 MB of `heap_size_limit`: 2,048 with the documented `NODE_OPTIONS`); see [Memory](operations.md#memory).',
  },
  MAX_WEBSOCKETS: {
    description:
      "WebSocket connections (`graphql-transport-ws` on `/graphql`) this instance holds open at once; beyond that the upgrade is answered 503. Each connection's subscriptions count towards the two limits above as well.",
  },
  WEBSOCKET_KEEPALIVE_MS: {
    description:
      'Each WebSocket is pinged this often (a WebSocket ping frame); one that has not answered the previous ping is closed, and its subscriptions with it.',
  },
  SUBSCRIPTION_CALLBACK_URLS: {
    description:
      "Apollo Router's HTTP callback subscriptions: comma-separated URL prefixes (origin and path, e.g. `http://router.internal:4000/callback/`) a router's `callbackUrl` must start with. Every callback is a request this service makes, so no other address is ever called. See [Subscriptions through a router](consumers.md#subscriptions-through-a-router).",
    default: '*(unset: callback subscriptions refused)*',
  },
  REDIS_URL: {
    description:
      '`redis://` or `rediss://` URL of a Redis shared by the replicas: the device cache, APQ registrations and the per-caller limits live there, and `deviceUpdated` is polled by one replica per device and pushed to all ([Running a fleet](operations.md#running-a-fleet)). Unset: in process. A Redis outage degrades to in-process state, never to failed queries.',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    description:
      "OpenTelemetry collector's OTLP/HTTP base URL, e.g. `http://otel-collector:4318`; spans go to `<it>/v1/traces` (JSON). Unset: no span is made and no `traceparent` is sent. See [Tracing](operations.md#tracing).",
    default: '*(unset: no tracing)*',
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { description: 'The whole traces URL, used as given, instead of the base one.' },
  OTEL_SERVICE_NAME: { description: "The spans' `service.name`." },
  OTEL_TRACES_SAMPLER: {
    description:
      "Which traces are recorded, by the specification's names: `parentbased_*` follow the caller's decision (the router's sampled flag) and apply the rest (`always_on`, `always_off`, `traceidratio`) to traces that start here.",
  },
  OTEL_TRACES_SAMPLER_ARG: { description: 'For `traceidratio` and `parentbased_traceidratio`: the share of traces recorded, 0 to 1.' },
  DOCUMENT_CACHE_MB: {
    description:
      'Heap for parsed documents that passed validation, kept so that known operations are not parsed and validated again (1,000 documents at most; least recently used go first). Documents that fail are never kept. See [Memory](operations.md#memory).',
  },
  APQ_CACHE_MB: {
    description: 'Heap for documents registered through automatic persisted queries (1,000 at most; least recently used go first).',
  },
  FTV1_TRACES: {
    description:
      "`on`: answer a router that sends `apollo-federation-include-trace: ftv1` with Apollo's inline trace (`extensions.ftv1`). Only for trusted routers: a trace holds every resolver's timing, which tells a cached device of someone else's from a missing one. See [Routers](consumers.md#the-company-supergraph-routers).",
  },
  SUBGRAPH_SDL_OMIT_SECURITY_DIRECTIVES: {
    description:
      '`true`: `_service.sdl` leaves out `@authenticated` and `@requiresScopes`, so that Apollo Gateway (JS), which refuses a supergraph with `for: SECURITY` features, can compose this subgraph without edits. The subgraph enforces every rule itself either way. See [Apollo Gateway](consumers.md#apollo-gateway-js).',
  },
};
