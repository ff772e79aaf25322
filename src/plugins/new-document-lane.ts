import type { Plugin } from 'graphql-yoga';

/**
 * Requests whose document the service has not parsed and validated before take turns: one
 * per event-loop iteration, with the network polled in between. Parsing and validating a
 * document at the token limit takes ~10 ms of the only JavaScript thread; a few clients
 * sending new documents back to back would otherwise put every other request behind
 * theirs. Known documents (the apps' operations, the router's plans) never wait here, so
 * a flood of new documents delays ordinary traffic by one such turn, not by the flood.
 */
export function useNewDocumentLane(isKnown: (document: string) => boolean): Plugin {
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
  return {
    onParams({ params }) {
      if (typeof params.query !== 'string' || isKnown(params.query)) return;
      return new Promise<void>((resolve) => {
        waiting.push(resolve);
        schedule();
      });
    },
  };
}
