import { describe, expect, it, vi } from 'vitest';
import { FacadeError } from '../../src/errors.ts';
import { authorizeWithCallerToken, authorizeWithService, createServiceTokenSource } from '../../src/upstream/auth.ts';

const signal = new AbortController().signal;

function fakeLogin(expiresIn = 3600) {
  let n = 0;
  const login = vi.fn(async () => ({ bearer_token: `token-${++n}`, expires_in: expiresIn }));
  return login;
}

describe('service token', () => {
  it('logs in once for concurrent callers and reuses the token', async () => {
    const login = fakeLogin();
    const source = createServiceTokenSource({ login });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => source.token()));
    expect(new Set(tokens)).toEqual(new Set(['token-1']));
    expect(await source.token()).toBe('token-1');
    expect(login).toHaveBeenCalledTimes(1);
  });

  it('renews ahead of expiry while still serving the old token, then switches', async () => {
    let now = 0;
    const login = fakeLogin(3600);
    const source = createServiceTokenSource({ login, now: () => now });
    expect(await source.token()).toBe('token-1');

    now = 3_000_000; // 50 min: not due yet
    expect(await source.token()).toBe('token-1');
    expect(login).toHaveBeenCalledTimes(1);

    now = 3_360_000; // 56 min: inside the 5-minute renewal window
    expect(await source.token()).toBe('token-1'); // answered at once with the valid token
    expect(login).toHaveBeenCalledTimes(2); // and renewed in the background
    await vi.waitFor(async () => expect(await source.token()).toBe('token-2'));
  });

  it('waits for a new token once the old one has expired', async () => {
    let now = 0;
    const login = fakeLogin(60);
    const source = createServiceTokenSource({ login, now: () => now });
    await source.token();
    now = 60_000;
    expect(await source.token()).toBe('token-2');
  });

  it('has a token ready only while one is valid, and starts no login for it otherwise', async () => {
    let now = 0;
    const login = fakeLogin(60);
    const source = createServiceTokenSource({ login, now: () => now });
    expect(source.ready()).toBeUndefined();
    expect(login).not.toHaveBeenCalled();
    await source.token();
    expect(source.ready()).toBe('token-1');
    now = 60_000;
    expect(source.ready()).toBeUndefined();
    expect(login).toHaveBeenCalledTimes(1);
  });

  it('shares a failed login with every waiter, holds the failure briefly, then tries again', async () => {
    let now = 0;
    const login = vi
      .fn()
      .mockRejectedValueOnce(new FacadeError('UNAUTHENTICATED', 'no'))
      .mockResolvedValue({ bearer_token: 'ok', expires_in: 3600 });
    const source = createServiceTokenSource({ login, now: () => now, failureHoldMs: 1_000 });
    const results = await Promise.allSettled([source.token(), source.token()]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    now = 500; // within the hold: the same failure, no new login
    await expect(source.token()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(login).toHaveBeenCalledTimes(1);
    now = 1_000;
    expect(await source.token()).toBe('ok');
    expect(login).toHaveBeenCalledTimes(2);
  });

  it('retries a call once with a fresh login when Flatpeak refuses the token', async () => {
    const login = fakeLogin();
    const authorize = authorizeWithService(createServiceTokenSource({ login }));
    const call = vi.fn(async (token: string) => {
      if (token === 'token-1') throw new FacadeError('UNAUTHENTICATED', 'expired');
      return token;
    });
    expect(await authorize(call, signal)).toBe('token-2');
    expect(call).toHaveBeenCalledTimes(2);
  });

  it('does not loop when the fresh token is refused too', async () => {
    const authorize = authorizeWithService(createServiceTokenSource({ login: fakeLogin() }));
    const call = vi.fn(async () => {
      throw new FacadeError('UNAUTHENTICATED', 'refused');
    });
    await expect(authorize(call, signal)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(call).toHaveBeenCalledTimes(2);
  });
});

describe('caller token', () => {
  const missing = () => new FacadeError('UNAUTHENTICATED', 'missing');
  it('passes the bearer token through', async () => {
    expect(await authorizeWithCallerToken('Bearer abc.def', missing)(async (token) => token, signal)).toBe('abc.def');
  });
  it.each([null, '', 'Basic abc', 'Bearer', 'Bearer two words'])('refuses %j without calling', async (header) => {
    const call = vi.fn();
    await expect(authorizeWithCallerToken(header, missing)(call, signal)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(call).not.toHaveBeenCalled();
  });
});
