import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The router's side of Apollo's HTTP callback protocol (callback/1.0), written from the
 * published protocol ("HTTP Callback Protocol for GraphQL Subscriptions", Apollo Router
 * docs), not from any implementation:
 *
 * - the router POSTs the subscription with `Accept: application/json;callbackSpec=1.0` and
 *   `extensions.subscription` = { callbackUrl, subscriptionId, verifier, heartbeatIntervalMs };
 * - every message to the callback URL is a POST with `subscription-protocol: callback/1.0`
 *   and a JSON body { kind: "subscription", action, id, verifier, payload?, errors? };
 * - action `check` (before the subgraph answers, then every heartbeatIntervalMs): 204, empty
 *   body, `subscription-protocol: callback/1.0`; `next` carries `payload`; `complete` ends
 *   the subscription, with `errors` if it failed;
 * - an unknown action or kind, or a wrong verifier: an error (4xx); an id that is not an
 *   active subscription (never was, completed, or terminated by the router): 404.
 */
export interface CallbackMessage {
  readonly kind: string;
  readonly action: 'check' | 'next' | 'complete';
  readonly id: string;
  readonly verifier: string;
  readonly payload?: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  readonly errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

interface Subscription {
  readonly id: string;
  readonly verifier: string;
  readonly messages: CallbackMessage[];
  readonly waiters: Array<() => void>;
  /** Answers 404 from now on, as a router that has ended the subscription does. */
  terminated: boolean;
  completed: boolean;
  /** The receiver refuses the check (a router that does not know this verifier, say). */
  refuseCheck: boolean;
}

export interface RouterSubscription {
  readonly id: string;
  readonly callbackUrl: string;
  /** The router's POST to the subgraph: its status and body. */
  readonly response: {
    status: number;
    body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  };
  /** Every valid message received for this subscription, in order. */
  readonly messages: readonly CallbackMessage[];
  /** The next message of `action` after the `after`th message (index), waiting for it. */
  waitFor(action: CallbackMessage['action'], count?: number): Promise<CallbackMessage>;
  /** Ends the subscription on the router's side: later callbacks get 404. */
  terminate(): void;
  readonly checks: number;
}

export interface CallbackReceiver {
  /** The callback endpoint's prefix (for SUBSCRIPTION_CALLBACK_URLS). */
  readonly url: URL;
  /** Requests that were not valid protocol messages, with the status they were answered. */
  readonly rejected: Array<{ status: number; reason: string }>;
  /** Every request received, valid or not. */
  readonly requests: number;
  /** Sends a subscription to `subgraph` as the router does, and returns once the subgraph has answered. */
  subscribe(
    subgraph: URL | string,
    query: string,
    variables: Record<string, unknown>,
    options?: { headers?: Record<string, string>; heartbeatIntervalMs?: number; refuseCheck?: boolean; callbackUrl?: string },
  ): Promise<RouterSubscription>;
  close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const subscriptions = new Map<string, Subscription>();
  const rejected: Array<{ status: number; reason: string }> = [];
  let requests = 0;

  const server: Server = createServer((req, res) => {
    requests += 1;
    void readBody(req).then((text) => {
      const refuse = (status: number, reason: string) => {
        rejected.push({ status, reason });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
      };
      if (req.method !== 'POST') return refuse(405, 'POST only');
      if (req.headers['subscription-protocol'] !== 'callback/1.0') return refuse(400, 'missing subscription-protocol: callback/1.0');
      let message: CallbackMessage;
      try {
        message = JSON.parse(text) as CallbackMessage;
      } catch {
        return refuse(400, 'not JSON');
      }
      if (message.kind !== 'subscription') return refuse(400, `unknown kind ${message.kind}`);
      if (!['check', 'next', 'complete'].includes(message.action)) return refuse(400, `unknown action ${message.action}`);
      const subscription = subscriptions.get(message.id);
      // The callback URL names the subscription too: its last path segment is the id.
      if (!subscription || req.url !== `/callback/${message.id}` || subscription.terminated || subscription.completed) {
        return refuse(404, 'no such active subscription');
      }
      if (message.verifier !== subscription.verifier) return refuse(400, 'wrong verifier');
      if (message.action === 'check' && subscription.refuseCheck) return refuse(400, 'check refused');
      subscription.messages.push(message);
      for (const waiter of subscription.waiters.splice(0)) waiter();
      if (message.action === 'complete') subscription.completed = true;
      if (message.action === 'check') res.writeHead(204, { 'subscription-protocol': 'callback/1.0' }).end();
      else res.writeHead(200, { 'subscription-protocol': 'callback/1.0' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = new URL(`http://127.0.0.1:${port}/callback/`);

  return {
    url: base,
    rejected,
    get requests() {
      return requests;
    },
    async subscribe(subgraph, query, variables, { headers = {}, heartbeatIntervalMs = 5_000, refuseCheck = false, callbackUrl } = {}) {
      const id = randomUUID();
      const subscription: Subscription = {
        id,
        verifier: randomUUID(),
        messages: [],
        waiters: [],
        terminated: false,
        completed: false,
        refuseCheck,
      };
      subscriptions.set(id, subscription);
      const url = callbackUrl ?? new URL(id, base).href;
      const response = await fetch(subgraph, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json;callbackSpec=1.0', ...headers },
        body: JSON.stringify({
          query,
          variables,
          extensions: { subscription: { callbackUrl: url, subscriptionId: id, verifier: subscription.verifier, heartbeatIntervalMs } },
        }),
      });
      const body = (await response.json()) as RouterSubscription['response']['body'];
      return {
        id,
        callbackUrl: url,
        response: { status: response.status, body },
        messages: subscription.messages,
        get checks() {
          return subscription.messages.filter((message) => message.action === 'check').length;
        },
        async waitFor(action, count = 1) {
          for (;;) {
            const found = subscription.messages.filter((message) => message.action === action);
            if (found.length >= count) return found[count - 1]!;
            await new Promise<void>((resolve) => subscription.waiters.push(resolve));
          }
        },
        terminate() {
          subscription.terminated = true;
        },
      };
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
