import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { GiveUpSignal } from '../request/lifetime.ts';

/** What came back: the final status, its headers, and the whole body as text. */
export interface Answer {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** Undefined when the body grew past the limit: it was not read further, and the connection was dropped. */
  readonly text: string | undefined;
}

export interface ExchangeOptions {
  /** Aborts the exchange: it then rejects with the signal's reason. */
  readonly signal: GiveUpSignal;
  /** Past this, connect to last byte, the exchange is aborted and rejects with `EXCHANGE_TIMED_OUT`. */
  readonly timeoutMs: number;
  /** A larger body is not buffered. */
  readonly maxBodyBytes: number;
  /** Told the final status as soon as it arrives, before the body (a trace span records it). */
  readonly onStatus?: ((statusCode: number) => void) | undefined;
}

const BODY_TOO_LARGE = new Error('the response body exceeds the limit');

/** What an exchange rejects with when its own time is up (one error for all: no stack is made per timeout). */
export const EXCHANGE_TIMED_OUT = new Error('the exchange timed out');

/**
 * One HTTP exchange through undici's `dispatch`, its handler API documented in
 * Dispatcher.md. `dispatcher.request` makes a body stream, an async resource and its
 * promises for every call, and adds its own listener to the signal; a handler that
 * collects the body's chunks does without them (docs/benchmarks.md has the figures).
 *
 * Undici hands the handler its controller only when the request is about to be written
 * to a connection. An abort before then (the request waits for a connection, or the
 * connect hangs) settles the exchange at once, so that its timeout and the caller's signal
 * hold whatever undici is doing; the request is then aborted before it is written, when
 * undici gets to it. (`dispatcher.request` only rejected then.)
 */
export function exchange(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, settings: ExchangeOptions): Promise<Answer> {
  if (settings.signal.aborted) return Promise.reject(reasonOf(settings.signal));
  return new Promise<Answer>((resolve, reject) => {
    const handler = new Exchange(settings, resolve, reject);
    try {
      dispatcher.dispatch(options, handler);
    } catch (error) {
      // Invalid options are refused synchronously by some dispatchers.
      handler.fail(error);
    }
  });
}

/**
 * The handler and its state in one object, its methods on the prototype: one allocation per
 * call where closures would make one per callback. It is also the signal's listener
 * (`handleEvent`), and the timer is given it as an argument.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private abortReason: Error | undefined;
  private settled = false;
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly signal: GiveUpSignal;
  private readonly maxBodyBytes: number;
  private readonly onStatus: ((statusCode: number) => void) | undefined;

  constructor(
    { signal, timeoutMs, maxBodyBytes, onStatus }: ExchangeOptions,
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.signal = signal;
    this.maxBodyBytes = maxBodyBytes;
    this.onStatus = onStatus;
    this.timer = Number.isFinite(timeoutMs) ? setTimeout(timeOut, timeoutMs, this) : undefined;
    signal.addEventListener('abort', this, { once: true });
  }

  abort(reason: Error): void {
    this.abortReason ??= reason;
    if (this.controller) this.controller.abort(reason);
    else this.fail(reason); // nothing is on the wire yet: onRequestStart aborts it there
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.abort(reasonOf(this.signal));
  }

  fail(error: unknown): void {
    if (this.finish()) this.reject(error);
  }

  /** True the first time: the exchange is over, and its timer and listener are let go. */
  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this);
    return true;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason !== undefined) controller.abort(this.abortReason);
  }

  onResponseStart(_: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>): void {
    // An informational (1xx) head is followed by the real one.
    this.statusCode = statusCode;
    this.headers = headers;
    if (statusCode >= 200) this.onStatus?.(statusCode);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.size += chunk.length;
    if (this.size > this.maxBodyBytes) {
      this.finish();
      this.chunks = [];
      controller.abort(BODY_TOO_LARGE);
      this.resolve({ statusCode: this.statusCode, headers: this.headers, text: undefined });
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    let text: string;
    try {
      text = decode(this.chunks);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.finish();
    this.resolve({ statusCode: this.statusCode, headers: this.headers, text });
  }

  onResponseError(_: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }
}

const timeOut = (exchange: Exchange) => exchange.abort(EXCHANGE_TIMED_OUT);

/** The body as UTF-8 text, without a byte-order mark (as undici's `body.text()` reads it). */
function decode(chunks: readonly Buffer[]): string {
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const bom = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
  return body.toString('utf8', bom ? 3 : 0);
}

/** Why `signal` aborted, as the Error undici's controller takes (an AbortController aborted without a reason has a DOMException, itself an Error). */
const reasonOf = (signal: GiveUpSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason });
