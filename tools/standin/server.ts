import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_ACCOUNT_ID, type RawDevice, sampleDevices } from './data.ts';

/**
 * A Flatpeak stand-in: a real HTTP server on loopback that answers like Flatpeak
 * (`/login`, `/devices/{id}`, `/devices` with its cursor pagination, `POST /devices` and
 * `PATCH /devices/{id}` with their validation, Flatpeak's error object). A development
 * tool, never in dist/ or the image: `npm start` and `npm run dev` (tools/dev.ts) use it
 * when no FLATPEAK_API_URL is set; the tests and the benchmark use it with fault injection
 * and a log of every request it saw.
 */

export const DEMO_API_KEY = 'sk_standin_demo_key';

/** What the stand-in does instead of answering normally. */
export interface Fault {
  /** Answer with this status and Flatpeak's error object (or `body`). */
  readonly status?: number;
  readonly code?: string;
  readonly body?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long before answering. */
  readonly delayMs?: number;
  /** Never answer (until the stand-in closes). */
  readonly hang?: boolean;
  /** Destroy the connection without answering. */
  readonly reset?: boolean;
}

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** A write's JSON body, once read (undefined for GETs and unreadable bodies). */
  body?: unknown;
}

export type FaultRule = (request: SeenRequest) => Fault | undefined;

export interface StandinOptions {
  readonly port?: number;
  readonly host?: string;
  readonly accounts?: ReadonlyArray<{ accountId: string; apiKey: string }>;
  readonly devices?: readonly RawDevice[];
  /** Lifetime of issued tokens, in seconds (Flatpeak's is 3600). */
  readonly tokenTtlSeconds?: number;
  /** Accept any bearer token, not only those issued by `/login` (for pass-through callers). */
  readonly acceptAnyBearer?: boolean;
  /** Keep the request log (tests, bench); off for `npm start`, where it would only grow. */
  readonly logRequests?: boolean;
}

export interface Standin {
  readonly url: URL;
  /** Every request received, in arrival order. */
  readonly requests: readonly SeenRequest[];
  /** How many requests matched: a path prefix such as `/devices/` or `/login`. */
  count(pathPrefix?: string): number;
  /** The most requests that were ever in progress at once since the last reset. */
  readonly maxInFlight: number;
  /** Requests whose client closed the connection before the answer was sent. */
  readonly aborted: number;
  /** Forget the request log and the in-flight peak (not the tokens). */
  resetLog(): void;
  /** Decide per request whether to misbehave; `undefined` turns faults off. */
  setFault(rule: FaultRule | undefined): void;
  /** Hold every device request from now on until `release` is called (proves coalescing). */
  pause(): { release(): void };
  /** Hold the next `n` device requests until all `n` have arrived (proves concurrency). */
  holdUntilConcurrent(n: number, giveUpMs?: number): void;
  /** Make every token issued so far invalid, as a key rotation would. */
  revokeTokens(): void;
  /** The device as the stand-in holds it now (a copy), or undefined. */
  device(id: string): RawDevice | undefined;
  /** Changes a device behind the facade's back, as the device itself or another client would (e.g. a new `last_seen`). */
  modify(id: string, fields: Partial<RawDevice>): void;
  close(): Promise<void>;
}

