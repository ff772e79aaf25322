import { Agent } from 'undici';
import type { UpstreamSettings } from '../config.ts';

/**
 * The one connection pool to Flatpeak, created at start-up and passed to the client.
 * undici's defaults wait up to 300 s for headers and body; a facade that waits that long
 * holds its own callers hostage, so every timeout is tightened and connections are bounded.
 */
export function createDispatcher(settings: UpstreamSettings): Agent {
  return new Agent({
    connections: settings.maxConnections,
    connectTimeout: settings.connectTimeoutMs,
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyTimeoutMs,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    keepAliveMaxTimeout: Math.max(settings.keepAliveTimeoutMs, 60_000),
    pipelining: 1,
  });
}
