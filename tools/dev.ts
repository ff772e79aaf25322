/**
 * The development launcher: `npm start` (`tools/dev.ts dist/main.js`, after the build) and
 * `npm run dev` (`tools/dev.ts`, from source). With no FLATPEAK_API_URL it starts the
 * Flatpeak stand-in with sample devices on a free loopback port and runs the service
 * against it, in this same process, marked FLATPEAK_STANDIN=true so that the service says
 * it serves sample data. With CALLER_AUTH=jwt it also serves the development identity's
 * key set (tools/standin/identity.ts; tokens from `npm run token`).
 *
 * It never starts the stand-in where the service would refuse it: with FLATPEAK_API_URL,
 * with NODE_ENV=production, or with service credentials, it only runs the service, whose
 * configuration then decides (and refuses what it must, naming the variable).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEMO_ACCOUNT_ID, sampleDevices, userDevices } from './standin/data.ts';
import { DEV_AUDIENCE, DEV_ISSUER, loadIdentity, serveJwks } from './standin/identity.ts';
import { DEMO_API_KEY, startStandin } from './standin/server.ts';

const root = resolve(import.meta.dirname, '..');
const entry = resolve(root, process.argv[2] ?? 'src/main.ts');
const env = process.env;
// An empty variable means unset, as the service's configuration reads it.
const isSet = (name: string) => env[name] !== undefined && env[name] !== '';

const wantsStandin =
  !isSet('FLATPEAK_API_URL') && env.NODE_ENV !== 'production' && !isSet('FLATPEAK_ACCOUNT_ID') && !isSet('FLATPEAK_API_KEY');

if (wantsStandin) {
  const standin = await startStandin({ devices: [...sampleDevices(), ...userDevices()], logRequests: false });
  env.FLATPEAK_API_URL = standin.url.href;
  env.FLATPEAK_ACCOUNT_ID = DEMO_ACCOUNT_ID;
  env.FLATPEAK_API_KEY = DEMO_API_KEY;
  env.FLATPEAK_STANDIN = 'true';
  if (!isSet('CALLER_AUTH')) env.CALLER_AUTH = 'none';
  let identity = '';
  if (env.CALLER_AUTH === 'jwt' && !isSet('AUTH_JWKS_URL')) {
    const jwks = await serveJwks(loadIdentity());
    env.AUTH_JWKS_URL = jwks.url.href;
    if (!isSet('AUTH_ISSUER')) env.AUTH_ISSUER = DEV_ISSUER;
    if (!isSet('AUTH_AUDIENCE')) env.AUTH_AUDIENCE = DEV_AUDIENCE;
    identity = '; development identity for CALLER_AUTH=jwt: npm run token -- --sub alice';
  }
  // For people (stdout carries the service's JSON log).
  process.stderr.write(
    `tools/dev.ts: FLATPEAK_API_URL is unset: started the development stand-in with SAMPLE devices at ${standin.url.origin}${identity}\n`,
  );
}

await import(pathToFileURL(entry).href);
