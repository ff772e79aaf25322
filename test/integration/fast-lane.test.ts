import { connect } from 'node:net';
import { getIntrospectionQuery } from 'graphql';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { sha256Hex } from '../../src/persisted/manifest.ts';
import { MINIMAL_DEVICE_ID, SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import type { Standin } from '../../tools/standin/server.ts';
import { DEVICE_FIELDS, FAILING_ID, MISSING_ID } from '../support/differential.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { parseResponse, rawRequest, type RawResponse } from '../support/raw-http.ts';

/**
 * The fast lane (src/http/fast-lane.ts) answers exactly what Yoga answers. Two facades,
 * one with the lane and one without, each in front of its own stand-in with the same
 * data, get the same bytes in the same order; their answers must be the same but for
 * what is meant to differ (request ids, a max-age a second apart). The lane's counter
 * says which requests it answered itself, so a corpus that Yoga alone served would not
 * pass for proof.
 */

/** A request as sent: the headers listed and no others (undici adds Host and Content-Length), or raw bytes. */
type Sent =
  | {
      readonly method?: string;
      readonly path?: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly body?: string | Buffer;
    }
  | { readonly raw: string | Buffer; readonly endInput?: boolean };

interface Case {
  readonly name: string;
  readonly sent: Sent;
  /** Whether the fast lane answers it (else Yoga, in both facades). */
  readonly lane: boolean;
  readonly status: number;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | undefined>;
  readonly body: unknown;
}

/** The headers whose values callers act on; `x-request-id` for its presence (a fresh UUID each time). */
const COMPARED = [
  'content-type',
  'cache-control',
  'vary',
  'www-authenticate',
  'allow',
  'accept',
  'access-control-allow-origin',
  'x-request-id',
] as const;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Never answered by the stand-in: a client can give up on it. */
const HANGING_ID = 'dev_00000000000000000000dead';
const SEED = `query Seed($id: ID!) { device(id: $id) { ${DEVICE_FIELDS} } }`;
const DEVICES = 'query Several($ids: [ID!]!) { devices(ids: $ids) { id modelName } }';
const SMALL = 'query Small($id: ID!) { device(id: $id) { id modelName } }';
const INVALID = '{ device(id: "x") { nope } }';
const MULTI = `query One { device(id: "${SEED_DEVICE_ID}") { id } } query Two { __typename } mutation Three { __typename }`;
const ENTITIES = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Device { id modelName } } }';
const CREATE =
  'mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { clientMutationId device { id } userErrors { code field message } } }';
const REGISTERED = `query Registered { device(id: "${SEED_DEVICE_ID}") { referenceId } }`;
const persisted = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });
/** The seed device with its model name deferred; `spacing` between `@` and `defer`. */
const deferred = (spacing: string, id = SEED_DEVICE_ID) =>
  `query { a: device(id: "${SEED_DEVICE_ID}") { id } ... @${spacing}defer { b: device(id: "${id}") { modelName } } }`;

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };

/** A POST to /graphql; a header given as undefined is left out. */
function post(body: unknown, headers: Record<string, string | undefined> = {}): Sent {
  const merged = Object.entries({ ...JSON_HEADERS, ...headers }).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return { headers: Object.fromEntries(merged), body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) };
}

const operation = (query: string, variables?: unknown, headers?: Record<string, string | undefined>) => post({ query, variables }, headers);

/** A body of exactly `bytes` bytes: the small query, padded in a comment. */
function paddedBody(bytes: number): string {
  const make = (pad: number) => JSON.stringify({ query: `${SMALL} #${'x'.repeat(pad)}`, variables: { id: SEED_DEVICE_ID } });
  const body = make(bytes - Buffer.byteLength(make(0)));
  if (Buffer.byteLength(body) !== bytes) throw new Error(`padded to ${Buffer.byteLength(body)} bytes, not ${bytes}`);
  return body;
}

/** A raw HTTP/1.1 POST to /graphql with a JSON body, closing after the answer. */
const rawPost = (head: string[], body: string) =>
  `POST /graphql HTTP/1.1\r\nHost: localhost\r\n${head.map((line) => `${line}\r\n`).join('')}Connection: close\r\n\r\n${body}`;

/** `{"query": SMALL, …}` with `where` holding as many short keys as fit in the lane's 16 KB (about 2,000). */
function crammed(where: 'variables' | 'extensions' | 'top level'): string {
  const open = where === 'top level' ? '' : `"${where}":{`;
  const head = `{"query":${JSON.stringify(SMALL)},${open}"id":"${SEED_DEVICE_ID}"`;
  const tail = where === 'top level' ? '}' : '}}';
  let keys = '';
  for (let i = 0; ; i += 1) {
    const key = `,"${i.toString(36)}":0`;
    if (Buffer.byteLength(head + keys + key + tail) > 16 * 1024) break;
    keys += key;
  }
  return head + keys + tail;
}
const deepList = (depth: number): unknown => (depth === 0 ? SEED_DEVICE_ID : [deepList(depth - 1)]);

