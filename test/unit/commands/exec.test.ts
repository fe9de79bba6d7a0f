import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { childEnv, EXEC_VARIABLES } from '../../../src/commands/exec.js';
import { oauthCredential } from '../../../src/domain/credential.js';
import { makeToken } from '../../fakes/context.js';

const ORG = 'https://acme.okta.com';
const CLIENT = '0oa1abcdefGHIJKLmn0x7';

function oauthConnection(keyType: 'rsa' | 'ec' = 'rsa') {
  const { privateKey } = keyType === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const credential = oauthCredential({ clientId: CLIENT, scopes: 'okta.users.read, okta.groups.manage', privateKey: JSON.stringify(privateKey.export({ format: 'jwk' })), keyId: 'kid-1' }).value;
  return { name: 'svc', orgUrl: ORG, credential, orgUrlSource: 'keychain', secretSource: 'keychain', record: undefined } as unknown as Parameters<typeof childEnv>[1];
}

describe('exec: the child environment of an OAuth connection', () => {
  it("sets the SDK's PrivateKey variables (scopes space-separated) and Terraform's (scopes comma-separated), the key as PKCS#8 PEM", () => {
    const connection = oauthConnection();
    const env = childEnv({ PATH: '/bin' }, connection);
    expect(env).toMatchObject({
      PATH: '/bin',
      OKTA_CLIENT_ORGURL: ORG,
      OKTA_CLIENT_AUTHORIZATIONMODE: 'PrivateKey',
      OKTA_CLIENT_CLIENTID: CLIENT,
      OKTA_CLIENT_SCOPES: 'okta.users.read okta.groups.manage',
      OKTA_CLIENT_KEYID: 'kid-1',
      OKTA_ORG_NAME: 'acme',
      OKTA_BASE_URL: 'okta.com',
      OKTA_API_CLIENT_ID: CLIENT,
      OKTA_API_PRIVATE_KEY_ID: 'kid-1',
      OKTA_API_SCOPES: 'okta.users.read,okta.groups.manage',
      OKTA_CONNECT_CONNECTION: 'svc',
    });
    expect(env.OKTA_CLIENT_PRIVATEKEY).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(env.OKTA_API_PRIVATE_KEY).toBe(env.OKTA_CLIENT_PRIVATEKEY);
    // The same key as stored.
    const stored = connection.credential.kind === 'oauth' ? connection.credential.privateKey.d : '';
    expect(createPrivateKey(env.OKTA_API_PRIVATE_KEY ?? '').export({ format: 'jwk' }).d).toBe(stored);
    expect(env.OKTA_CLIENT_TOKEN).toBeUndefined();
    expect(env.OKTA_API_TOKEN).toBeUndefined();
  });

  it('an EC key too', () => {
    const env = childEnv({}, oauthConnection('ec'));
    expect(createPrivateKey(env.OKTA_CLIENT_PRIVATEKEY ?? '').asymmetricKeyType).toBe('ec');
  });

  it("drops inherited values of every name exec sets (either kind's) and other connections' secret parts", () => {
    const inherited = Object.fromEntries(EXEC_VARIABLES.map((name) => [name, 'inherited']));
    const others = {
      OKTA_CONNECT_OTHER_TOKEN: 'x',
      OKTA_CONNECT_OTHER_PRIVATE_KEY: 'x',
      OKTA_CONNECT_OTHER_CLIENT_ID: 'x',
      OKTA_CONNECT_OTHER_SCOPES: 'x',
      OKTA_CONNECT_OTHER_KEY_ID: 'x',
    };
    const env = childEnv({ ...inherited, ...others, OKTA_CONNECT_NAME: 'svc', HOME: '/h' }, oauthConnection());
    for (const name of Object.keys(others)) expect(env[name], name).toBeUndefined();
    for (const name of ['OKTA_CLIENT_TOKEN', 'OKTA_API_TOKEN', 'OKTA_ACCESS_TOKEN']) expect(env[name], name).toBeUndefined();
    expect(Object.values(env)).not.toContain('inherited');
    expect(env).toMatchObject({ OKTA_CONNECT_NAME: 'svc', HOME: '/h' });
  });

  it('an API-token connection gets no OAuth variable, inherited or not', () => {
    const token = makeToken();
    const env = childEnv(
      { OKTA_API_CLIENT_ID: 'inherited', OKTA_CLIENT_PRIVATEKEY: 'inherited' },
      { name: 'prod', orgUrl: ORG, credential: { kind: 'api-token', token } } as unknown as Parameters<typeof childEnv>[1],
    );
    expect(env).toEqual({
      OKTA_CLIENT_ORGURL: ORG,
      OKTA_CLIENT_TOKEN: token,
      OKTA_CLIENT_AUTHORIZATIONMODE: 'SSWS',
      OKTA_ORG_NAME: 'acme',
      OKTA_BASE_URL: 'okta.com',
      OKTA_API_TOKEN: token,
      OKTA_CONNECT_CONNECTION: 'prod',
    });
  });
});
