import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface AdmissionOptions {
  /** Requests this process works on at once (probes and scrapes aside); more are answered 503 at once. */
  readonly maxInFlight: number;
  /** Requests one connection may have waiting for their answers (HTTP/1.1 pipelining). */
  readonly maxPerConnection: number;
  /** Paths always admitted: an orchestrator must see its probes answered, busy or not. */
  readonly exempt: ReadonlySet<string>;
  readonly onRefused?: (reason: RefusalReason) => void;
}

export type RefusalReason = 'overloaded' | 'pipelining';

export interface Admission {
  /** `next`, behind the two limits. */
  wrap(next: RequestListener): RequestListener;
  /**
   * This request no longer counts against `maxInFlight`, though its response goes on: a
   * subscription, which lives as long as its client and has limits of its own.
   */
  release(response: ServerResponse): void;
  /** Requests counted now (for metrics and tests). */
  readonly inFlight: number;
}

const OVERLOADED = JSON.stringify({
  errors: [{ message: 'The service is answering as many requests as it can; try again in a moment.', extensions: { code: 'OVERLOADED' } }],
});

interface Connection {
  waiting: number;
  /** How to let go of each request still waiting on this connection. */
  readonly ends: Set<() => void>;
}

/**
 * Bounds on the requests in the process at once, so that no client can make it run out of
 * heap. Each request in flight holds tens of KB until its answer; Node stops reading a
 * connection only once the answers waiting to be written are large, so requests that wait
 * on Flatpeak cost nothing to send and would pile up without limit: thousands pipelined on
 * a few connections, or a connection each.
 *
 * A connection with more than `maxPerConnection` requests waiting is closed: no client of
 * this API pipelines that deep (browsers and HTTP/1.1 clients send one at a time), and a
 * 503 would wait behind all of them while the client keeps sending. Past `maxInFlight`,
 * a request is answered 503 with `OVERLOADED` and `Retry-After`, without being read.
 */
export function createAdmission({ maxInFlight, maxPerConnection, exempt, onRefused = () => {} }: AdmissionOptions): Admission {
  const connections = new WeakMap<Socket, Connection>();
  const counted = new WeakMap<ServerResponse, () => void>();
  let inFlight = 0;

  function connectionOf(socket: Socket): Connection {
    let connection = connections.get(socket);
    if (!connection) {
      const created: Connection = { waiting: 0, ends: new Set() };
      // A response queued behind another never emits 'close' when the client goes; its socket does.
      socket.once('close', () => {
        for (const end of created.ends) end();
      });
      connections.set(socket, created);
      connection = created;
    }
    return connection;
  }

  return {
    wrap(next) {
      return (request: IncomingMessage, response: ServerResponse) => {
        const connection = connectionOf(request.socket);
        if (connection.waiting >= maxPerConnection) {
          // The parser may hand over more requests of the same chunk: this one and those go unanswered.
          if (!request.socket.destroyed) onRefused('pipelining');
          request.socket.destroy();
          return;
        }
        let slot = false;
        const end = () => {
          if (!connection.ends.delete(end)) return;
          connection.waiting -= 1;
          release();
        };
        const release = () => {
          if (!slot) return;
          slot = false;
          inFlight -= 1;
        };
        // Every request waits on its connection, a refused one too: its 503 queues behind the others.
        connection.waiting += 1;
        connection.ends.add(end);
        response.once('close', end);
        if (!exempt.has(pathOf(request.url ?? '/'))) {
          if (inFlight >= maxInFlight) {
            onRefused('overloaded');
            response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', 'cache-control': 'no-store' });
            response.end(OVERLOADED);
            return;
          }
          slot = true;
          inFlight += 1;
          counted.set(response, release);
        }
        next(request, response);
      };
    },
    release(response) {
      counted.get(response)?.();
    },
    get inFlight() {
      return inFlight;
    },
  };
}

/** The path of an origin-form request target (the server refuses every other form). */
function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}
