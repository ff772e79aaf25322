/**
 * How both floors meet HTTP: a JSON body read whole and answered 200 with JSON (an error
 * as `{"errors":[…]}`), and the start-up line the bench waits for. Environment as the
 * Apollo baseline's: PORT; `{"msg":"listening"}` once it listens.
 */
import type { IncomingMessage, RequestListener, Server } from 'node:http';

/** A listener that hands each request's body to `answer` and sends what it resolves to as JSON. */
export function serveJson(answer: (body: string, req: IncomingMessage) => Promise<unknown>): RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void answer(Buffer.concat(chunks).toString(), req)
        .catch((error: unknown) => ({ errors: [{ message: String(error) }] }))
        .then((result) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result)));
    });
  };
}

/** Listens on PORT and says so as the bench waits for it; exits at once on a signal. */
export function listen(server: Server): void {
  const port = Number(process.env.PORT ?? 4000);
  server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}/` })));
  // Nothing to drain: the bench stops a server only after its last run has been answered.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
}
