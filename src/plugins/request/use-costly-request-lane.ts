import type { Plugin } from 'graphql-yoga';
import { LIMITS } from '../../limits.ts';

/**
 * Costly requests take turns: one per event-loop iteration, with the network polled in
 * between. Costly are a large body (before it is read and parsed) and a document the
 * service has not parsed and validated before (before it is). Parsing and validating a
 * document at the token limit takes ~10 ms of the only JavaScript thread; a few clients
 * sending such requests back to back would otherwise put every other request behind
 * theirs, several times over, as a request needs several iterations to be answered.
 * Known documents in ordinary bodies (the apps' operations, the router's plans) never wait,
 * so a flood of costly requests delays ordinary traffic by about one turn per iteration.
 */
export function useCostlyRequestLane(isKnown: (document: string) => boolean): Plugin {
  const turn = createTurns();
  return {
    onRequestParse({ request }) {
      const length = Number(request.headers.get('content-length') ?? Number.POSITIVE_INFINITY); // chunked: unknown, maybe large
      if (request.method === 'POST' && length > LIMITS.largeBodyBytes.value) return turn();
    },
    onParams({ params }) {
      if (typeof params.query !== 'string' || isKnown(params.query)) return;
      return turn();
    },
  };
}

/** Resolves the waiting turns in order, one per event-loop iteration. */
function createTurns(): () => Promise<void> {
  const waiting: Array<() => void> = [];
  let scheduled = false;
  const schedule = () => {
    if (scheduled || waiting.length === 0) return;
    scheduled = true;
    // An immediate queued by an immediate runs in the next iteration, after the poll phase.
    setImmediate(() => {
      scheduled = false;
      waiting.shift()!();
      schedule();
    });
  };
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      schedule();
    });
}
