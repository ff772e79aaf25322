import { GraphQLError } from 'graphql';
import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';

type RequestParser = Parameters<Parameters<NonNullable<Plugin['onRequestParse']>>[0]['setRequestParser']>[0];

// Not `spec: true`: that would make it a 200 for `Accept: application/json`, where GraphQL
// over HTTP has a request that is not JSON answered 400 (as Yoga answers a bad POST body).
const badRequest = (message: string) => createGraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });

const notJson = () =>
  createGraphQLError('Send POST bodies as application/json: {"query": …, "variables": …}.', {
    extensions: { code: 'BAD_REQUEST', http: { status: 415 } },
  });

// Yoga reads a compressed body as if it were not: gzip would be "invalid JSON", a body
// merely labelled gzip would run. Requests are small; none needs compressing.
const encoded = () =>
  createGraphQLError('Send POST bodies without a Content-Encoding.', { extensions: { code: 'BAD_REQUEST', http: { status: 415 } } });

/**
 * How a request becomes GraphQL parameters, stricter than Yoga's defaults:
 *
 * - POST bodies only as `application/json`. Browsers send form, multipart and text/plain
 *   bodies cross-site without asking (no CORS preflight), so any web page could make a
 *   visitor's browser run operations here; nothing this service offers needs them.
 *   GET stays as GraphQL over HTTP has it (queries only; Yoga refuses a mutation over
 *   GET), for persisted-query GETs that CDNs cache. A cross-site GET cannot read the
 *   answer (CORS) and changes nothing.
 * - `variables` and `extensions` of a GET that are not JSON are the caller's mistake
 *   (400), as they are in a POST body, not an unexpected error (500).
 * - A body that is not JSON gets a fixed message: Yoga's echoes the parser's message,
 *   which quotes the body back.
 *
 * Yoga's body-size limit wraps whichever parser this leaves in place.
 */
export function useStrictRequestParsing(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (request.method === 'GET') {
        setRequestParser(parseGet);
        return;
      }
      if (request.method !== 'POST') return;
      if (!isJson(request.headers.get('content-type')) || !requestParser) {
        setRequestParser(() => {
          throw notJson();
        });
        return;
      }
      const coding = request.headers.get('content-encoding')?.trim().toLowerCase();
      if (coding && coding !== 'identity') {
        setRequestParser(() => {
          throw encoded();
        });
        return;
      }
      setRequestParser(withFixedJsonError(requestParser));
    },
  };
}

function isJson(contentType: string | null): boolean {
  return contentType?.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

function parseGet(request: Request): GraphQLParams {
  const search = new URL(request.url).searchParams;
  return {
    operationName: search.get('operationName') || undefined,
    query: search.get('query') || undefined,
    variables: jsonParameter(search, 'variables'),
    extensions: jsonParameter(search, 'extensions'),
  };
}

function jsonParameter(search: URLSearchParams, name: string): Record<string, unknown> | undefined {
  const text = search.get(name);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw badRequest(`The ${name} parameter is not valid JSON.`);
  }
}

function withFixedJsonError(parse: RequestParser): RequestParser {
  return async (request) => {
    try {
      return await parse(request);
    } catch (error) {
      if (error instanceof GraphQLError && error.extensions.originalError !== undefined) throw badRequest('POST body sent invalid JSON.');
      throw error;
    }
  };
}
