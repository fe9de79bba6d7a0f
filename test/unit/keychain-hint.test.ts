import { describe, expect, it } from 'vitest';
import { hintFor } from '../../src/adapters/keychain.js';

const CI = /in CI, set OKTA_CONNECT_<NAME>_TOKEN and OKTA_CONNECT_<NAME>_ORG_URL instead$/;

describe('keychain hints', () => {
  it.each([
    // Windows: no lock, no dialog; a logon session, a size limit and a service that can be stopped.
    ['win32', 'A specified logon session does not exist. It may already have been terminated. (os error 1312)', /needs the user's own logon session.*SSH sessions, services and scheduled tasks/],
    ['win32', "Attribute 'password' is longer than platform limit of 2560 chars", /at most 2560 bytes per secret/],
    ['win32', 'locked', /Credential Manager service \(VaultSvc\) is running/],
    ['win32', 'Windows Vault Error', /check Windows Credential Manager \(Control Panel > Credential Manager > Windows Credentials\)/],
    ['darwin', 'User interaction is not allowed.', /unlock the login keychain \(Keychain Access\)/],
    ['linux', 'locked', /unlock your keyring/],
    ['linux', 'Cannot autolaunch D-Bus without X11 $DISPLAY', /install and start a Secret Service/],
  ] as const)('%s, %j', (platform, why, says) => {
    const hint = hintFor(platform, why);
    expect(hint).toMatch(says);
    expect(hint).toMatch(CI);
  });

  it('never speaks of unlocking on Windows, nor of Windows elsewhere', () => {
    for (const why of ['locked', 'logon session', 'x']) {
      expect(hintFor('win32', why)).not.toMatch(/unlock|keyring|Secret Service|D-Bus/i);
      expect(hintFor('linux', why)).not.toMatch(/Windows/);
      expect(hintFor('darwin', why)).not.toMatch(/Windows/);
    }
  });
});
