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
  let buffer = '';
  let pings = 0;
  let completed = false;
  let done = false;

  async function nextBlock(): Promise<string | undefined> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return block;
      }
      if (done) return undefined;
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) done = true;
      else buffer += chunk.value;
    }
  }

  return {
    async next() {
      for (;;) {
        const block = await nextBlock();
        if (block === undefined) return undefined;
        const lines = block.split('\n');
        if (lines.every((line) => line.startsWith(':'))) {
          pings += 1;
          continue;
        }
        const event = lines.find((line) => line.startsWith('event:'))?.slice(6).trim() ?? 'message';
        const data = lines
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (event === 'complete') {
          completed = true;
          return undefined;
        }
        if (data) return JSON.parse(data) as Record<string, any>;
      }
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