/** Each Accept with the status of a result and of a request error (GraphQL over HTTP: 200 for plain JSON). */
const ACCEPTS: Array<[name: string, accept: string | undefined, result: number, requestError: number]> = [
  ['none', undefined, 200, 200],
  ['*/*', '*/*', 200, 200],
  ['application/json', 'application/json', 200, 200],
  ['application/graphql-response+json', 'application/graphql-response+json', 200, 400],
  ['both, JSON first', 'application/json, application/graphql-response+json', 200, 200],
  ['both, graphql-response first', 'application/graphql-response+json, application/json', 200, 400],
  ['both with q-values', 'application/json;q=0.9, application/graphql-response+json;q=1', 200, 200],
  ['text/html', 'text/html', 406, 406],
  ['a browser’s', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 200, 200],
  ['multipart/mixed', 'multipart/mixed', 200, 400],
  ['text/event-stream', 'text/event-stream', 200, 200],
  ['application/json; charset=latin1', 'application/json; charset=latin1', 406, 406],
  ['application/graphql-response+json; charset=latin1', 'application/graphql-response+json; charset=latin1', 406, 406],
  ['application/xml', 'application/xml', 406, 406],
];

const corpus: Case[] = [
  // Devices
  { name: 'the seed device, every field', sent: operation(SEED, { id: SEED_DEVICE_ID }), lane: true, status: 200 },
  { name: 'the seed device again (now from the cache)', sent: operation(SEED, { id: SEED_DEVICE_ID }), lane: true, status: 200 },
  { name: 'the minimal device', sent: operation(SEED, { id: MINIMAL_DEVICE_ID }), lane: true, status: 200 },
  { name: 'a device that does not exist', sent: operation(SEED, { id: MISSING_ID }), lane: true, status: 200 },
  { name: 'a malformed device id', sent: operation(SEED, { id: 'not a device/../id' }), lane: true, status: 200 },
  { name: 'an empty device id', sent: operation(SEED, { id: '' }), lane: true, status: 200 },
  {
    name: 'devices(ids) with a failing, a missing and a malformed item',
    sent: operation(DEVICES, { ids: [SEED_DEVICE_ID, FAILING_ID, MISSING_ID, 'x y', SEED_DEVICE_ID] }),
    lane: true,
    status: 200,
  },
  { name: 'a failing device alone', sent: operation(SMALL, { id: FAILING_ID }), lane: true, status: 200 },
  {
    name: 'aliases',
    sent: operation(`{ a: device(id: "${SEED_DEVICE_ID}") { id name: modelName } b: device(id: "${MISSING_ID}") { id } c: __typename }`),
    lane: true,
    status: 200,
  },
  {
    name: 'too many aliases (a security limit)',
    sent: operation(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: __typename`).join(' ')} }`),
    lane: true,
    status: 400,
  },
  { name: 'nested 40 deep (a parse limit)', sent: operation(`${'{ a '.repeat(40)}${'}'.repeat(40)}`), lane: true, status: 400 },
  // Variables
  { name: 'variables of the wrong type', sent: operation(SMALL, { id: { nested: true } }), lane: true, status: 400 },
  { name: 'a list variable given one item', sent: operation(DEVICES, { ids: SEED_DEVICE_ID }), lane: true, status: 200 },
  { name: 'a list variable nested 2,000 deep', sent: operation(DEVICES, { ids: deepList(2_000) }), lane: true, status: 400 },
  { name: 'a non-null variable missing', sent: operation(SMALL, {}), lane: true, status: 400 },
  { name: 'variables left out', sent: operation(SMALL), lane: true, status: 400 },
  { name: 'variables null', sent: post({ query: SMALL, variables: null }), lane: true, status: 400 },
  { name: 'variables not declared', sent: operation(SMALL, { id: SEED_DEVICE_ID, other: 1 }), lane: true, status: 200 },
  { name: 'variables with as many keys as fit in 16 KB', sent: post(crammed('variables')), lane: true, status: 200 },
  {
    name: 'variables with a __proto__ key',
    sent: post(`{"query":${JSON.stringify(SMALL)},"variables":{"__proto__":{"id":"${SEED_DEVICE_ID}"}}}`),
    lane: true,
    status: 400,
  },
  {
    name: 'variables with constructor.prototype',
    sent: post({ query: SMALL, variables: { id: SEED_DEVICE_ID, constructor: { prototype: { polluted: true } } } }),
    lane: true,
    status: 200,
  },
  // Operation names
  {
    name: 'operationName choosing a query among several operations',
    sent: post({ query: MULTI, operationName: 'One' }),
    lane: true,
    status: 200,
  },
  { name: 'operationName choosing another', sent: post({ query: MULTI, operationName: 'Two' }), lane: true, status: 200 },
  { name: 'operationName choosing the mutation', sent: post({ query: MULTI, operationName: 'Three' }), lane: true, status: 200 },
  { name: 'operationName naming no operation', sent: post({ query: MULTI, operationName: 'Four' }), lane: true, status: 400 },
  { name: 'operationName empty', sent: post({ query: MULTI, operationName: '' }), lane: true, status: 400 },
  { name: 'operationName missing among several operations', sent: post({ query: MULTI }), lane: true, status: 400 },
  {
    name: 'operationName null',
    sent: post({ query: SMALL, variables: { id: SEED_DEVICE_ID }, operationName: null }),
    lane: true,
    status: 200,
  },
  // Documents
  { name: 'a validation error', sent: operation(INVALID), lane: true, status: 400 },
  {
    name: 'a validation error quoting a long name (messages are shortened)',
    sent: operation(`{ device(id: "x") { ${'n'.repeat(200)} } }`),
    lane: true,
    status: 400,
  },
  {
    name: 'a variable error quoting a long value (messages are shortened)',
    sent: operation(SMALL, { id: { long: 'v'.repeat(2_000) } }),
    lane: true,
    status: 400,
  },
  { name: 'a syntax error', sent: operation('{ device(id: '), lane: true, status: 400 },
  { name: 'a document of whitespace', sent: operation('   '), lane: true, status: 400 },
  { name: 'a document with a lone surrogate', sent: post('{"query":"{ __typename } # \\ud800"}'), lane: true, status: 400 },
  {
    name: 'a document that is not UTF-8',
    sent: post(Buffer.from([...Buffer.from('{"query":"{ __typename } # '), 0xff, 0xfe, ...Buffer.from('"}')])),
    lane: true,
    status: 200,
  },
  {
    name: 'a duplicated query key (the last wins)',
    sent: post(`{"query":"{ nope }","query":${JSON.stringify(SMALL)},"variables":{"id":"${SEED_DEVICE_ID}"}}`),
    lane: true,
    status: 200,
  },
  { name: 'introspection', sent: operation(getIntrospectionQuery()), lane: true, status: 200 },
  { name: '_service { sdl }', sent: operation('{ _service { sdl } }'), lane: true, status: 200 },
  {
    name: '_entities',
    sent: operation(ENTITIES, {
      r: [
        { __typename: 'Device', id: SEED_DEVICE_ID },
        { __typename: 'Device', id: MISSING_ID },
        { __typename: 'Nope', id: 'x' },
      ],
    }),
    lane: true,
    status: 200,
  },
  {
    name: 'a mutation with bad input (userErrors)',
    sent: operation(CREATE, { input: { clientMutationId: 'c1', referenceId: 'r'.repeat(300), properties: { pvTilt: 400 } } }),
    lane: true,
    status: 200,
  },
  { name: 'a mutation with input of the wrong type', sent: operation(CREATE, { input: { type: 'TOASTER' } }), lane: true, status: 400 },
  {
    name: 'a query that only mentions subscription (Yoga’s)',
    sent: operation('{ __typename } # not a subscription'),
    lane: false,
    status: 200,
  },
  { name: '@defer, to a client that cannot take parts (Yoga’s)', sent: operation(deferred('')), lane: false, status: 406 },
  // 406 with a GraphQL error naming what to ask for (src/plugins/response/use-not-acceptable.ts), whichever lane.
  {
    name: 'a subscription to a client that asks for JSON (Yoga’s)',
    sent: operation(`subscription { deviceUpdated(id: "${SEED_DEVICE_ID}") { id } }`, undefined, { accept: 'application/json' }),
    lane: false,
    status: 406,
  },
  {
    name: 'a subscription to a client that asks for HTML (Yoga’s)',
    sent: operation(`subscription { deviceUpdated(id: "${SEED_DEVICE_ID}") { id } }`, undefined, { accept: 'text/html' }),
    lane: false,
    status: 406,
  },
  {
    name: '@defer over multipart (Yoga’s)',
    sent: operation(deferred(''), undefined, { accept: 'multipart/mixed' }),
    lane: false,
    status: 200,
  },
  // GraphQL has ignored tokens between `@` and the name: still a directive, still streamed.
  {
    name: '@ defer, a space after the @ (Yoga’s)',
    sent: operation(deferred(' '), undefined, { accept: 'multipart/mixed' }),
    lane: false,
    status: 200,
  },
  {
    name: '@ defer, a comma, a comment and new lines after the @ (Yoga’s)',
    sent: operation(deferred(',\n  # why not\n  '), undefined, { accept: 'multipart/mixed' }),
    lane: false,
    status: 200,
  },
  {
    name: '@\tstream, a tab after the @ (Yoga’s)',
    sent: operation(`{ devices(ids: ["${SEED_DEVICE_ID}", "${MINIMAL_DEVICE_ID}"]) @\tstream { id } }`, undefined, {
      accept: 'text/event-stream',
    }),
    lane: false,
    status: 200,
  },
  {
    name: 'an @ before a comment, in a comment (Yoga’s, to be safe)',
    sent: operation('{ __typename } # mail me @ # home'),
    lane: false,
    status: 200,
  },
  {
    name: 'an @ before no directive (the lane’s), to a client that takes parts',
    sent: operation(`${SMALL} # ask me @ home`, { id: SEED_DEVICE_ID }, { accept: 'multipart/mixed' }),
    lane: true,
    status: 200,
  },
  // Bodies the lane leaves to Yoga
  { name: 'an unknown parameter', sent: post({ query: SMALL, variables: { id: SEED_DEVICE_ID }, foo: 1 }), lane: false, status: 400 },
  {
    name: 'an unknown parameter that is null',
    sent: post({ query: SMALL, variables: { id: SEED_DEVICE_ID }, foo: null }),
    lane: false,
    status: 200,
  },
  {
    name: 'a __proto__ parameter',
    sent: post(`{"query":${JSON.stringify(SMALL)},"__proto__":{"variables":{"id":"${SEED_DEVICE_ID}"}}}`),
    lane: false,
    status: 400,
  },
  {
    name: 'a constructor parameter',
    sent: post({ query: '{ __typename }', constructor: { prototype: { polluted: true } } }),
    lane: false,
    status: 400,
  },
  { name: 'as many unknown parameters as fit in 16 KB', sent: post(crammed('top level')), lane: false, status: 400 },
  { name: 'query a number', sent: post({ query: 42 }), lane: false, status: 400 },
  { name: 'query an empty string', sent: post({ query: '' }), lane: false, status: 400 },
  { name: 'query null', sent: post({ query: null }), lane: false, status: 400 },
  { name: 'no query', sent: post({ variables: {} }), lane: false, status: 400 },
  { name: 'variables an array', sent: post({ query: SMALL, variables: [SEED_DEVICE_ID] }), lane: false, status: 400 },
  { name: 'variables a string', sent: post({ query: SMALL, variables: JSON.stringify({ id: SEED_DEVICE_ID }) }), lane: false, status: 400 },
  { name: 'operationName a number', sent: post({ query: MULTI, operationName: 1 }), lane: false, status: 400 },
  { name: 'extensions a string', sent: post({ query: SMALL, extensions: 'x' }), lane: false, status: 400 },
  { name: 'extensions an array', sent: post({ query: SMALL, extensions: [] }), lane: false, status: 400 },
  { name: 'a batch', sent: post([{ query: '{ __typename }' }, { query: '{ __typename }' }]), lane: false, status: 400 },
  { name: 'an empty batch', sent: post([]), lane: false, status: 400 },
  { name: 'an empty object', sent: post({}), lane: false, status: 400 },
  { name: 'JSON null', sent: post('null'), lane: false, status: 400 },
  { name: 'a JSON number', sent: post('42'), lane: false, status: 400 },
  { name: 'a JSON string', sent: post('"{ __typename }"'), lane: false, status: 400 },
  { name: 'JSON true', sent: post('true'), lane: false, status: 400 },
  { name: 'invalid JSON', sent: post('{"query": "{ __typename }", oops'), lane: false, status: 400 },
  { name: 'JSON followed by more', sent: post('{"query": "{ __typename }"} {}'), lane: false, status: 400 },
  {
    name: 'a body with a UTF-8 byte-order mark',
    sent: post(`\uFEFF${JSON.stringify({ query: SMALL, variables: { id: SEED_DEVICE_ID } })}`),
    lane: false,
    status: 400,
  },
  // Persisted queries
  {
    name: 'an APQ registration (document and its hash)',
    sent: post({ query: REGISTERED, extensions: persisted(sha256Hex(REGISTERED)) }),
    lane: true,
    status: 200,
  },
  { name: 'the registered hash alone', sent: post({ extensions: persisted(sha256Hex(REGISTERED)) }), lane: false, status: 200 },
  {
    name: 'an unknown hash alone',
    sent: post({ extensions: persisted(sha256Hex('query Unknown { __typename }')) }),
    lane: false,
    status: 200,
  },
  {
    name: 'a document with a hash that is not its own',
    sent: post({ query: '{ __typename }', extensions: persisted(sha256Hex('{ other }')) }),
    lane: true,
    status: 200,
  },
  {
    name: 'a document with a hash that is not hex',
    sent: post({ query: '{ __typename }', extensions: persisted('not-a-hash') }),
    lane: true,
    status: 200,
  },
  {
    name: 'a persistedQuery that is not an object',
    sent: post({ query: '{ __typename }', extensions: { persistedQuery: 'x' } }),
    lane: true,
    status: 200,
  },
  {
    name: 'extensions with a __proto__ key',
    sent: post(`{"query":"{ __typename }","extensions":{"__proto__":${JSON.stringify(persisted(sha256Hex('{ other }')))}}}`),
    lane: true,
    status: 200,
  },
  { name: 'extensions with as many keys as fit in 16 KB', sent: post(crammed('extensions')), lane: true, status: 400 },
  // Accept: every variant, for a result and for a request error (whose status depends on it)
  ...ACCEPTS.flatMap(([name, accept, result, requestError]): Case[] => [
    { name: `Accept ${name}, a result`, sent: operation(SMALL, { id: SEED_DEVICE_ID }, { accept }), lane: true, status: result },
    { name: `Accept ${name}, a validation error`, sent: operation(INVALID, undefined, { accept }), lane: true, status: requestError },
  ]),
  // Content-Type and Content-Encoding
  {
    name: 'application/json; charset=utf-8',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'application/json; charset=utf-8' }),
    lane: true,
    status: 200,
  },
  {
    name: 'application/json;charset=utf-8, text/plain (Yoga reads the first)',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'application/json;charset=utf-8, text/plain' }),
    lane: true,
    status: 200,
  },
  {
    name: 'application/json, text/plain',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'application/json, text/plain' }),
    lane: false,
    status: 415,
  },
  {
    name: 'Application/JSON',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'Application/JSON' }),
    lane: false,
    status: 415,
  },
  {
    name: 'application/json;Charset=UTF-8',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'application/json;Charset=UTF-8' }),
    lane: true,
    status: 200,
  },
  {
    name: 'application/json ; charset=utf-8 (a space before the semicolon)',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'application/json ; charset=utf-8' }),
    lane: false,
    status: 415,
  },
  {
    name: 'application/json;',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'application/json;' }),
    lane: true,
    status: 200,
  },
  {
    name: 'application/graphql+json (Yoga parses it, the service refuses it)',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'application/graphql+json' }),
    lane: false,
    status: 415,
  },
  {
    name: 'application/json; charset=latin1 (read as UTF-8 all the same)',
    sent: operation('{ __typename } # déjà vu', undefined, { 'content-type': 'application/json; charset=latin1' }),
    lane: true,
    status: 200,
  },
  {
    name: 'application/graphql-response+json as Content-Type',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'application/graphql-response+json' }),
    lane: false,
    status: 415,
  },
  { name: 'text/plain', sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': 'text/plain' }), lane: false, status: 415 },
  { name: 'no Content-Type', sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-type': undefined }), lane: false, status: 415 },
  {
    name: 'Content-Encoding identity',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-encoding': 'identity' }),
    lane: true,
    status: 200,
  },
  {
    name: 'Content-Encoding Identity, spaced',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-encoding': ' Identity ' }),
    lane: true,
    status: 200,
  },
  {
    name: 'Content-Encoding empty (Yoga’s)',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-encoding': '' }),
    lane: false,
    status: 200,
  },
  {
    name: 'Content-Encoding gzip',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'content-encoding': 'gzip' }),
    lane: false,
    status: 415,
  },
  // Other headers
  {
    name: 'a caller’s x-request-id',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'x-request-id': 'caller-42.a:b' }),
    lane: true,
    status: 200,
  },
  {
    name: 'an x-request-id that is not one',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'x-request-id': 'no spaces allowed' }),
    lane: true,
    status: 200,
  },
  {
    name: 'a traceparent',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
    lane: true,
    status: 200,
  },
  {
    name: 'an Authorization header (service credentials: ignored)',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { authorization: 'Bearer whatever' }),
    lane: true,
    status: 200,
  },
  {
    name: 'an Origin (CORS: Yoga’s)',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { origin: 'https://evil.example' }),
    lane: false,
    status: 200,
  },
  {
    name: 'apollo-federation-include-trace (Yoga’s)',
    sent: operation(SMALL, { id: SEED_DEVICE_ID }, { 'apollo-federation-include-trace': 'ftv1' }),
    lane: false,
    status: 200,
  },
  // Targets and methods
  {
    name: 'a query string on the endpoint (Yoga’s)',
    sent: { ...operation(SMALL, { id: SEED_DEVICE_ID }), path: '/graphql?x=1' },
    lane: false,
    status: 200,
  },
  { name: 'a trailing slash (Yoga’s)', sent: { ...operation(SMALL, { id: SEED_DEVICE_ID }), path: '/graphql/' }, lane: false, status: 200 },
  {
    name: 'GET (Yoga’s)',
    sent: { method: 'GET', path: `/graphql?query=${encodeURIComponent('{ __typename }')}`, headers: { accept: 'application/json' } },
    lane: false,
    status: 200,
  },
  {
    name: 'a CORS preflight (Yoga’s)',
    sent: {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    },
    lane: false,
    status: 204,
  },
  { name: 'PUT (Yoga’s)', sent: { ...operation(SMALL, { id: SEED_DEVICE_ID }), method: 'PUT' }, lane: false, status: 405 },
  // Framing, over raw sockets
  {
    name: 'HTTP/1.0 without Host',
    sent: { raw: `POST /graphql HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n{"query":"{ __typename }"}` },
    lane: true,
    status: 200,
  },
  {
    name: 'a Content-Length with leading zeros',
    sent: { raw: rawPost(['Content-Type: application/json', 'Content-Length: 0026'], '{"query":"{ __typename }"}') },
    lane: true,
    status: 200,
  },
  {
    name: 'a half-closed connection after the request',
    sent: { raw: rawPost(['Content-Type: application/json', 'Content-Length: 26'], '{"query":"{ __typename }"}'), endInput: true },
    lane: true,
    status: 200,
  },
  {
    name: 'Expect: 100-continue',
    sent: { raw: rawPost(['Content-Type: application/json', 'Content-Length: 26', 'Expect: 100-continue'], '{"query":"{ __typename }"}') },
    lane: true,
    status: 200,
  },
  {
    name: 'an Upgrade header on a POST',
    sent: { raw: rawPost(['Content-Type: application/json', 'Content-Length: 26', 'Upgrade: h2c'], '{"query":"{ __typename }"}') },
    lane: true,
    status: 200,
  },
  {
    name: 'two equal Content-Lengths (Node refuses)',
    sent: { raw: rawPost(['Content-Type: application/json', 'Content-Length: 26', 'Content-Length: 26'], '{"query":"{ __typename }"}') },
    lane: false,
    status: 400,
  },
  {
    name: 'Content-Length 0 (Yoga’s)',
    sent: { raw: rawPost(['Content-Type: application/json', 'Content-Length: 0'], '') },
    lane: false,
    status: 400,
  },
  {
    name: 'a chunked body (Yoga’s)',
    sent: {
      raw: rawPost(['Content-Type: application/json', 'Transfer-Encoding: chunked'], '1a\r\n{"query":"{ __typename }"}\r\n0\r\n\r\n'),
    },
    lane: false,
    status: 200,
  },
  // Size: the lane's limit is 16 KB; Yoga's, 128 KB
  { name: 'a body of exactly 16 KB', sent: post(paddedBody(16 * 1024)), lane: true, status: 200 },
  { name: 'a body one byte over 16 KB (Yoga’s)', sent: post(paddedBody(16 * 1024 + 1)), lane: false, status: 200 },
  { name: 'a body over 128 KB (Yoga’s)', sent: post(paddedBody(128 * 1024 + 1)), lane: false, status: 413 },
];

