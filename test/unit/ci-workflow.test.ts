import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

// actionlint (npm run lint) checks that the workflow is valid; this checks that it runs what the project promises.
const ROOT = resolve(import.meta.dirname, '..', '..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { 'runs-on': string; strategy: { 'fail-fast': boolean; matrix: { os: string[]; node: number[] } }; steps: Step[] }>;
}

const workflow = parse(readFileSync(join(ROOT, '.github', 'workflows', 'ci.yml'), 'utf8')) as Workflow;
const job = workflow.jobs.test;
if (job === undefined) throw new Error('ci.yml has no "test" job');
const steps = job.steps;
const stepNamed = (pattern: RegExp): Step => {
  const found = steps.filter((step) => pattern.test(step.name ?? ''));
  expect(found, `one step named ${String(pattern)}`).toHaveLength(1);
  return found[0] as Step;
};
const index = (step: Step): number => steps.indexOf(step);

describe('.github/workflows/ci.yml', () => {
  it('runs on pushes to main and on pull requests', () => {
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
  });

  it('is a matrix of Linux, macOS and Windows with Node 20, 22 and 24, every cell run to the end', () => {
    expect(job['runs-on']).toBe('${{ matrix.os }}');
    expect(job.strategy.matrix.os).toEqual(['ubuntu-latest', 'macos-latest', 'windows-latest']);
    expect(job.strategy.matrix.node).toEqual([20, 22, 24]);
    expect(job.strategy['fail-fast']).toBe(false);
    const setup = steps.find((step) => step.uses?.startsWith('actions/setup-node@'));
    expect(setup?.with?.['node-version']).toBe('${{ matrix.node }}');
  });

  it('typechecks, lints and runs the unit tests on every OS (no condition), after installing', () => {
    const install = stepNamed(/^Install$/);
    expect(install.run).toMatch(/^npm install\b/);
    for (const [pattern, script] of [
      [/^Typecheck$/, 'npm run typecheck'],
      [/^Lint$/, 'npm run lint'],
      [/^Unit tests$/, 'npm run test:unit'],
    ] as const) {
      const step = stepNamed(pattern);
      expect(step.run).toBe(script);
      expect(step.if).toBeUndefined();
      expect(index(step)).toBeGreaterThan(index(install));
    }
  });

  it('runs every e2e test on Linux inside a gnome-keyring session, as .ci/run does', () => {
    const step = stepNamed(/gnome-keyring/);
    expect(step.if).toBe("runner.os == 'Linux'");
    expect(step.run).toMatch(/apt-get install .*\bdbus gnome-keyring libsecret-tools tmux openssl zsh fish\b/);
    // The secret-command tests run a real secret manager: pass, over GnuPG (as .ci/run installs them).
    expect(step.run).toMatch(/apt-get install .*\bpass gnupg\b/);
    expect(step.run).toMatch(/bash test\/run-with-keyring\.sh npx vitest run --project e2e$/m);
  });

  it('on macOS makes a throw-away keychain the default (and unlocked) before the keychain tests, and removes it', () => {
    const make = stepNamed(/Keychain for the tests/);
    expect(make.if).toBe("runner.os == 'macOS'");
    for (const command of ['create-keychain', 'unlock-keychain', 'list-keychains -d user -s', 'default-keychain -d user -s']) {
      expect(make.run).toContain(`security ${command}`);
    }
    const e2e = stepNamed(/macOS Keychain, Windows Credential Manager/);
    expect(e2e.if).toBe("runner.os != 'Linux'");
    expect(e2e.env?.OKTA_CONNECT_TEST_KEYRING).toBe('1');
    expect(e2e.run).toBe('npx vitest run --project e2e test/e2e/os-keychain.test.ts');
    expect(index(make)).toBeLessThan(index(e2e));
    const remove = stepNamed(/Remove the test keychain/);
    expect(remove.if).toMatch(/^always\(\) && runner\.os == 'macOS'/);
    expect(index(remove)).toBeGreaterThan(index(e2e));
  });

  it('installs the packed tarball globally and runs okta-connect --version on every OS', () => {
    const step = stepNamed(/packed tarball/);
    expect(step.if).toBeUndefined();
    expect(step.shell).toBe('bash');
    expect(step.run).toMatch(/npm pack --pack-destination "\$RUNNER_TEMP"/);
    expect(step.run).toMatch(/npm install --global .*"\$RUNNER_TEMP"\/okta-connect-\*\.tgz/);
    expect(step.run).toMatch(/test "\$actual" = "\$expected"/);
    expect(step.run).toContain('okta-connect --version');
    const windows = stepNamed(/PowerShell and cmd/);
    expect(windows.if).toBe("runner.os == 'Windows'");
    expect(windows.shell).toBe('pwsh');
  });
});
