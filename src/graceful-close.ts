import type { Server, ServerResponse } from 'node:http';
import { InFlightList } from './in-flight-list.ts';

/**
 * Graceful close for a Node HTTP server. `server.close()` stops accepting and drops idle
 * keep-alive connections, but a connection that becomes idle after its last response
 * would linger for the keep-alive timeout: responses still in flight are therefore told
 * to close their connection when they finish. Past the grace period, everything closes.
 */
export function gracefulCloser(server: Server): (graceMs: number, onGraceOver?: () => void) => Promise<void> {
  const inFlight = new InFlightList<ServerResponse>();
  let closing = false;
  server.on('request', (_request, response: ServerResponse) => {
    if (closing) response.shouldKeepAlive = false;
    const member = inFlight.add(response);
    response.on('close', () => member.remove());
  });

  return async (graceMs, onGraceOver) => {
    closing = true;
    for (const response of inFlight) if (!response.headersSent) response.shouldKeepAlive = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const grace = setTimeout(() => {
      onGraceOver?.();
      server.closeAllConnections();
    }, graceMs);
    await closed;
    clearTimeout(grace);
  };
}
