import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { InFlightList, type Member } from '../in-flight-list.ts';

export interface AdmissionOptions {
  /** GraphQL operations worked on at once; more are refused (`admit` says no). */
  readonly maxInFlight: number;
  /** Requests one connection may have waiting for their answers (HTTP/1.1 pipelining). */
  readonly maxPerConnection: number;
  /**
   * Bytes of answers written but not yet taken by the clients' connections, all together;
   * past it, the connections with the most waiting for them are closed.
   */
  readonly maxUnsentBytes: number;
  readonly onRefused?: (reason: RefusalReason) => void;
}

export type RefusalReason = 'overloaded' | 'pipelining' | 'slow-reader';

export interface Admission {
  /** `next`, behind the connection limit, with each response tracked until it ends. */
  wrap(next: RequestListener): RequestListener;
  /**
   * Whether the operation of this response may run: false past `maxInFlight`. Asked once its
   * parameters are read, not when its headers arrive: a client trickling in the bodies of
   * many requests must not hold the places of everyone else's.
   */
  admit(response: ServerResponse): boolean;
  /**
   * This response no longer counts, though it goes on: a subscription, which lives as long
   * as its client and has limits of its own.
   */
  release(response: ServerResponse): void;
  /** Operations counted now (for metrics and tests). */
  readonly inFlight: number;
}

/** How often the unsent answers are added up while requests are being answered. */
const UNSENT_CHECK_MS = 250;

interface Connection {
  /** How to let go of each request still waiting on this connection. */
  readonly ends: InFlightList<() => void>;
}

interface Tracked {
  counted: boolean;
}

/**
 * Bounds on the requests in the process at once, so that no client can make it run out of
 * heap. An operation waiting on Flatpeak holds tens of KB until its answer; Node stops
 * reading a connection only once the answers waiting to be written are large, so requests
 * that wait on Flatpeak cost nothing to send and would pile up without limit: thousands
 * pipelined on a few connections, or a connection each.
 *
 * A connection's requests are answered one after the other, as HTTP/1.1 sends them back:
 * the next one starts when Node hands it the connection, once the answer before it is
 * complete, and never if the connection closes first (the client left, or an answer before
 * it closed the connection). So a client that pipelines requests and reads no answer holds
 * one answer in memory and one place, not one each; and requests pipelined behind a
 * subscription, which never completes, never start. A connection with more than
 * `maxPerConnection` requests waiting is closed: no client of this API pipelines that deep
 * (browsers and HTTP/1.1 clients send one at a time).
 *
 * Answers that their clients do not take stay in the heap (a stalled connection is closed
 * only after `HTTP_TIMEOUTS.stalledMs`). Past `maxUnsentBytes` of them, the connections
 * with the most waiting are closed at once, checked every `UNSENT_CHECK_MS` while any
 * request is being answered.
 */
export function createAdmission({ maxInFlight, maxPerConnection, maxUnsentBytes, onRefused = () => {} }: AdmissionOptions): Admission {
  const connections = new WeakMap<Socket, Connection>();
  const tracked = new WeakMap<ServerResponse, Tracked>();
  /** Responses being answered now (at most one per connection). */
  const answering = new InFlightList<ServerResponse>();
  let checking: NodeJS.Timeout | undefined;
  let inFlight = 0;

  function checkUnsent(): void {
    checking = undefined;
    let unsent = 0;
    for (const response of answering) unsent += response.writableLength;
    if (unsent > maxUnsentBytes) {
      for (const response of [...answering].sort((a, b) => b.writableLength - a.writableLength)) {
        if (unsent <= maxUnsentBytes) break;
        unsent -= response.writableLength;
        onRefused('slow-reader');
        response.socket?.destroy();
      }
    }
    if (answering.size > 0) watchUnsent();
  }

  function watchUnsent(): void {
    checking ??= setTimeout(checkUnsent, UNSENT_CHECK_MS).unref();
  }

  function connectionOf(socket: Socket): Connection {
    let connection = connections.get(socket);
    if (!connection) {
      const created: Connection = { ends: new InFlightList() };
      // A response queued behind another never emits 'close' when the client goes; its socket does.
      socket.once('close', () => {
        for (const end of created.ends) end();
      });
      connections.set(socket, created);
      connection = created;
    }
    return connection;
  }

  function uncount(entry: Tracked): void {
    if (!entry.counted) return;
    entry.counted = false;
    inFlight -= 1;
  }

  return {
    wrap(next) {
      return (request: IncomingMessage, response: ServerResponse) => {
        const connection = connectionOf(request.socket);
        if (connection.ends.size >= maxPerConnection) {
          // The parser may hand over more requests of the same chunk: this one and those go unanswered.
          if (!request.socket.destroyed) onRefused('pipelining');
          request.socket.destroy();
          return;
        }
        const entry: Tracked = { counted: false };
        let answered: Member<ServerResponse> | undefined;
        // Runs on the response's close and on its connection's, whichever comes first; each
        // step is a no-op the second time.
        const end = () => {
          waiting.remove();
          uncount(entry);
          // Deleted now, not left for the collector: such entries cost every scavenge (docs/benchmarks.md, "What survives a scavenge").
          tracked.delete(response);
          answered?.remove();
          response.removeListener('socket', start);
        };
        const start = () => {
          answered = answering.add(response);
          watchUnsent();
          next(request, response);
        };
        const waiting = connection.ends.add(end);
        tracked.set(response, entry);
        response.once('close', end);
        // Node gives a pipelined response the connection when the one before it is done.
        if (response.socket) start();
        else response.once('socket', start);
      };
    },
    admit(response) {
      const entry = tracked.get(response);
      // Not behind `wrap` (an app served otherwise) or its response closed (the entry is gone
      // then), or already in: nothing to count.
      if (!entry || entry.counted) return true;
      if (inFlight >= maxInFlight) {
        onRefused('overloaded');
        return false;
      }
      entry.counted = true;
      inFlight += 1;
      return true;
    },
    release(response) {
      const entry = tracked.get(response);
      if (entry) uncount(entry);
    },
    get inFlight() {
      return inFlight;
    },
  };
}
