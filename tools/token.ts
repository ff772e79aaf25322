/**
 * `npm run token -- --sub alice --scope "devices:read devices:write"`: prints a JWT of the
 * development identity (tools/standin/identity.ts), which the service accepts when it runs
 * on the stand-in with CALLER_AUTH=jwt (`CALLER_AUTH=jwt npm start`). Only there: no other
 * service trusts this key.
 */
import { parseArgs } from 'node:util';
import { loadIdentity, signToken } from './standin/identity.ts';

const USAGE = `usage: npm run token -- --sub <user> [--scope "<scope> <scope>"] [--ttl <seconds>] [--claim name=value]...
  --sub    the user (the token's sub; the service reads it as the user's device reference)
  --scope  space-separated scopes: devices:write (create and change devices), devices:read:all (read every device)
  --ttl    lifetime in seconds (default 3600)
  --claim  another claim, e.g. --claim locations=loc_1 for AUTH_LOCATIONS_CLAIM=locations (repeatable)
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      sub: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string' },
      claim: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!values.sub) fail('--sub is required');
const ttlSeconds = values.ttl === undefined ? undefined : Number(values.ttl);
if (ttlSeconds !== undefined && !(Number.isInteger(ttlSeconds) && ttlSeconds > 0)) fail('--ttl must be a whole number of seconds');
const claims: Record<string, string> = {};
for (const pair of values.claim ?? []) {
  const at = pair.indexOf('=');
  if (at <= 0) fail(`--claim takes name=value (got ${JSON.stringify(pair)})`);
  claims[pair.slice(0, at)] = pair.slice(at + 1);
}

process.stdout.write(`${await signToken(loadIdentity(), { sub: values.sub, scope: values.scope, ttlSeconds, claims })}\n`);
