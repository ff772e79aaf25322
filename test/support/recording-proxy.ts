import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a gateway sent to a subgraph, as it came over the wire. */
export interface RecordedRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The GraphQL body, parsed (POST), or undefined. */
  readonly body: { query?: string; variables?: Record<string, unknown> } | undefined;
}

export interface RecordingProxy {
  /** Where the gateway is told the subgraph is (the same path as the target's). */
  readonly url: URL;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of one subgraph: it records every request a gateway in
 * another process sends (to count them, see their headers) and streams the answer back as
 * it comes (so SSE passes through).
 */
export async function startRecordingProxy(target: URL): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: RecordedRequest['body'];
      try {
        body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as RecordedRequest['body']) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({ method: req.method ?? '', headers: req.headers, body });
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      upstream.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}${target.pathname}`),
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
