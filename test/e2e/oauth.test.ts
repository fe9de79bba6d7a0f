import { describe, expect, it } from 'vitest';
import { describeRun, expectCleanFailure, nonEmptyLines, useFakeOkta, useSandbox } from './harness.js';
import type { NewApp } from '../fixtures/fake-okta-oauth.js';
import { keyLeaks } from './oauth-leaks.js';

/**
 * OAuth 2.0 service-app connections (private key JWT, scopes, DPoP) tested against the fake Okta's real token endpoint:
 * it verifies the client assertion's signature with node:crypto against the registered public JWK. Keys are made at
 * test time. These connections come from the CI variables, so no keychain is needed.
 */
const fake = useFakeOkta();

function oauthEnv(name: string, made: NewApp, options: { key?: string; scopes?: string; keyId?: string } = {}): Record<string, string> {
  const key = name.toUpperCase();
  return {
    [`OKTA_CONNECT_${key}_ORG_URL`]: fake.url,
    [`OKTA_CONNECT_${key}_CLIENT_ID`]: made.app.clientId,
    [`OKTA_CONNECT_${key}_PRIVATE_KEY`]: options.key ?? made.privatePem,
    [`OKTA_CONNECT_${key}_SCOPES`]: options.scopes ?? made.app.grantedScopes.join(' '),
    ...(options.keyId === undefined && options.key === undefined ? { [`OKTA_CONNECT_${key}_KEY_ID`]: made.kid } : options.keyId === undefined ? {} : { [`OKTA_CONNECT_${key}_KEY_ID`]: options.keyId }),
  };
}

