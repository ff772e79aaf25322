import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { problemsOf } from '../support/config.ts';

/** The one variable without a default: where Flatpeak is. */
const FLATPEAK = { FLATPEAK_API_URL: 'https://api.flatpeak.com' };

describe('loadConfig', () => {
  it('has defaults for everything but FLATPEAK_API_URL: port 4000, pass-through, not the stand-in', () => {
    const config = loadConfig(FLATPEAK);
    expect(config).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      logLevel: 'info',
      flatpeakApiUrl: new URL('https://api.flatpeak.com'),
      standin: false,
      serviceCredentials: undefined,
    });
    expect(config.upstream).toEqual({
      connectTimeoutMs: 2_000,
      headersTimeoutMs: 5_000,
      bodyTimeoutMs: 5_000,
      keepAliveTimeoutMs: 30_000,
      maxConnections: 256,
      maxConcurrent: 256,
      maxQueue: 4_096,
      maxCallsPerRequest: 64,
      attemptTimeoutMs: 4_000,
      maxRetries: 2,
      retryBudgetRatio: 0.2,
      breakerFailureRatio: 0.5,
      breakerWindowMs: 10_000,
      breakerMinCalls: 20,
      breakerOutageFailures: 50,
      breakerOutageMs: 1_000,
      breakerCooldownMs: 5_000,
    });
    expect(config).toMatchObject({
      corsOrigins: [],
      maxDevicesPerRequest: 200,
      requestDeadlineMs: 10_000,
      flatpeakProbeIntervalMs: 5_000,
      shutdownDelayMs: 0,
      shutdownGraceMs: 15_000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      FLATPEAK_API_URL: 'https://api.flatpeak.com',
      FLATPEAK_ACCOUNT_ID: 'acc_661677911f2197045e6cf1b1',
      FLATPEAK_API_KEY: 'sk_live_x',
      CALLER_AUTH: 'none',
      FLATPEAK_MAX_CONNECTIONS: '8',
      FLATPEAK_HEADERS_TIMEOUT_MS: '1500',
      FLATPEAK_BREAKER_OUTAGE_FAILURES: '20',
      FLATPEAK_BREAKER_OUTAGE_MS: '500',
      FLATPEAK_PROBE_INTERVAL_MS: '2000',
    });
    expect(config.port).toBe(8080);
    expect(config.flatpeakApiUrl?.href).toBe('https://api.flatpeak.com/');
    expect(config.serviceCredentials).toEqual({ accountId: 'acc_661677911f2197045e6cf1b1', apiKey: 'sk_live_x' });
    expect(config.upstream.maxConnections).toBe(8);
    expect(config.upstream.headersTimeoutMs).toBe(1500);
    expect(config.upstream).toMatchObject({ breakerOutageFailures: 20, breakerOutageMs: 500 });
    expect(config.flatpeakProbeIntervalMs).toBe(2000);
  });

  it('wants https for Flatpeak unless it is on this machine', () => {
    expect(problemsOf({ FLATPEAK_API_URL: 'http://api.flatpeak.com' })).toEqual([
      'FLATPEAK_API_URL: must be https unless it points at this machine (localhost, 127.x.x.x, [::1]) (got "http://api.flatpeak.com")',
    ]);
    for (const url of ['https://api.flatpeak.com', 'http://127.0.0.1:8080', 'http://localhost:1', 'http://[::1]:2']) {
      expect(loadConfig({ FLATPEAK_API_URL: url }).flatpeakApiUrl?.href).toBe(new URL(url).href);
    }
  });

  it('reads CORS_ORIGINS as a list of origins', () => {
    expect(loadConfig({ ...FLATPEAK, CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:3000',
    ]);
    expect(problemsOf({ ...FLATPEAK, CORS_ORIGINS: 'a.example/path' })[0]).toMatch(
      /^CORS_ORIGINS: must be a comma-separated list of origins/,
    );
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ ...FLATPEAK, PORT: '', LOG_LEVEL: '' }).port).toBe(4000);
    expect(problemsOf({ FLATPEAK_API_URL: '' })).toEqual([expect.stringMatching(/^FLATPEAK_API_URL: must be set/)]);
  });

  it('lists every bad variable at once, by name', () => {
    const problems = problemsOf({ PORT: '70000', LOG_LEVEL: 'loud', FLATPEAK_API_URL: 'not a url', FLATPEAK_MAX_CONNECTIONS: '0' });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'FLATPEAK_API_URL',
      'FLATPEAK_MAX_CONNECTIONS',
      'LOG_LEVEL',
      'PORT',
    ]);
    expect(problems.find((problem) => problem.startsWith('PORT'))).toBe('PORT: must be a whole number from 0 to 65535 (got "70000")');
  });

  it.each([
    [{ ...FLATPEAK, FLATPEAK_API_KEY: 'sk_x', CALLER_AUTH: 'none' }, 'FLATPEAK_ACCOUNT_ID'],
    [{ ...FLATPEAK, FLATPEAK_ACCOUNT_ID: 'acc_1', CALLER_AUTH: 'none' }, 'FLATPEAK_API_KEY'],
  ])('wants both service credentials or neither (%j)', (env, missing) => {
    expect(problemsOf(env)).toEqual([expect.stringMatching(new RegExp(`^${missing}: must be set together`))]);
  });

  it('never echoes the API key', () => {
    const error = (() => {
      try {
        return loadConfig({ FLATPEAK_ACCOUNT_ID: 'not-an-account', FLATPEAK_API_KEY: 'sk_very_secret' });
      } catch (caught) {
        return caught as ConfigError;
      }
    })() as ConfigError;
    expect(error.message).toMatch(/FLATPEAK_ACCOUNT_ID: must look like acc_/);
    expect(error.message).not.toContain('sk_very_secret');
  });
});

