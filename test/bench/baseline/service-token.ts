/**
 * The baseline's Flatpeak credential: a bearer token from `/login` (HTTP Basic with the
 * account id and API key), fetched once and again shortly before it expires.
 */
export function serviceToken(baseURL: string, accountId: string, apiKey: string): () => Promise<string> {
  let current: { token: Promise<string>; renewAt: number } | undefined;
  return () => {
    if (!current || Date.now() >= current.renewAt) {
      const token = login(baseURL, accountId, apiKey);
      const entry = { token: token.then((t) => t.bearer_token), renewAt: Number.POSITIVE_INFINITY };
      // A failed login is forgotten, so the next request tries again.
      token.then(
        (t) => (entry.renewAt = Date.now() + (t.expires_in - 60) * 1000),
        () => (current = undefined),
      );
      current = entry;
    }
    return current.token;
  };
}

async function login(baseURL: string, accountId: string, apiKey: string): Promise<{ bearer_token: string; expires_in: number }> {
  const response = await fetch(new URL('login', baseURL), {
    headers: { authorization: `Basic ${Buffer.from(`${accountId}:${apiKey}`).toString('base64')}` },
  });
  if (!response.ok) throw new Error(`Flatpeak login failed: ${response.status}`);
  return (await response.json()) as { bearer_token: string; expires_in: number };
}
