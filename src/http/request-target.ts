import type { IncomingMessage } from 'node:http';

// RFC 3986 host (reg-name, IPv4 or a bracketed IPv6 literal) and an optional port. The
// URL parse below catches what a pattern does not (a port above 65535, a bad IPv6).
const HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=%]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * Whether the request line and Host header make a URL: Yoga's Node adapter builds one
 * from them (`http://${host}${url}`) and answers a failure with HTTP 500 and the stack in
 * text/plain. Only the origin form (`/graphql?…`) is accepted: absolute-form targets are
 * for proxies, and this service is not one.
 */
export function hasValidTarget(request: IncomingMessage): boolean {
  const target = request.url ?? '';
  if (!target.startsWith('/')) return false;
  // Node keeps the first of several Host headers; HTTP has such a request refused.
  const hosts = request.headersDistinct.host;
  if (hosts === undefined) return true; // HTTP/1.0; Node already refuses an HTTP/1.1 request without one
  const host = hosts[0]!;
  if (hosts.length > 1 || !HOST.test(host)) return false;
  return URL.canParse(`http://${host}${target}`);
}
