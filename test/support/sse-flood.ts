import { connect, type Socket } from 'node:net';

/** What the server answered one subscription: its first event, while the connection stays open. */
export interface OpenedSubscription {
  readonly socket: Socket;
  /** `open` for a first `next` event carrying data; otherwise the first error's code (or `closed`). */
  readonly outcome: string;
}

/**
 * Opens one GraphQL subscription over SSE on a raw connection (a few hundred bytes of the
 * test's own memory per subscription, where a fetch() would hold a whole Response), and
 * resolves at its first event. The connection stays open until the caller destroys it.
 */
export function openSse(port: number, body: string, headers: Record<string, string> = {}): Promise<OpenedSubscription> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const settle = (outcome: string) => {
      if (settled) return;
      settled = true;
      socket.removeAllListeners('data');
      if (outcome !== 'open') socket.destroy();
      resolve({ socket, outcome });
    };
    const extra = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.on('connect', () =>
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n${extra}` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const data = /\ndata: (\{.*\})\n/.exec(text)?.[1];
      if (data !== undefined) {
        const event = JSON.parse(data) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> };
        settle(event.errors ? (event.errors[0]?.extensions?.code ?? 'error') : 'open');
      } else if (/^HTTP\/1\.1 [45]\d\d/.test(text) && text.includes('\r\n\r\n')) {
        settle(/"code":"([A-Z_]+)"/.exec(text)?.[1] ?? `HTTP ${text.slice(9, 12)}`);
      }
    });
    socket.on('error', () => settle('closed'));
    socket.on('close', () => settle('closed'));
  });
}

/** Opens `count` subscriptions, `concurrency` at a time; returns them in order. */
export async function openSseMany(
  port: number,
  count: number,
  body: (index: number) => string,
  { concurrency = 64, headers = {} }: { concurrency?: number; headers?: Record<string, string> } = {},
): Promise<OpenedSubscription[]> {
  const opened = new Array<OpenedSubscription>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        opened[index] = await openSse(port, body(index), headers);
      }
    }),
  );
  return opened;
}