describe('sample data never by mistake', () => {
  const credentials = { FLATPEAK_ACCOUNT_ID: 'acc_1', FLATPEAK_API_KEY: 'sk_x', CALLER_AUTH: 'none' };

  it('refuses to start without FLATPEAK_API_URL, saying how to get sample data', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^FLATPEAK_API_URL: must be set .*run `npm start` or `npm run dev`/)]);
  });

  it('refuses it in production by name', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^FLATPEAK_API_URL: must be set when NODE_ENV is production/),
    ]);
  });

  it('refuses service credentials without FLATPEAK_API_URL, in production or not', () => {
    for (const env of [credentials, { ...credentials, NODE_ENV: 'development' }]) {
      expect(problemsOf(env)).toEqual([expect.stringMatching(/^FLATPEAK_API_URL: must be set with service credentials/)]);
    }
  });

  it('reads FLATPEAK_STANDIN, and refuses it in production', () => {
    const standin = { FLATPEAK_API_URL: 'http://127.0.0.1:9', ...credentials, FLATPEAK_STANDIN: 'true' };
    expect(loadConfig(standin).standin).toBe(true);
    expect(loadConfig({ ...standin, FLATPEAK_STANDIN: 'false' }).standin).toBe(false);
    expect(problemsOf({ ...standin, NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^FLATPEAK_STANDIN: the sample-data stand-in is .* refused when NODE_ENV is production/),
    ]);
    expect(problemsOf({ ...standin, FLATPEAK_STANDIN: 'yes' })).toEqual(['FLATPEAK_STANDIN: must be true or false (got "yes")']);
  });
});

describe('CALLER_AUTH', () => {
  const service = { FLATPEAK_API_URL: 'https://api.flatpeak.com', FLATPEAK_ACCOUNT_ID: 'acc_1', FLATPEAK_API_KEY: 'sk_x' };
  const jwt = {
    CALLER_AUTH: 'jwt',
    AUTH_JWKS_URL: 'https://id.example/.well-known/jwks.json',
    AUTH_ISSUER: 'https://id.example/',
    AUTH_AUDIENCE: 'flatpeak-graph',
  };

  it('refuses service credentials for a real Flatpeak without a decision about callers', () => {
    expect(problemsOf(service)).toEqual([expect.stringMatching(/^CALLER_AUTH: must be set with service credentials: jwt .* or none /)]);
  });

  it('defaults to pass-through without service credentials', () => {
    expect(loadConfig({ FLATPEAK_API_URL: 'https://api.flatpeak.com' }).callers).toEqual({ mode: 'pass-through' });
    expect(loadConfig({ ...service, CALLER_AUTH: 'none' }).callers).toEqual({ mode: 'none' });
  });

  it('reads the JWT settings, with asymmetric algorithms, sub as the reference claim a 30 s JWKS cool-down and 30 s of clock leeway by default', () => {
    expect(loadConfig({ ...service, ...jwt }).callers).toEqual({
      mode: 'jwt',
      jwt: {
        jwksUrl: new URL(jwt.AUTH_JWKS_URL),
        issuer: jwt.AUTH_ISSUER,
        audience: jwt.AUTH_AUDIENCE,
        algorithms: ['RS256', 'ES256', 'EdDSA'],
        jwksCooldownMs: 30_000,
        clockToleranceS: 30,
      },
      referenceClaim: 'sub',
      locationsClaim: undefined,
    });
    expect(
      loadConfig({ ...service, ...jwt, AUTH_REFERENCE_CLAIM: 'https://example.com/customer', AUTH_LOCATIONS_CLAIM: 'locations' }).callers,
    ).toMatchObject({
      referenceClaim: 'https://example.com/customer',
      locationsClaim: 'locations',
    });
  });

  it('names every missing JWT setting, refuses symmetric algorithms and a plain-http JWKS elsewhere', () => {
    expect(problemsOf({ ...service, CALLER_AUTH: 'jwt' }).map((problem) => problem.split(':')[0])).toEqual([
      'AUTH_JWKS_URL',
      'AUTH_ISSUER',
      'AUTH_AUDIENCE',
    ]);
    expect(problemsOf({ ...service, ...jwt, AUTH_ALGORITHMS: 'RS256,HS256' })[0]).toMatch(
      /^AUTH_ALGORITHMS: must be a comma-separated list of RS256/,
    );
    expect(problemsOf({ ...service, ...jwt, AUTH_JWKS_URL: 'http://id.example/jwks' })[0]).toMatch(/^AUTH_JWKS_URL: must be https/);
  });

  it('refuses CALLER_AUTH in pass-through mode, where Authorization carries the caller’s Flatpeak token', () => {
    expect(problemsOf({ FLATPEAK_API_URL: 'https://api.flatpeak.com', ...jwt })).toEqual([
      expect.stringMatching(/^CALLER_AUTH: must be unset in pass-through mode/),
    ]);
  });

  it('reads the per-caller limits, 20/s with bursts of 40 by default, 0 for off', () => {
    expect(loadConfig(FLATPEAK).rateLimit).toEqual({ perSecond: 20, burst: 40 });
    expect(loadConfig({ ...FLATPEAK, RATE_LIMIT_PER_SECOND: '0', RATE_LIMIT_BURST: '5' }).rateLimit).toEqual({ perSecond: 0, burst: 5 });
    expect(problemsOf({ ...FLATPEAK, RATE_LIMIT_PER_SECOND: '-1' })[0]).toMatch(/^RATE_LIMIT_PER_SECOND: /);
  });
});
