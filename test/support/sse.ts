/**
 * A GraphQL subscription over Server-Sent Events (GraphQL over SSE, "distinct connections"
 * mode, as Yoga serves it), read event by event from a real HTTP response.
 */
export interface SseSubscription {
  /** The next `next` event's payload; undefined once the stream has completed or closed. */
  next(): Promise<Record<string, any> | undefined>;
  /** `:` comment lines (keep-alive pings) seen so far. */
  readonly pings: number;
  /** True once the server sent `event: complete`. */
  readonly completed: boolean;
  /** Disconnects, as a client that goes away does. */
  close(): void;
}

export async function subscribeSse(
  url: URL | string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  extensions?: Record<string, unknown>,
): Promise<SseSubscription> {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ ...(query ? { query } : {}), variables, ...(extensions ? { extensions } : {}) }),
    signal: controller.signal,
  });
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    throw new Error(`not an event stream: HTTP ${response.status} ${response.headers.get('content-type')} ${await response.text()}`);
  }
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  // Read as the data arrives, like a browser's EventSource: pings are counted even while the
  // test is not waiting for an event (Yoga skips pings a client does not read).
  const events: Array<Record<string, any> | undefined> = [];
  const waiters: Array<(event: Record<string, any> | undefined) => void> = [];
  let pings = 0;
  let completed = false;
  let ended = false;
  const deliver = (event: Record<string, any> | undefined) => {
    const waiter = waiters.shift();
    if (waiter) waiter(event);
    else events.push(event);
  };
  const finish = () => {
    if (ended) return;
    ended = true;
    deliver(undefined);
    for (const waiter of waiters.splice(0)) waiter(undefined);
  };
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += chunk.value;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const lines = buffer.slice(0, end).split('\n');
          buffer = buffer.slice(end + 2);
          if (lines.every((line) => line.startsWith(':'))) {
            pings += 1;
            continue;
          }
          const event =
            lines
              .find((line) => line.startsWith('event:'))
              ?.slice(6)
              .trim() ?? 'message';
          const data = lines
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
          if (event === 'complete') completed = true;
          else if (data) deliver(JSON.parse(data) as Record<string, any>);
        }
      }
    } catch {
      // disconnected
    }
    finish();
  })();

  return {
    next() {
      if (events.length > 0) return Promise.resolve(events.shift());
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push(resolve));
    },
    get pings() {
      return pings;
    },
    get completed() {
      return completed;
    },
    close() {
      controller.abort();
      reader.cancel().catch(() => {});
    },
  };
}
