import { connect } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed the connection without answering. */
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Everything the server sent, as sent. */
  readonly raw: string;
}

/**
 * Sends bytes exactly as given on a fresh connection and reads until the server closes it
 * (send `Connection: close`), for requests that fetch() refuses to make: malformed Host
 * headers, absolute-form targets, half-sent headers.
 */
export function rawRequest(port: number, request: string | Buffer, { endInput = false, timeoutMs = 5_000 } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; received: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`));
    }, timeoutMs);
    socket.on('connect', () => (endInput ? socket.end(request) : socket.write(request)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset after the answer is still an answer
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks)));
    });
  });
}

export function parseResponse(bytes: Buffer): RawResponse {
  const raw = bytes.toString('utf8');
  const end = bytes.indexOf('\r\n\r\n');
  if (!raw.startsWith('HTTP/') || end < 0) return { status: 0, headers: {}, body: '', raw };
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  let body = bytes.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: Number(statusLine!.split(' ')[1]), headers, body: body.toString('utf8'), raw };
}

function unchunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let rest = bytes;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    rest = rest.subarray(lineEnd + 2 + size + 2);
  }
}