export async function startStandin(options: StandinOptions = {}): Promise<Standin> {
  const accounts = options.accounts ?? [{ accountId: DEMO_ACCOUNT_ID, apiKey: DEMO_API_KEY }];
  const devices = [...(options.devices ?? sampleDevices())].sort((a, b) => b.time_created.localeCompare(a.time_created));
  const byId = new Map(devices.map((device) => [device.id, device]));
  const ttl = options.tokenTtlSeconds ?? 3600;
  const tokens = new Map<string, number>(); // token -> expiry (ms)
  // Idempotency-Key -> the first answer to it, replayed for a repeat of the same request.
  const idempotent = new Map<string, { request: string; status: number; body: unknown }>();

  const requests: SeenRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let aborted = 0;
  let faultRule: FaultRule | undefined;
  let hold: { remaining: number; waiting: Array<() => void>; timer?: NodeJS.Timeout } | undefined;

  const server = createServer((req, res) => {
    const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    if (options.logRequests !== false) requests.push(seen);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => {
      inFlight -= 1;
      if (!res.writableFinished) aborted += 1;
    });
    void handle(req, res, seen).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'api_error', 'internal_error', 'Stand-in failure');
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse, seen: SeenRequest): Promise<void> {
    const url = new URL(seen.path, 'http://standin');
    if (hold && url.pathname.startsWith('/devices/')) await waitForHold();

    const fault = faultRule?.(seen);
    if (fault) {
      if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault.hang) return; // the socket stays open until the client or close() ends it
      if (fault.reset) {
        req.socket.destroy();
        return;
      }
      if (fault.status) {
        if (fault.body !== undefined) {
          res.writeHead(fault.status, { 'content-type': fault.contentType ?? 'text/html', ...fault.headers });
          res.end(fault.body);
        } else {
          sendError(
            res,
            fault.status,
            fault.status >= 500 ? 'api_error' : 'invalid_request',
            fault.code ?? 'injected_fault',
            'Injected fault',
            fault.headers,
          );
        }
        return;
      }
    }

    const write =
      (seen.method === 'POST' && url.pathname === '/devices') || (seen.method === 'PATCH' && /^\/devices\/[^/]+$/.test(url.pathname));
    if (seen.method !== 'GET' && !write) return sendError(res, 405, 'invalid_request', 'method_not_allowed', 'Method not allowed here');
    if (url.pathname === '/login') return login(req, res);
    if (!authorized(req)) return sendError(res, 401, 'invalid_request', 'unauthorized', 'Invalid or expired bearer token');
    if (write) return writeDevice(req, res, seen, url);

    const match = /^\/devices\/([^/]+)$/.exec(url.pathname);
    if (match) {
      const id = decodeURIComponent(match[1]!);
      const device = byId.get(id);
      return device ? sendJson(res, 200, device) : sendError(res, 404, 'invalid_request', 'device_not_found', `No such device: ${id}`);
    }
    if (url.pathname === '/devices') return listDevices(url, res);
    return sendError(res, 404, 'invalid_request', 'not_found', 'Unknown endpoint');
  }

  function login(req: IncomingMessage, res: ServerResponse): void {
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const [accountId, apiKey] = scheme === 'Basic' && encoded ? Buffer.from(encoded, 'base64').toString().split(':') : [];
    const ok = accounts.some((account) => account.accountId === accountId && safeEqual(account.apiKey, apiKey ?? ''));
    if (!ok) return sendError(res, 401, 'invalid_request', 'invalid_credentials', 'Account ID or API key is not valid');
    const token = `eyJstandin.${randomBytes(24).toString('base64url')}`;
    tokens.set(token, Date.now() + ttl * 1000);
    sendJson(res, 200, { bearer_token: token, expires_in: ttl, live_mode: true });
  }

  function authorized(req: IncomingMessage): boolean {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!match) return false;
    if (options.acceptAnyBearer) return true;
    const expiry = tokens.get(match[1]!);
    return expiry !== undefined && expiry > Date.now();
  }

  /** POST /devices and PATCH /devices/{id}: Flatpeak's validation, its error object, and Idempotency-Key replay. */
  async function writeDevice(req: IncomingMessage, res: ServerResponse, seen: SeenRequest, url: URL): Promise<void> {
    const text = await readText(req, 64 * 1024);
    if (text === undefined) return sendError(res, 413, 'invalid_request', 'body_too_large', 'Request body is too large');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return sendError(res, 400, 'invalid_request', 'body_invalid', 'Request body is not valid JSON');
    }
    seen.body = body;
    const key = req.headers['idempotency-key'];
    const request = `${seen.method} ${url.pathname} ${text}`;
    if (typeof key === 'string') {
      const earlier = idempotent.get(key);
      if (earlier && earlier.request !== request) {
        return sendError(res, 409, 'invalid_request', 'idempotency_key_reused', 'This Idempotency-Key was used for another request');
      }
      if (earlier) return sendJson(res, earlier.status, earlier.body);
    }
    const [status, answer] = applyWrite(seen.method, url.pathname, body);
    if (typeof key === 'string' && status < 500) idempotent.set(key, { request, status, body: answer });
    sendJson(res, status, answer);
  }

  function applyWrite(method: string, pathname: string, body: unknown): [number, unknown] {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return [400, errorObject('invalid_request', 'body_invalid', 'Request body must be a JSON object')];
    }
    const fields = body as Record<string, unknown>;
    const problem = validateDeviceWrite(fields);
    if (problem) return [400, errorObject('invalid_request', problem[0], problem[1])];
    if (method === 'POST') {
      const device: RawDevice = {
        id: `dev_${randomBytes(12).toString('hex')}`,
        object: 'device',
        live_mode: true,
        reference_id: fields.reference_id as string,
        locations: fields.locations ?? [],
        manufacturer: fields.manufacturer ?? '',
        model_code: fields.model_code ?? '',
        model_name: fields.model_name ?? '',
        time_created: new Date().toISOString(),
        account_id: accounts[0]!.accountId,
        flex_enabled: true,
        ...(fields.type === undefined ? {} : { type: fields.type }),
        ...(fields.properties === undefined ? {} : { properties: fields.properties }),
      };
      devices.unshift(device); // newest first
      byId.set(device.id, device);
      return [200, device];
    }
    const id = decodeURIComponent(pathname.slice('/devices/'.length));
    const device = byId.get(id);
    if (!device) return [404, errorObject('invalid_request', 'device_not_found', `No such device: ${id}`)];
    for (const name of WRITABLE) if (fields[name] !== undefined) (device as Record<string, unknown>)[name] = fields[name];
    const { properties } = fields;
    if (properties !== undefined) device.properties = { ...(device.properties as object | undefined), ...(properties as object) };
    return [200, device];
  }

  function listDevices(url: URL, res: ServerResponse): void {
    const limitParam = url.searchParams.get('limit');
    const limit = limitParam === null ? 30 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return sendError(res, 400, 'invalid_request', 'limit_invalid', 'limit must be an integer from 1 to 100');
    }
    const referenceId = url.searchParams.get('reference_id');
    const pool = referenceId ? devices.filter((device) => device.reference_id === referenceId) : devices;
    const after = url.searchParams.get('starting_after');
    const before = url.searchParams.get('ending_before');
    let page: RawDevice[];
    if (after) {
      const index = pool.findIndex((device) => device.id === after);
      page = index < 0 ? [] : pool.slice(index + 1, index + 1 + limit);
    } else if (before) {
      const index = pool.findIndex((device) => device.id === before);
      page = index < 0 ? [] : pool.slice(Math.max(0, index - limit), index);
    } else {
      page = pool.slice(0, limit);
    }
    const last = page.at(-1);
    const hasMore = before ? pool.indexOf(page[0]!) > 0 : last !== undefined && pool.indexOf(last) < pool.length - 1;
    sendJson(res, 200, { object: 'list', url: '/devices', has_more: hasMore, data: page });
  }

  function waitForHold(): Promise<void> {
    const current = hold!;
    return new Promise((resolve) => {
      current.waiting.push(resolve);
      current.remaining -= 1;
      if (current.remaining <= 0) release();
    });
  }

  function release(): void {
    if (!hold) return;
    clearTimeout(hold.timer);
    for (const resolve of hold.waiting) resolve();
    hold = undefined;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: new URL(`http://${host}:${address.port}`),
    requests,
    count: (prefix = '') => requests.filter((request) => request.path.startsWith(prefix)).length,
    get maxInFlight() {
      return maxInFlight;
    },
    get aborted() {
      return aborted;
    },
    resetLog() {
      requests.length = 0;
      maxInFlight = inFlight;
      aborted = 0;
    },
    setFault(rule) {
      faultRule = rule;
    },
    pause() {
      release();
      // Never reached by count: only `release` (or close) lets the requests go.
      hold = { remaining: Number.POSITIVE_INFINITY, waiting: [] };
      return { release };
    },
    holdUntilConcurrent(n, giveUpMs = 5_000) {
      release();
      // Give up eventually so that a sequential caller fails its assertion instead of hanging.
      hold = { remaining: n, waiting: [], timer: setTimeout(release, giveUpMs) };
    },
    revokeTokens() {
      tokens.clear();
    },
    device(id) {
      const device = byId.get(id);
      return device && structuredClone(device);
    },
    modify(id, fields) {
      const device = byId.get(id);
      if (!device) throw new Error(`the stand-in has no device ${id}`);
      Object.assign(device, fields);
    },
    close() {
      release();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** What a PATCH may change; anything else in its body is ignored. */
const WRITABLE = ['reference_id', 'type', 'locations', 'manufacturer', 'model_code', 'model_name'] as const;
const DEVICE_TYPES = new Set(['EV_CHARGER', 'ELECTRIC_VEHICLE', 'BATTERY_SYSTEM', 'PV_SYSTEM', 'OTHER']);
const LOCATION_ID = /^loc_[A-Za-z0-9]+$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Flatpeak's checks on a device body, as `[code, message]` for the first problem. Both a
 * create and an update need `reference_id` (Flatpeak's update takes at least that).
 */
function validateDeviceWrite(fields: Record<string, unknown>): [string, string] | undefined {
  const { reference_id: referenceId, type, locations, properties } = fields;
  if (referenceId === undefined || referenceId === null || referenceId === '') return ['reference_id_missing', 'Reference ID is required'];
  if (typeof referenceId !== 'string' || referenceId.length > 255)
    return ['reference_id_invalid', 'Reference ID must be a string of at most 255 characters'];
  if (type !== undefined && !DEVICE_TYPES.has(type as string))
    return ['type_invalid', `Type must be one of ${[...DEVICE_TYPES].join(', ')}`];
  if (locations !== undefined && (!Array.isArray(locations) || !locations.every((id) => typeof id === 'string' && LOCATION_ID.test(id)))) {
    return ['locations_invalid', 'Locations must be a list of location IDs (loc_…)'];
  }
  for (const name of ['manufacturer', 'model_code', 'model_name'] as const) {
    const value = fields[name];
    if (value !== undefined && (typeof value !== 'string' || value.length > 255))
      return [`${name}_invalid`, `${name} must be a string of at most 255 characters`];
  }
  if (properties === undefined) return undefined;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties))
    return ['properties_invalid', 'Properties must be an object'];
  const p = properties as Record<string, unknown>;
  const ranges: Record<string, [number, number]> = {
    power_rating_import_kwh: [0, Number.MAX_VALUE],
    power_rating_export_kwh: [0, Number.MAX_VALUE],
    capacity_kwh: [0, Number.MAX_VALUE],
    pv_azimuth: [0, 360],
    pv_tilt: [0, 90],
  };
  for (const [name, [min, max]] of Object.entries(ranges)) {
    const value = p[name];
    if (value !== undefined && (typeof value !== 'number' || value < min || value > max))
      return [`${name}_invalid`, `${name} must be a number from ${min} to ${max}`];
  }
  for (const name of ['pv_terrain_shading', 'pv_forecasts_enabled']) {
    if (p[name] !== undefined && typeof p[name] !== 'boolean') return [`${name}_invalid`, `${name} must be true or false`];
  }
  if (p.install_date !== undefined && (typeof p.install_date !== 'string' || !ISO_DATE_TIME.test(p.install_date))) {
    return ['install_date_invalid', 'Install date must be an ISO 8601 date-time'];
  }
  return undefined;
}

/** The request body as text, or undefined when it exceeds `limit`. */
async function readText(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function errorObject(type: string, code: string, message: string) {
  return { object: 'error', live_mode: false, context: 'api.standin', type, code, message, time_created: new Date().toISOString() };
}

function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  code: string,
  message: string,
  headers?: Readonly<Record<string, string>>,
): void {
  sendJson(res, status, errorObject(type, code, message), headers);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
