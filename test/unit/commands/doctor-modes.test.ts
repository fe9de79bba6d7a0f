import { describe, expect, it } from 'vitest';
import { doctorRun, type Check } from '../../../src/commands/doctor.js';
import { exitOf, fakeContext, makeRecord, makeToken } from '../../fakes/context.js';

/** doctor --json with the config folder and file at these modes (null: missing); the other checks pass. */
async function doctorWith(modes: { dir: number | null; file: number | null }): Promise<{ code: number; checks: Check[] }> {
  const ctx = fakeContext({ connections: [makeRecord('prod', 'https://acme.okta.com')], secrets: { prod: makeToken() } });
  ctx.metadata.modes = () => Promise.resolve(modes);
  const { code } = await exitOf(doctorRun(ctx, { json: true, test: false, timeout: 15_000, secretTimeout: 30_000 }));
  return { code, checks: (JSON.parse(ctx.out.text()) as { checks: Check[] }).checks };
}

const dir = '/fake/config/okta-connect';
const file = `${dir}/connections.json`;

describe('doctor: the modes of the config folder and file', () => {
  it('0700 and 0600: ok', async () => {
    const { code, checks } = await doctorWith({ dir: 0o700, file: 0o600 });
    expect(code).toBe(0);
    expect(checks.find((check) => check.name === 'config folder')).toMatchObject({ status: 'ok', message: `${dir} (mode 0700)` });
    expect(checks.find((check) => check.name === 'config file')).toBeUndefined();
  });

  it.each([
    ['0755', 0o755, 'is open to other users (mode 0755, not 0700)'],
    ['0701', 0o701, 'is open to other users (mode 0701, not 0700)'],
    ['0500', 0o500, 'has mode 0500, not 0700: okta-connect cannot write it'],
    ['0000', 0o000, 'has mode 0000, not 0700: okta-connect cannot write it'],
    ['0577', 0o577, 'is open to other users, and okta-connect cannot write it (mode 0577, not 0700)'],
  ])('a folder of mode %s fails: %s', async (_label, mode, message) => {
    const { code, checks } = await doctorWith({ dir: mode, file: 0o600 });
    expect(code).toBe(1);
    expect(checks.filter((check) => check.status === 'fail')).toEqual([
      { name: 'config folder', status: 'fail', message: `${dir} ${message}`, fix: `chmod 700 ${dir}` },
    ]);
  });

  it.each([
    ['0644', 0o644, 'is open to other users (mode 0644, not 0600)'],
    ['0400', 0o400, 'has mode 0400, not 0600: okta-connect cannot read or write it'],
    ['0000', 0o000, 'has mode 0000, not 0600: okta-connect cannot read or write it'],
    ['0700', 0o700, 'has mode 0700, not 0600'],
  ])('a file of mode %s fails: %s', async (_label, mode, message) => {
    const { code, checks } = await doctorWith({ dir: 0o700, file: mode });
    expect(code).toBe(1);
    expect(checks.filter((check) => check.status === 'fail')).toEqual([
      { name: 'config file', status: 'fail', message: `${file} ${message}`, fix: `chmod 600 ${file}` },
    ]);
  });

  it('no folder yet: info, not a failure', async () => {
    const { code, checks } = await doctorWith({ dir: null, file: null });
    expect(code).toBe(0);
    expect(checks.find((check) => check.name === 'config folder')?.status).toBe('info');
  });
});
