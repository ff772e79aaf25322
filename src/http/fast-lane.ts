import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type ExecutionResult, GraphQLError } from 'graphql';
import { createGraphQLError, type GraphQLParams, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { CONTENT_LENGTH } from '../plugins/request/use-body-limit.ts';

/**
 * The request apps and the router send nearly always — a JSON POST to /graphql of a few KB,
 * a query or mutation — served without Yoga's HTTP layer: its request parsing and its chain
 * of promise helpers cost more than the GraphQL work of a one-device query (measured: about
 * 100 µs of ~140 per request, most of it garbage). Only how the request becomes parameters
 * is this lane's own, and only for bodies whose parameters are beyond doubt; everything
 * after is Yoga's: `getResultForParams` (parameters, persisted operations, context,
 * parse, validation, execution, every envelop hook), then every plugin's `onResultProcess`,
 * `onRequest` and `onResponse` hooks, in order, as Yoga's handler runs them. Any other
 * request, and any body this lane does not take, goes to Yoga whole.
 */
export interface FastLaneOptions {
  /** The GraphQL endpoint's path. */
  readonly endpoint: string;
  /**
   * Larger bodies go to Yoga, where the body limit and the turns of costly requests apply;
   * at most that lane's threshold (LIMITS.largeBodyBytes).
   */
  readonly maxBodyBytes: number;
  /** Told of each request this lane answers (the metrics count them). */
  readonly onServed?: () => void;
  /** Every plugin of the Yoga instance, as envelop lists them (`listPlugins`). */
  readonly plugins: PluginList;
  /**
   * The app's plugins whose `onRequestParse` the lane may skip: it does their work itself
   * (strict parsing, the body limit), or their work does not apply to the requests it takes
   * (the costly-request lane: it takes no large body).
   */
  readonly skippableRequestParse?: ReadonlySet<Plugin>;
  /** Told, once, why the lane stands aside and every request goes to Yoga. */
  readonly onStandAside?: (reason: string) => void;
}

export interface PluginList {
  /** Goes first in the app's plugin list: every plugin after it, up to `last`, is the app's. */
  readonly first: Plugin;
  /** Goes last in the app's plugin list. */
  readonly last: Plugin;
  /** Every plugin of the Yoga instance, Yoga's own and those added by others included. */
  readonly plugins: readonly Plugin[];
  /** The app's plugins, with those they added: the ones between `first` and `last`. */
  readonly own: readonly Plugin[];
}

/**
 * The plugins of a Yoga instance, through envelop's public `onPluginInit({ plugins })`: the
 * list envelop keeps, into which the plugins that others add are put in place. Yoga's own
 * plugins (its request parsers and result processors) stand before and after the app's;
 * the lane replaces their request parsing, which the differential test holds it to, on the
 * exact version of Yoga package.json pins.
 */
export function listPlugins(): PluginList {
  let all: readonly Plugin[] = [];
  const first: Plugin = {
    onPluginInit({ plugins }) {
      all = plugins as readonly Plugin[];
    },
  };
  const last: Plugin = {};
  return {
    first,
    last,
    get plugins() {
      return all;
    },
    get own() {
      return all.slice(all.indexOf(first) + 1, all.indexOf(last));
    },
  };
}

type Yoga = YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
type ServerContext = { req: IncomingMessage; res: ServerResponse; waitUntil: (promise: Promise<unknown> | void) => void };
type OnRequest = NonNullable<Plugin['onRequest']>;
type OnResponse = NonNullable<Plugin['onResponse']>;
type OnResultProcess = NonNullable<Plugin['onResultProcess']>;
type ResultProcessor = Parameters<Parameters<OnResultProcess>[0]['setResultProcessor']>[0];

const PARAMETERS = new Set(['query', 'variables', 'operationName', 'extensions']);
// Such operations answer in parts (SSE, multipart) that Yoga's processors stream, and this
// lane would hold back to the last; a document that merely mentions the words goes to Yoga
// too, which costs it nothing but time. GraphQL allows ignored tokens between `@` and a
// directive's name (`@ defer`, `@,stream`): a comment there sends the document to Yoga as
// well, which keeps the pattern linear.
const STREAMING = /\bsubscription\b|@[\s,\uFEFF]*(?:#|defer\b|stream\b)/;

/** The lane as a request listener, or undefined when it stands aside and Yoga should serve every request. */
export function createFastLane(yoga: Yoga, options: FastLaneOptions): RequestListener | undefined {
  const { endpoint, maxBodyBytes, onServed, skippableRequestParse = new Set(), onStandAside } = options;
  // Every plugin, those added by other plugins included: the list Yoga's own adapter takes
  // its onRequest and onResponse hooks from.
  const { plugins, own } = options.plugins;
  // Yoga's instrumentation wraps the phases of its own handler, and onRequestParse hooks
  // act on the request before its body is read: this lane runs neither. With such a plugin
  // of the app's (a CSRF check, say), every request goes to Yoga.
  const instrumented = plugins.find((plugin) => plugin.instrumentation);
  const parsing = own.find((plugin) => plugin.onRequestParse && !skippableRequestParse.has(plugin));
  if (instrumented || parsing) {
    onStandAside?.(
      `the fast lane is off: a plugin uses Yoga's ${instrumented ? 'instrumentation' : 'onRequestParse'}, which the lane does not run; every request goes through Yoga's own handler`,
    );
    return undefined;
  }
  const onRequestHooks = plugins.flatMap((plugin): OnRequest[] => (plugin.onRequest ? [plugin.onRequest.bind(plugin)] : []));
  const onResponseHooks = plugins.flatMap((plugin): OnResponse[] => (plugin.onResponse ? [plugin.onResponse.bind(plugin)] : []));
  const onResultProcessHooks = plugins.flatMap((plugin): OnResultProcess[] =>
    plugin.onResultProcess ? [plugin.onResultProcess.bind(plugin)] : [],
  );
  // Read once: each read of a method through Yoga's instance (a Proxy) makes a new function.
  const { fetchAPI, logger } = yoga;
  const getResultForParams = yoga.getResultForParams;
  const handle = yoga.handle;
  const waitUntil = yoga.waitUntil as (promise: Promise<unknown> | void) => void;

  // Every request of this lane has the same URL but for its Host: the last one parsed is
  // nearly always the next one's. No hook changes it (they read the path).
  let lastUrl: URL | undefined;
  const urlOf = (href: string): URL => (lastUrl?.href === href ? lastUrl : (lastUrl = new fetchAPI.URL(href)));

  return (req, res) => {
    if (!takes(req, endpoint, maxBodyBytes)) {
      // Yoga's node handler answers its own failures; its promise only says when it is done.
      void yoga(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const params = plainParams(body);
      if (!params) {
        // Yoga's own parser and its answers for everything else; the body is handed over read.
        (req as IncomingMessage & { body?: Uint8Array }).body = body;
        void yoga(req, res);
        return;
      }
      onServed?.();
      serve(req, res, params).catch((error: unknown) => {
        logger.error(error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end('{"errors":[{"message":"Unexpected error."}]}');
      });
    });
    // A client that goes away mid-body: nothing to answer (Node destroys the socket).
    req.on('error', () => {});
  };

  async function serve(req: IncomingMessage, res: ServerResponse, params: GraphQLParams): Promise<void> {
    const serverContext: ServerContext = { req, res, waitUntil };
    const request = new fetchAPI.Request(`${'encrypted' in req.socket ? 'https' : 'http'}://${req.headers.host}${req.url}`, {
      method: 'POST',
      headers: req.headers as Record<string, string>,
    });
    const url = urlOf(request.url);
    let early: Response | undefined;
    // One event object per phase, kept current, where Yoga makes one per hook: the hooks
    // read it while they run and keep nothing of it.
    const onRequest: Parameters<OnRequest>[0] = {
      request,
      serverContext,
      fetchAPI,
      url,
      requestHandler: handle,
      // No hook of this app swaps the request or its handler for a POST to the endpoint.
      setRequest: unsupported,
      setRequestHandler: unsupported,
      endResponse(response) {
        early = response;
      },
    };
    for (const hook of onRequestHooks) {
      // Most hooks answer synchronously: awaiting only the promises saves one per hook.
      const pending = hook(onRequest);
      if (pending) await pending;
      if (early) break;
    }
    const onResponse: Parameters<OnResponse>[0] = {
      request,
      response: early ?? (await processResult(request, serverContext, await resultFor(request, params, serverContext))),
      serverContext,
      fetchAPI,
      setResponse(replacement) {
        onResponse.response = replacement;
      },
    };
    for (const hook of onResponseHooks) {
      const pending = hook(onResponse);
      if (pending) await pending;
    }
    await send(onResponse.response, res);
  }

  async function resultFor(request: Request, params: GraphQLParams, serverContext: ServerContext): Promise<ExecutionResult> {
    try {
      return (await getResultForParams({ params, request }, serverContext)) as ExecutionResult;
    } catch (error) {
      // As Yoga's handler answers an error thrown before or around execution.
      return { errors: errorsOf(error, (unexpected) => logger.error(unexpected)) };
    }
  }

  async function processResult(request: Request, serverContext: ServerContext, executed: ExecutionResult): Promise<Response> {
    let processor: ResultProcessor | undefined;
    let mediaType = '*/*';
    const onResultProcess = {
      request,
      result: executed,
      acceptableMediaTypes: [] as string[],
      resultProcessor: processor,
      setResult(replacement: ExecutionResult) {
        onResultProcess.result = replacement;
      },
      setResultProcessor(replacement: ResultProcessor, accepted: string) {
        processor = onResultProcess.resultProcessor = replacement;
        mediaType = accepted;
      },
      serverContext,
    };
    for (const hook of onResultProcessHooks) {
      const pending = hook(onResultProcess);
      if (pending) await pending;
    }
    if (!processor) {
      return new fetchAPI.Response(null, {
        status: 406,
        statusText: 'Not Acceptable',
        headers: { accept: onResultProcess.acceptableMediaTypes.join('; charset=utf-8, ') },
      });
    }
    return processor(onResultProcess.result, fetchAPI, mediaType);
  }
}

function unsupported(): never {
  throw new Error('the fast lane cannot swap the request or its handler');
}

/** Decided on the head alone: what Yoga's strict parsing and body limit would let through. */
function takes(req: IncomingMessage, endpoint: string, maxBodyBytes: number): boolean {
  if (req.method !== 'POST' || req.url !== endpoint) return false;
  const { headers } = req;
  const length = headers['content-length'];
  // An empty body could not be handed over to Yoga read (its adapter would wait on the stream).
  if (length === undefined || !CONTENT_LENGTH.test(length) || Number(length) > maxBodyBytes || Number(length) === 0) return false;
  if (headers['transfer-encoding'] !== undefined) return false;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return false;
  // CORS and its preflight, and Apollo's inline traces, stay with the plugins made for them.
  if (headers.origin !== undefined || headers['apollo-federation-include-trace'] !== undefined) return false;
  // Exactly what both Yoga's JSON parser (which matches the type as spelt) and the strict
  // parsing plugin take: HTTP would call `Application/JSON` or `application/json ;charset=utf-8`
  // the same type, but Yoga answers them 415, and so the lane must not run them.
  const type = headers['content-type'];
  return type === 'application/json' || type?.startsWith('application/json;') === true;
}

/**
 * The body's GraphQL parameters when they are exactly what Yoga would take from it: one
 * JSON object with a non-empty `query` string, the other three parameters of the right
 * types or absent, nothing else. Anything else is Yoga's to answer (or to run: a batch, a
 * persisted-query hash without a document).
 */
function plainParams(body: Buffer): GraphQLParams | undefined {
  let parsed: unknown;
  try {
    // A byte-order mark is not JSON: JSON.parse refuses it here as in Yoga's parser (which
    // decodes with Buffer#toString too), and the body goes to Yoga to answer so.
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  for (const key in parsed) if (!PARAMETERS.has(key)) return undefined;
  const { query, variables, operationName, extensions } = parsed;
  if (typeof query !== 'string' || query === '' || STREAMING.test(query)) return undefined;
  if (variables != null && !isObject(variables)) return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  if (extensions != null && !isObject(extensions)) return undefined;
  return parsed as GraphQLParams;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What Yoga's handler makes of an error thrown out of `getResultForParams` (its `handleError`). */
function errorsOf(error: unknown, logUnexpected: (error: unknown) => void): GraphQLError[] {
  if (typeof error === 'object' && error !== null && 'errors' in error && Array.isArray(error.errors)) {
    return error.errors.flatMap((each: unknown) => errorsOf(each, logUnexpected));
  }
  const masked = maskError(error, 'Unexpected error.', false);
  if (masked !== error) logUnexpected(error);
  return [masked instanceof GraphQLError ? masked : createGraphQLError(masked.message, { originalError: masked })];
}

async function send(response: Response, res: ServerResponse): Promise<void> {
  if (res.destroyed || res.writableEnded) return;
  const head: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    head[name] = name === 'set-cookie' ? response.headers.getSetCookie() : value;
  });
  res.writeHead(response.status, response.statusText || undefined, head);
  // The processors of results that are not streams answer in full: their body is a string,
  // or bytes once compressed (useCompressedResponses), which as text would be mangled. An
  // absent body reads as empty. Not tested with `response.body`: in @whatwg-node/node-fetch
  // each read of it makes a stream of the body.
  res.end(response.headers.has('content-encoding') ? await response.bytes() : await response.text());
}

/** Yoga's node handler as a plain listener: it answers its own failures, and its promise only says when it is done. */
export function yogaListener(yoga: (req: IncomingMessage, res: ServerResponse) => unknown): RequestListener {
  return (req, res) => void yoga(req, res);
}