describe('test of an OAuth connection', () => {
  const sandbox = useSandbox();

  it('RSA PEM: the org check, a client_credentials token through a verified private key JWT, then GET /api/v1/users?limit=1', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const before = fake.requests.length;
    const result = await sandbox.run(['test', 'svc'], { env: oauthEnv('svc', made) });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`✓ svc .*as client ${made.app.clientId}.*scopes okta\\.users\\.read.*token 1h.*no DPoP.*GET /api/v1/users\\?limit=1`));
    const paths = fake.requests.slice(before).map((request) => `${request.method} ${request.path}`);
    expect(paths).toEqual(['GET /.well-known/okta-organization', 'POST /oauth2/v1/token', 'GET /api/v1/users']);
    const call = fake.requests.at(-1);
    expect(call?.authorization).toMatch(/^Bearer eyJ/);
    expect(call?.userAgent).toMatch(/okta-connect/);
    expect(keyLeaks(made, sandbox, [result])).toEqual([]);
  });

  it('EC P-256 JWK with DPoP required: the nonce challenge is answered once, the call carries a DPoP proof', async () => {
    const made = fake.oauth.addApp({ keyType: 'ec', scopes: ['okta.users.read', 'okta.groups.read'], requireDpop: true });
    const logBefore = fake.oauth.log.length;
    const result = await sandbox.run(['test', 'dp', '--json'], { env: oauthEnv('dp', made, { key: JSON.stringify(made.privateJwk) }) });
    expect(result.code, describeRun(result)).toBe(0);
    const json = JSON.parse(result.stdout) as { ok: boolean; oauth: { isDPoP: boolean; scopes: string[]; expiresInS: number; checked: string } };
    expect(json.oauth).toEqual({ isDPoP: true, scopes: ['okta.users.read', 'okta.groups.read'], expiresInS: 3600, checked: 'GET /api/v1/users?limit=1' });
    expect(fake.oauth.log.slice(logBefore).map((entry) => entry.error ?? 'granted')).toEqual(['use_dpop_nonce', 'granted']);
    const call = fake.requests.at(-1);
    expect(call?.authorization).toMatch(/^DPoP eyJ/);
    expect(call?.dpop).toBeDefined();
    expect(keyLeaks(made, sandbox, [result])).toEqual([]);
  });

  it('invalid_scope: exit 5, naming the scope and where to grant it', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const result = await sandbox.run(['test', 'scoped'], { env: oauthEnv('scoped', made, { scopes: 'okta.users.read okta.groups.manage' }) });
    const error = expectCleanFailure(result, 5);
    expect(error).toMatch(/did not grant the scope okta\.groups\.manage to the app 0oa/);
    expect(result.stderr).toMatch(/hint: grant okta\.groups\.manage on the app's "Okta API Scopes" tab/);
    expect(keyLeaks(made, sandbox, [result])).toEqual([]);
  });

  const AUTH_CASES: [string, (made: NewApp) => Record<string, string>, RegExp, (() => void)?][] = [
    ['an unknown client id', (made) => ({ ...oauthEnv('c1', made), OKTA_CONNECT_C1_CLIENT_ID: '0oaunknownclient1234' }), /rejected the client 0oaunknownclient1234 \(invalid_client/],
    ['a key id that is not registered', (made) => oauthEnv('c1', made, { keyId: 'not-registered' }), /rejected the client .*The client_assertion JWT kid is invalid/],
    ['a key that is not the registered one', (made) => oauthEnv('c1', { ...made, privatePem: fake.oauth.addApp().privatePem }), /signature is invalid/],
  ];
  for (const [what, env, message] of AUTH_CASES) {
    it(`invalid_client for ${what}: exit 4 with the app's link`, async () => {
      const made = fake.oauth.addApp();
      const result = await sandbox.run(['test', 'c1'], { env: env(made) });
      const error = expectCleanFailure(result, 4);
      expect(error).toMatch(message);
      // A kid the app lacks: add its public key, then test (a rotate would only make another key); else the adapter's hint.
      expect(result.stderr).toMatch(
        what === 'a key id that is not registered'
          ? /hint: add the public key \(kid not-registered\) to the app's Public keys \(https:\/\/\S+#tab-general\), then: okta-connect test c1 \(if the app lists the key under another KID, set OKTA_CONNECT_C1_KEY_ID to it\)\n/
          : /hint: check the client id, and that the public key with kid .* is under the app's Public keys/,
      );
      if (what === 'a key that is not the registered one') expect(result.stderr).toMatch(/the key came from OKTA_CONNECT_C1_PRIVATE_KEY: update that secret\n/);
    });
  }

  it("a clock that is off: exit 4, saying to check the clock", async () => {
    const made = fake.oauth.addApp();
    fake.oauth.clockSkewS = 3600;
    try {
      const result = await sandbox.run(['test', 'clk'], { env: oauthEnv('clk', made) });
      expectCleanFailure(result, 4);
      expect(result.stderr).toMatch(/error: .*client assertion's time/);
      expect(result.stderr).toMatch(/hint: check this machine's clock/);
    } finally {
      fake.oauth.clockSkewS = 0;
    }
  });

  it('invalid_dpop_proof (a clock two minutes slow passes the assertion but not the DPoP proof): exit 4, its own message, the clock named', async () => {
    const made = fake.oauth.addApp({ requireDpop: true });
    fake.oauth.clockSkewS = 120;
    try {
      const result = await sandbox.run(['test', 'dpc'], { env: oauthEnv('dpc', made) });
      const error = expectCleanFailure(result, 4);
      expect(error).toMatch(/Okta rejected the DPoP proof \(invalid_dpop_proof: 'iat' claim in the DPoP proof JWT is out of range\)/);
      expect(result.stderr).toMatch(/hint: check this machine's clock/);
      expect(keyLeaks(made, sandbox, [result])).toEqual([]);
    } finally {
      fake.oauth.clockSkewS = 0;
    }
  });

  it('an app with the scope but no admin role: the token is issued, the call is refused (403 E0000006): exit 5, the app\'s scopes tab and its admin role named', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    made.app.hasAdminRole = false;
    const result = await sandbox.run(['test', 'norole'], { env: oauthEnv('norole', made) });
    const error = expectCleanFailure(result, 5);
    expect(error).toMatch(new RegExp(`the app ${made.app.clientId} is not allowed to call GET /api/v1/users\\?limit=1 \\(403 E0000006\\)`));
    expect(result.stderr).toContain(`admin role that allows it (${fake.url}/admin/app/oidc_client/instance/${made.app.clientId}#tab-okta-api-scopes)`);
    expect(keyLeaks(made, sandbox, [result])).toEqual([]);
  });

  it('a rate-limited API call of an OAuth app: exit 7, the app named as what Okta limits (not "this token")', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    fake.behaviour = 'rate-limit-always';
    try {
      const result = await sandbox.run(['test', 'busy', '--timeout', '5'], { env: oauthEnv('busy', made) });
      const error = expectCleanFailure(result, 7);
      expect(error).toMatch(new RegExp(`Okta is rate limiting the app ${made.app.clientId} \\(429`));
      expect(result.stderr).toMatch(/hint: wait for the rate limit to reset .*other jobs may share this app/);
    } finally {
      fake.behaviour = 'okta';
    }
  });

  it('a token endpoint whose answer never ends: read to 4 MiB, then exit 7 (not the timeout)', async () => {
    const made = fake.oauth.addApp();
    fake.oauth.tokenAnswer = 'endless';
    try {
      const result = await sandbox.run(['test', 'endless', '--timeout', '30'], { env: oauthEnv('endless', made) });
      const error = expectCleanFailure(result, 7);
      expect(error).toMatch(/Okta's token endpoint answered more than 4194304 bytes, far more than a token/);
      expect(keyLeaks(made, sandbox, [result])).toEqual([]);
    } finally {
      fake.oauth.tokenAnswer = undefined;
    }
  });

  it('an app whose client authentication is not private key JWT: exit 4, saying which setting to change', async () => {
    const made = fake.oauth.addApp({ authMethod: 'client_secret_basic' });
    const result = await sandbox.run(['test', 'sec'], { env: oauthEnv('sec', made) });
    expectCleanFailure(result, 4);
    expect(result.stderr).toMatch(/does not use private key JWT client authentication/);
    expect(result.stderr).toMatch(/hint: .*"Public key \/ Private key"/);
  });

  it('refuses a public key, a bad scope name and a PEM that does not parse before any request (exit 2)', async () => {
    const made = fake.oauth.addApp();
    const before = fake.requests.length;
    const { publicKeys } = made.app;
    const cases: [Record<string, string>, RegExp][] = [
      [oauthEnv('bad', made, { key: JSON.stringify(publicKeys[0]) }), /is a public key/],
      [oauthEnv('bad', made, { scopes: 'users.read' }), /"users\.read" is not an Okta API scope/],
      [oauthEnv('bad', made, { key: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----' }), /does not parse/],
    ];
    for (const [env, message] of cases) {
      const result = await sandbox.run(['test', 'bad'], { env });
      const error = expectCleanFailure(result, 2);
      expect(error).toMatch(message);
      expect(nonEmptyLines(result.stderr).join('\n')).not.toContain('not a key');
    }
    expect(fake.requests.length).toBe(before);
  });
});

describe("a DPoP nonce asked by the API itself (RFC 9449 §9; the fake's opt-in mode)", () => {
  const sandbox = useSandbox();
  const callsTo = (path: string, since: number): number => fake.requests.slice(since).filter((request) => request.path === path).length;

  it('one challenge: the call is sent again once, with the nonce in a new proof, and the test passes on the same token', async () => {
    const made = fake.oauth.addApp({ keyType: 'ec', requireDpop: true });
    fake.oauth.resourceNonce = 'once';
    const [before, challenges] = [fake.requests.length, fake.oauth.resourceChallenges];
    try {
      const result = await sandbox.run(['test', 'rn'], { env: oauthEnv('rn', made, { key: JSON.stringify(made.privateJwk) }) });
      expect(result.code, describeRun(result)).toBe(0);
      expect(result.stdout).toMatch(/DPoP required/);
      expect(fake.oauth.resourceChallenges - challenges).toBe(1);
      expect(callsTo('/api/v1/users', before)).toBe(2);
      // The nonce retry of the token endpoint, then the grant: no second token for the API's challenge.
      expect(callsTo('/oauth2/v1/token', before)).toBe(2);
      const proof = fake.requests.at(-1)?.dpop ?? '';
      expect(JSON.parse(Buffer.from(proof.split('.')[1] ?? '', 'base64url').toString())).toHaveProperty('nonce');
      expect(keyLeaks(made, sandbox, [result])).toEqual([]);
    } finally {
      fake.oauth.resourceNonce = 'off';
    }
  });

  const FAILURES: ['always' | 'no-header', RegExp, number][] = [
    ['always', /asked for a new DPoP nonce on GET \/api\/v1\/users\?limit=1 again after one was sent \(use_dpop_nonce\)/, 2],
    ['no-header', /asked for a DPoP nonce on GET \/api\/v1\/users\?limit=1 but sent none/, 1],
  ];
  for (const [mode, message, calls] of FAILURES) {
    it(`a challenge that the retry cannot meet (${mode}): exit 7 with its own message, never "revoked", the retry bounded`, async () => {
      const made = fake.oauth.addApp({ requireDpop: true });
      fake.oauth.resourceNonce = mode;
      const before = fake.requests.length;
      try {
        const result = await sandbox.run(['test', 'rn'], { env: oauthEnv('rn', made) });
        expect(expectCleanFailure(result, 7)).toMatch(message);
        expect(result.stderr).toMatch(/hint: this is not a revoked or rejected key/);
        expect(result.stderr).not.toMatch(/30 days|api\/tokens/);
        expect(callsTo('/api/v1/users', before)).toBe(calls);
      } finally {
        fake.oauth.resourceNonce = 'off';
      }
    });
  }
});

describe("a token endpoint that answers wrongly (the fake's opt-in tokenAnswer)", () => {
  const sandbox = useSandbox();
  const json = (value: unknown): { status: number; contentType: string; body: string } => ({ status: 200, contentType: 'application/json', body: JSON.stringify(value) });
  const CASES: [string, NonNullable<typeof fake.oauth.tokenAnswer>, RegExp][] = [
    ['a captive portal: 200 text/html', { status: 200, contentType: 'text/html; charset=utf-8', body: '<html><body>Sign in to the hotel Wi-Fi</body></html>' }, /^error: svc: Okta's token endpoint answered HTTP 200 text\/html \(not Okta's JSON\)$/],
    ['200 JSON without access_token', json({ token_type: 'Bearer', expires_in: 3600 }), /^error: svc: Okta's token endpoint answered HTTP 200 without an access token \(not Okta's JSON\)$/],
    ['200 JSON whose access_token is a number', json({ token_type: 'Bearer', access_token: 42 }), /without an access token/],
    ['200 JSON that is an array', json([{ access_token: 'x' }]), /without an access token/],
    ['200 application/json that does not parse', { status: 200, contentType: 'application/json', body: '{"access_token": "eyJ' }, /answered HTTP 200 application\/json \(not Okta's JSON\)/],
    ['a huge 200 JSON', json({ access_token: 'eyJ', padding: 'x'.repeat(200_000) }), /answered \d+ bytes, far more than a token/],
  ];
  for (const [what, answer, message] of CASES) {
    it(`${what}: exit 7 (not Okta's JSON), no part of the body in the message`, async () => {
      const made = fake.oauth.addApp();
      fake.oauth.tokenAnswer = answer;
      try {
        const env = oauthEnv('svc', made);
        const result = await sandbox.run(['test', 'svc'], { env });
        expect(expectCleanFailure(result, 7)).toMatch(message);
        expect(result.stderr).not.toMatch(/Sign in|<html|padding|xxxx|--debug/);
        const all = await sandbox.run(['test', '--all', '--json'], { env });
        expect(all.code, describeRun(all)).toBe(7);
        const [entry] = JSON.parse(all.stdout) as { name: string; error: { message: string; httpStatus: number } }[];
        expect(entry?.error.message).toMatch(new RegExp(message.source.replace(/^\^error: /, '^')));
        expect(entry?.error.httpStatus).toBe(200);
      } finally {
        fake.oauth.tokenAnswer = undefined;
      }
    });
  }

  it('doctor --test reports the HTML answer as one failed check, not an unexpected error', async () => {
    const made = fake.oauth.addApp();
    fake.oauth.tokenAnswer = CASES[0]?.[1];
    try {
      const result = await sandbox.run(['doctor', '--test'], { env: oauthEnv('svc', made) });
      expect(result.code, describeRun(result)).toBe(1);
      expect(`${result.stdout}${result.stderr}`).toMatch(/token endpoint answered HTTP 200 text\/html/);
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/unexpected|<html|Sign in/);
    } finally {
      fake.oauth.tokenAnswer = undefined;
    }
  });

  it("429 from the token endpoint: exit 7, saying Okta rate-limited it and how long to wait (Retry-After)", async () => {
    const made = fake.oauth.addApp();
    fake.oauth.tokenAnswer = { status: 429, contentType: 'application/json', body: JSON.stringify({ errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' }), headers: { 'retry-after': '30' } };
    try {
      const result = await sandbox.run(['test', 'svc'], { env: oauthEnv('svc', made) });
      expect(expectCleanFailure(result, 7)).toMatch(/rate-limited its token endpoint/);
      expect(result.stderr).toMatch(/hint: wait 30 s .*and try again/);
      expect(result.stderr).not.toMatch(/check the API address/);
    } finally {
      fake.oauth.tokenAnswer = undefined;
    }
  });

  it('an error_description with escape sequences, an OSC title, U+202E and CR/LF: clean in the human line and in test --json', async () => {
    const made = fake.oauth.addApp();
    const description = 'bad\u001b[31m red\u001b]0;pwned\u0007 \u202eevil\r\nline two';
    fake.oauth.tokenAnswer = { status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'invalid_client', error_description: description }) };
    try {
      const env = oauthEnv('svc', made);
      const human = await sandbox.run(['test', 'svc'], { env });
      expect(expectCleanFailure(human, 4)).toMatch(/\(invalid_client: bad red evil\s+line two\)/);
      const result = await sandbox.run(['test', 'svc', '--json'], { env });
      expect(result.code, describeRun(result)).toBe(4);
      const { error } = JSON.parse(result.stdout) as { error: { message: string } };
      expect(error.message).toMatch(/invalid_client: bad red evil\s+line two/);
      // eslint-disable-next-line no-control-regex -- the control characters are what must be gone
      expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]|pwned/);
    } finally {
      fake.oauth.tokenAnswer = undefined;
    }
  });
});

describe('a JWK set holding null in the CI variables', () => {
  const sandbox = useSandbox();
  const env = { OKTA_CONNECT_CI1_ORG_URL: 'https://acme.okta.com', OKTA_CONNECT_CI1_CLIENT_ID: '0oa1234567890abcdefg', OKTA_CONNECT_CI1_SCOPES: 'okta.users.read', OKTA_CONNECT_CI1_PRIVATE_KEY: '{"keys":[null]}' };
  it.each([[['test', 'ci1']], [['exec', 'ci1', '--', 'true']]])('%j: exit 2 naming the variable', async (args) => {
    const result = await sandbox.run(args, { env });
    expect(expectCleanFailure(result, 2)).toMatch(/^error: OKTA_CONNECT_CI1_PRIVATE_KEY: the JWK set's key is not a JSON object/);
    expect(result.stderr).not.toMatch(/generate-key|Cannot read/);
  });
  it('doctor: one failed check naming the variable, the other checks still made', async () => {
    const result = await sandbox.run(['doctor'], { env });
    expect(result.code, describeRun(result)).toBe(1);
    const out = `${result.stdout}${result.stderr}`;
    expect(out).toMatch(/OKTA_CONNECT_CI1_PRIVATE_KEY: the JWK set's key is not a JSON object/);
    expect(out).not.toMatch(/Cannot read/);
    expect(result.stdout.split('\n').filter((line) => line.trim() !== '').length).toBeGreaterThan(2);
  });
});
