/**
 * Reads a `multipart/mixed` GraphQL response (incremental delivery) part by part, as it
 * arrives: each call to `next()` waits only for the next complete part.
 */
export interface MultipartReader {
  next(): Promise<Record<string, unknown> | undefined>;
  cancel(): Promise<void>;
}

export function readMultipart(response: Response): MultipartReader {
  const contentType = response.headers.get('content-type') ?? '';
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!contentType.startsWith('multipart/mixed') || !boundary) throw new Error(`not a multipart response: ${contentType}`);
  const delimiter = `\r\n--${boundary}`;
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  // A leading CRLF lets the first delimiter match like the others.
  let buffer = '\r\n';
  let done = false;

  return {
    async next() {
      for (;;) {
        const start = buffer.indexOf(delimiter);
        const end = start === -1 ? -1 : buffer.indexOf(delimiter, start + delimiter.length);
        if (end !== -1) {
          const part = buffer.slice(start + delimiter.length, end);
          buffer = buffer.slice(end);
          const bodyStart = part.indexOf('\r\n\r\n');
          if (bodyStart !== -1) return JSON.parse(part.slice(bodyStart + 4)) as Record<string, unknown>;
          continue;
        }
        if (done) return undefined;
        const chunk = await reader.read();
        if (chunk.done) done = true;
        else buffer += chunk.value;
      }
    },
    cancel: () => reader.cancel(),
  };
}