async function answer(h: Harness, sent: Sent): Promise<Answer> {
  if ('raw' in sent) return fromRaw(await rawRequest(Number(h.url.port), sent.raw, { endInput: sent.endInput }));
  const response = await request(new URL(sent.path ?? '/graphql', h.url), {
    method: (sent.method ?? 'POST') as 'POST',
    headers: sent.headers,
    body: sent.body,
    // A request neither facade answers fails here, not at the test's timeout.
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  const text = await response.body.text();
  const headers: Record<string, string | undefined> = {};
  for (const name of COMPARED) {
    const value = response.headers[name];
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return normalised({ status: response.statusCode, headers, body: text });
}

function fromRaw(raw: RawResponse): Answer {
  // After `Expect: 100-continue`, the answer is the second response.
  const response = raw.status === 100 ? parseResponse(Buffer.from(raw.raw.slice(raw.raw.indexOf('\r\n\r\n') + 4))) : raw;
  return normalised({
    status: response.status,
    headers: Object.fromEntries(COMPARED.map((name) => [name, response.headers[name]])),
    body: response.body,
  });
}

/** Request ids are fresh UUIDs and a cached device's max-age counts down: neither is the lane's doing. */
function normalised({ status, headers, body }: { status: number; headers: Record<string, string | undefined>; body: string }): Answer {
  let parsed: unknown = body.replace(UUID, '<uuid>');
  try {
    // An ftv1 trace holds the times its fields took.
    parsed = JSON.parse(parsed as string, (key, value: unknown) => (key === 'ftv1' && typeof value === 'string' ? '<trace>' : value));
  } catch {
    // Not JSON (an event stream, a multipart body, an empty 406): compared as text.
  }
  return {
    status,
    headers: {
      ...headers,
      'cache-control': headers['cache-control']?.replace(/max-age=\d+/, 'max-age=<n>'),
      'x-request-id': headers['x-request-id']?.replace(UUID, '<uuid>'),
    },
    body: parsed,
  };
}

async function laneServed(h: Harness): Promise<number> {
  const text = await (await fetch(h.metricsUrl)).text();
  return Number(/^flatpeak_http_fast_lane_requests_total (\d+)$/m.exec(text)?.[1]);
}

function failAndHang(standin: Standin): void {
  standin.setFault((seen) => {
    if (seen.path === `/devices/${FAILING_ID}`) return { status: 403, code: 'forbidden' };
    if (seen.path === `/devices/${HANGING_ID}`) return { hang: true };
    return undefined;
  });
}

interface Pair {
  readonly lane: Harness;
  readonly yoga: Harness;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
const errorLogs: string[] = [];
const ENV = { DEVICE_CACHE_TTL_MS: '60000', CORS_ORIGINS: 'https://app.example', FTV1_TRACES: 'on' };
const pairs: Pair[] = [];

/** Two facades alike but for the lane, each with its own stand-in; both log errors where the test sees them. */
async function startPair(env: Record<string, string> = {}): Promise<Pair> {
  const logger = () => createLogger('warn', { write: (line: string) => void errorLogs.push(line) });
  const [lane, yoga] = await Promise.all([
    startHarness({ env: { ...ENV, ...env }, logger: logger() }),
    startHarness({ env: { ...ENV, ...env }, logger: logger(), fastLane: false }),
  ]);
  failAndHang(lane.standin);
  failAndHang(yoga.standin);
  const pair = { lane, yoga };
  pairs.push(pair);
  return pair;
}

/** The same request to both facades: the same answer, and from the lane exactly when `viaLane`. */
async function expectSameAnswer({ lane, yoga }: Pair, sent: Sent, status: number, viaLane: boolean): Promise<Answer> {
  const before = await laneServed(lane);
  const fast = await answer(lane, sent);
  const slow = await answer(yoga, sent);
  expect(fast).toEqual(slow);
  expect(fast.status).toBe(status);
  expect((await laneServed(lane)) - before).toBe(viaLane ? 1 : 0);
  return fast;
}

let main: Pair;
beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  main = await startPair();
});
afterAll(async () => {
  await Promise.all(pairs.flatMap(({ lane, yoga }) => [lane.close(), yoga.close()]));
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled, 'unhandled rejections').toEqual([]);
  expect(
    errorLogs.filter((line) => /"level":(50|60)/.test(line)),
    'errors logged',
  ).toEqual([]);
});

describe('the fast lane answers what Yoga answers', () => {
  it.each(corpus)('$name', async ({ sent, lane: viaLane, status }) => {
    await expectSameAnswer(main, sent, status, viaLane);
  });

  it('served every plain request itself, and the facade without it none', async () => {
    expect(await laneServed(main.lane)).toBe(corpus.filter((each) => each.lane).length);
    expect(await laneServed(main.yoga)).toBe(0);
  });

  it('counted the same in the metrics: every plugin hook ran for every request (times aside)', async () => {
    const counts = async (h: Harness) =>
      (await (await fetch(h.metricsUrl)).text())
        .split('\n')
        .filter(
          (line) => /^(graphql_|flatpeak_(upstream_calls|upstream_retries|device_reads))/.test(line) && !/_(sum|bucket)\{/.test(line),
        );
    const fast = await counts(main.lane);
    expect(fast.length).toBeGreaterThan(5);
    expect(fast).toEqual(await counts(main.yoga));
  });

  it('answers every 406 with a GraphQL error naming the media types to ask for, never an empty body', async () => {
    const refused = corpus.filter((each) => each.status === 406);
    expect(refused.filter((each) => each.lane).length).toBeGreaterThan(0);
    expect(refused.filter((each) => !each.lane).length).toBeGreaterThan(0);
    for (const { sent } of refused) {
      const { body, headers } = await answer(main.lane, sent);
      expect(body).toMatchObject({
        errors: [{ extensions: { code: 'NOT_ACCEPTABLE', acceptableMediaTypes: expect.any(Array) as unknown } }],
      });
      expect(headers['content-type']).toBe('application/json; charset=utf-8');
    }
  });

  it('left Object.prototype alone', () => {
    for (const key of ['polluted', 'variables', 'persistedQuery', 'id']) expect(Object.prototype).not.toHaveProperty(key);
  });
});

describe('CALLER_AUTH=jwt: the lane answers what Yoga answers', () => {
  let idp: IdentityProvider;
  let pair: Pair;
  const tokens = { reader: '', owner: '', stranger: '', expired: '', unpublished: '' };

  beforeAll(async () => {
    idp = await startIdentityProvider();
    pair = await startPair({ CALLER_AUTH: 'jwt', AUTH_JWKS_URL: idp.jwksUrl.href, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    tokens.reader = await idp.token({ claims: { sub: 'backoffice', scope: 'devices:read:all' } });
    tokens.owner = await idp.token({ claims: { sub: 'DEV1234567890' }, alg: 'ES256' });
    tokens.stranger = await idp.token({ claims: { sub: 'someone-else' }, alg: 'EdDSA' });
    tokens.expired = await idp.token({ claims: { sub: 'DEV1234567890' }, expiresIn: -600 });
    tokens.unpublished = await idp.token({ claims: { sub: 'DEV1234567890' }, unpublished: true });
  });
  afterAll(() => idp?.close());

  const seed = (authorization?: () => string) => () => operation(SMALL, { id: SEED_DEVICE_ID }, { authorization: authorization?.() });
  const cases: Array<[name: string, sent: () => Sent, status: number]> = [
    ['no token', seed(), 401],
    ['no token, with an error besides', () => operation(`{ device(id: "${SEED_DEVICE_ID}") { nope } }`), 400],
    ['no token, only the schema', () => operation('{ __typename _service { sdl } }'), 200],
    ['no token, introspection', () => operation('{ __schema { queryType { name } } }'), 200],
    ['no token, a mutation', () => operation(CREATE, { input: { referenceId: 'x' } }), 401],
    ['an empty Bearer', seed(() => 'Bearer '), 401],
    ['Basic credentials', seed(() => 'Basic dXNlcjpwYXNz'), 401],
    ['a token that is not a JWT', seed(() => 'Bearer not-a-jwt'), 401],
    ['an expired token', seed(() => `Bearer ${tokens.expired}`), 401],
    ['a token signed by a key nobody published', seed(() => `Bearer ${tokens.unpublished}`), 401],
    ['a good token with devices:read:all', seed(() => `Bearer ${tokens.reader}`), 200],
    ['a good token with devices:read:all, again (cached: private, vary)', seed(() => `Bearer ${tokens.reader}`), 200],
    ['the owner’s token', seed(() => `Bearer ${tokens.owner}`), 200],
    ['a stranger’s token', seed(() => `Bearer ${tokens.stranger}`), 200],
    [
      'a stranger’s token, a write without the scope',
      () => operation(CREATE, { input: { referenceId: 'x' } }, { authorization: `Bearer ${tokens.stranger}` }),
      200,
    ],
  ];

  it.each(cases)('%s', async (_name, make, status) => {
    const fast = await expectSameAnswer(pair, make(), status, true);
    if (status === 401) expect(fast.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(await laneServed(pair.yoga)).toBe(0);
  });
});

// Errors thrown before execution (here by the persisted-operations plugins' onParams) reach
// the lane as a rejection of getResultForParams, which it must answer as Yoga's handler does.
describe.each([
  [
    'require',
    [
      ['a document', post({ query: SMALL, variables: { id: SEED_DEVICE_ID } }), 400, true],
      ['a document with its own hash', post({ query: REGISTERED, extensions: persisted(sha256Hex(REGISTERED)) }), 400, true],
      ['a hash not in the manifest', post({ extensions: persisted(sha256Hex(REGISTERED)) }), 400, false],
    ],
  ],
  [
    'off',
    [
      ['a document', post({ query: SMALL, variables: { id: SEED_DEVICE_ID } }), 200, true],
      ['a document with its own hash', post({ query: REGISTERED, extensions: persisted(sha256Hex(REGISTERED)) }), 200, true],
      ['a hash alone', post({ extensions: persisted(sha256Hex(REGISTERED)) }), 200, false],
    ],
  ],
] as Array<[string, Array<[string, Sent, number, boolean]>]>)(
  'PERSISTED_OPERATIONS=%s: the lane answers what Yoga answers',
  (mode, cases) => {
    let pair: Pair;
    beforeAll(async () => {
      pair = await startPair({ PERSISTED_OPERATIONS: mode });
    });

    it.each(cases)('%s', async (_name, sent, status, viaLane) => {
      await expectSameAnswer(pair, sent, status, viaLane);
    });
  },
);

describe('attacks on the lane', () => {
  const lane = () => main.lane;
  const port = () => Number(lane().url.port);
  const head = (length: number) =>
    `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
  const PLAIN = JSON.stringify({ query: SMALL, variables: { id: SEED_DEVICE_ID } });

  async function stillServes(): Promise<void> {
    expect((await fetch(new URL('/health', lane().url))).status).toBe(200);
    const before = await laneServed(lane());
    const { status, body } = await lane().query(SMALL, { id: SEED_DEVICE_ID });
    expect({ status, body }).toEqual({ status: 200, body: { data: { device: { id: SEED_DEVICE_ID, modelName: 'Pico Ultimate' } } } });
    // At least: requests of clients already gone may still be finishing.
    expect(await laneServed(lane())).toBeGreaterThan(before);
  }

  it('a Content-Length larger than the body, then the client closes: nothing served, the server carries on', async () => {
    const before = await laneServed(lane());
    // Half-closed: the stream ends in the middle of the body, which Node's parser answers itself.
    const halfClosed = await rawRequest(port(), `${head(1_000)}${PLAIN.slice(0, 20)}`, { endInput: true });
    expect(halfClosed.status).toBe(400);
    // Reset: gone without a word.
    await new Promise<void>((resolve) => {
      const socket = connect(port(), '127.0.0.1', () =>
        socket.write(`${head(1_000)}${PLAIN.slice(0, 20)}`, () => socket.resetAndDestroy()),
      );
      socket.on('close', () => resolve());
      socket.on('error', () => {});
    });
    expect(await laneServed(lane())).toBe(before);
    await stillServes();
  });

  it('a body in pieces, split inside a UTF-8 character, is read whole', async () => {
    const body = Buffer.from(JSON.stringify({ query: `${SMALL} # déjà vu`, variables: { id: SEED_DEVICE_ID } }));
    const split = body.indexOf(Buffer.from('é')) + 1;
    const response = await new Promise<RawResponse>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(port(), '127.0.0.1', () => {
        socket.setNoDelay(true);
        socket.write(head(body.length).replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'), () =>
          socket.write(body.subarray(0, split), () => socket.write(body.subarray(split))),
        );
      });
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks))));
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ data: { device: { id: SEED_DEVICE_ID, modelName: 'Pico Ultimate' } } });
  });

  it('pipelined requests on one connection are answered in order', async () => {
    const before = await laneServed(lane());
    const second = JSON.stringify({ query: '{ __typename }' });
    const { raw } = await rawRequest(
      port(),
      `${head(PLAIN.length)}${PLAIN}${head(second.length).replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}${second}`,
    );
    const bodies = raw
      .split(/HTTP\/1\.1 /)
      .slice(1)
      .map((response) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as unknown);
    expect(bodies).toEqual([{ data: { device: { id: SEED_DEVICE_ID, modelName: 'Pico Ultimate' } } }, { data: { __typename: 'Query' } }]);
    expect(await laneServed(lane())).toBe(before + 2);
  });

  it('a client that disconnects before its answer: the upstream call is abandoned, as Yoga abandons it, and nothing is left behind', async () => {
    const body = JSON.stringify({ query: SMALL, variables: { id: HANGING_ID } });
    for (const h of [main.lane, main.yoga]) {
      h.standin.resetLog();
      const socket = connect(Number(h.url.port), '127.0.0.1', () => socket.write(`${head(body.length)}${body}`));
      socket.on('error', () => {});
      // The facade has asked Flatpeak and is waiting for it: now the client goes.
      await vi.waitFor(() => expect(h.standin.count(`/devices/${HANGING_ID}`)).toBe(1));
      socket.destroy();
      await vi.waitFor(() => expect(h.standin.aborted).toBe(1));
    }
    await stillServes();
  });

  it('a deferred part comes when it is ready, not held back for the last one, however the directive is spelt', async () => {
    for (const spacing of ['', ' ', '\n\t,']) {
      const body = JSON.stringify({ query: deferred(spacing, HANGING_ID) });
      // The first part, before Flatpeak has answered for the deferred device (it never will).
      const first = await new Promise<string>((resolve, reject) => {
        let received = '';
        const socket = connect(port(), '127.0.0.1', () =>
          socket.write(`${head(body.length).replace('\r\n\r\n', '\r\nAccept: multipart/mixed\r\n\r\n')}${body}`),
        );
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`no first part within 5 s for @${JSON.stringify(spacing)}defer; received: ${received}`));
        }, 5_000);
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString('utf8');
          if (!received.includes('"hasNext":true')) return;
          clearTimeout(timer);
          socket.destroy();
          resolve(received);
        });
        socket.on('error', () => {});
      });
      expect(first).toContain(`{"data":{"a":{"id":"${SEED_DEVICE_ID}"}},"hasNext":true}`);
      // Held back, the first part would come only with the last, at the request's deadline.
      expect(first).not.toContain('"hasNext":false');
    }
  });

  it('clients that hang up right after sending leave the server healthy', async () => {
    const before = await laneServed(lane());
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const body = JSON.stringify({ query: SMALL, variables: { id: i % 2 ? SEED_DEVICE_ID : FAILING_ID } });
        return new Promise<void>((resolve) => {
          const socket = connect(port(), '127.0.0.1', () => socket.end(`${head(body.length)}${body}`, () => socket.destroy()));
          socket.on('close', () => resolve());
          socket.on('error', () => {});
        });
      }),
    );
    // Each was answered by the lane or dropped unread, as the race went; never counted twice.
    expect(await laneServed(lane())).toBeLessThanOrEqual(before + 50);
    await stillServes();
  });
});
