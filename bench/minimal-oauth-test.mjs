// The baseline for `okta-connect test` of an OAuth connection: the same three HTTPS requests with Node's own fetch and
// node:crypto, nothing else: the org check, client_credentials with a private_key_jwt client assertion, one cheap call.
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { URLSearchParams } from 'node:url';

const { BENCH_ORG_URL: orgUrl, BENCH_CLIENT_ID: clientId, BENCH_PRIVATE_KEY: pem, BENCH_KEY_ID: kid, BENCH_SCOPES: scopes } = process.env;
const started = performance.now();
const org = await (await fetch(`${orgUrl}/.well-known/okta-organization`)).json();
if (typeof org.id !== 'string' || !org.id.startsWith('00o')) process.exit(7);
const tokenUrl = `${orgUrl}/oauth2/v1/token`;
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const unsigned = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64({ iss: clientId, sub: clientId, aud: tokenUrl, iat: now, exp: now + 300, jti: randomUUID() })}`;
const assertion = `${unsigned}.${sign('sha256', Buffer.from(unsigned), createPrivateKey(pem)).toString('base64url')}`;
const form = new URLSearchParams({
  grant_type: 'client_credentials',
  scope: scopes,
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: assertion,
});
const granted = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form });
const grant = await granted.json();
if (granted.status !== 200 || typeof grant.access_token !== 'string') process.exit(4);
const users = await fetch(`${orgUrl}/api/v1/users?limit=1`, { headers: { authorization: `Bearer ${grant.access_token}`, accept: 'application/json' } });
const list = await users.json();
if (users.status !== 200 || !Array.isArray(list)) process.exit(5);
process.stdout.write(`ok ${clientId} ${grant.scope} ${Math.round(performance.now() - started)} ms\n`);
