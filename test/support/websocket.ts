import { once } from 'node:events';
import { WebSocket } from 'ws';

/** A message of the protocol, as the server sent it (tests look into its payload freely). */
export type Message = Record<string, any>;

/** A graphql-transport-ws connection driven message by message, to see exactly what the server sends. */
export interface RawSocket {
  readonly socket: WebSocket;
  send(message: Record<string, unknown>): void;
  /** The next message from the server (parsed), or undefined once the socket has closed. */
  next(): Promise<Message | undefined>;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** WebSocket ping frames received so far. */
  readonly pings: number;
}

export async function openRawSocket(
  url: URL | string,
  { headers = {}, autoPong = true }: { headers?: Record<string, string>; autoPong?: boolean } = {},
): Promise<RawSocket> {
  const socket = new WebSocket(String(url).replace(/^http/, 'ws'), 'graphql-transport-ws', { headers, autoPong });
  const messages: Array<Message | undefined> = [];
  const waiters: Array<(message: Message | undefined) => void> = [];
  let pings = 0;
  const deliver = (message: Message | undefined) => {
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  };
  socket.on('message', (data) => deliver(JSON.parse((data as Buffer).toString('utf8')) as Message));
  socket.on('ping', () => {
    pings += 1;
  });
  const closed = once(socket, 'close').then(([code, reason]) => {
    deliver(undefined);
    for (const waiter of waiters.splice(0)) waiter(undefined);
    return { code: code as number, reason: String(reason) };
  });
  await once(socket, 'open');
  return {
    socket,
    send: (message) => socket.send(JSON.stringify(message)),
    next: () => (messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiters.push(resolve))),
    closed,
    get pings() {
      return pings;
    },
  };
}

/** Opens a socket, sends connection_init (with `payload`) and waits for the ack. */
export async function connectRaw(
  url: URL | string,
  payload?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<RawSocket> {
  const raw = await openRawSocket(url, { headers });
  raw.send({ type: 'connection_init', ...(payload ? { payload } : {}) });
  const ack = await raw.next();
  if (ack?.type !== 'connection_ack') throw new Error(`no connection_ack: ${JSON.stringify(ack)} ${JSON.stringify(await raw.closed)}`);
  return raw;
}
