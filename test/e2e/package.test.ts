import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addArgs, BIN, ROOT, makeSandbox, uniqueName, useFakeOkta } from './harness.js';

const okta = useFakeOkta();

const packageRoot = resolve(dirname(BIN), '..');
const bundle = (file: string): string => readFileSync(join(packageRoot, 'dist', file), 'utf8');
/** esbuild keeps each bundled module's path in a comment. */
const SDK_MARK = 'node_modules/@okta/okta-sdk-nodejs/';

describe('the installed package', () => {
  it('is what npm pack ships: a bundle, no sources or tests, and only the keychain binding as a dependency', () => {
    const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['@napi-rs/keyring']);
    const shipped = readdirSync(packageRoot);
    expect(shipped).not.toContain('src');
    expect(shipped).not.toContain('test');
    // The Okta SDK's code is in dist/okta.js only, which commands that call Okta require on first use.
    expect(bundle('okta.js')).toContain(SDK_MARK);
    expect(bundle('cli.js')).not.toContain(SDK_MARK);
    const sandbox = makeSandbox();
    expect(execFileSync(process.execPath, [BIN, '--version'], { env: sandbox.env, encoding: 'utf8' }).trim()).toBe(manifest.version);
    expect(manifest.version).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('loads the Okta SDK only for commands that call Okta (--help and list never do)', async () => {
    const sandbox = makeSandbox();
    const name = uniqueName('lazy');
    const token = okta.addToken();
    // NODE_DEBUG=module makes Node log every CommonJS file it loads, on stderr.
    const loaded = async (args: string[]): Promise<string[]> => {
      const result = await sandbox.run(args, { env: { NODE_DEBUG: 'module' } });
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      return [...result.stderr.matchAll(/^MODULE \d+: load "([^"]+)"/gm)].map((match) => match[1] ?? '');
    };
    const loadsSdk = (files: string[]): boolean => files.some((file) => file.endsWith(join('dist', 'okta.js')));
    const help = await loaded(['--help']);
    // The log works (the command's own file is in it), and the SDK's file is not.
    expect(help.some((file) => file.endsWith(join('bin', 'okta-connect.js')))).toBe(true);
    expect(loadsSdk(help)).toBe(false);
    await sandbox.run(addArgs(name, okta.url, '--no-test'), { input: token });
    expect(loadsSdk(await loaded(['list']))).toBe(false);
    // The control: the same check sees the SDK when a command does use it.
    expect(loadsSdk(await loaded(['test', '--name', name]))).toBe(true);
    await sandbox.run(['remove', '--name', name, '--yes']);
  });

  it('prints no deprecation warning, even with --pending-deprecation (what Node 22 makes visible by default)', async () => {
    const sandbox = makeSandbox();
    const name = uniqueName('dep');
    const env = { NODE_OPTIONS: '--pending-deprecation --throw-deprecation' };
    const add = await sandbox.run(addArgs(name, okta.url), { input: okta.addToken(), env });
    expect(add.code, add.stderr).toBe(0);
    const test = await sandbox.run(['test', '--name', name, '--json'], { env });
    expect(test.code, test.stderr).toBe(0);
    expect(`${add.stderr}${test.stderr}`).not.toMatch(/DeprecationWarning|DEP0\d{3}/);
    await sandbox.run(['remove', '--name', name, '--yes']);
  });

  it('keeps a V8 code cache in a private folder under TMPDIR, and survives a corrupt or foreign one', async () => {
    const sandbox = makeSandbox();
    const tmp = mkdtempSync(join(tmpdir(), 'okta-connect-tmpdir-'));
    const env = { TMPDIR: tmp };
    const first = await sandbox.run(['--version'], { env });
    expect(first.code, first.stderr).toBe(0);
    const dir = join(tmp, `okta-connect-compile-cache-${String(process.getuid?.() ?? '')}`);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const cache = join(dir, files[0] ?? '');
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(statSync(cache).size).toBeGreaterThan(10_000);
    // A corrupt cache is rejected by V8: the command still works and the cache is made again.
    writeFileSync(cache, 'not a code cache');
    const again = await sandbox.run(['list'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(statSync(cache).size).toBeGreaterThan(10_000);
    // A folder others can write to is never used.
    rmSync(dir, { recursive: true });
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    const foreign = await sandbox.run(['--version'], { env });
    expect(foreign.code, foreign.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops quietly when the reader of its output goes away (okta-connect --help | head -1)', () => {
    const sandbox = makeSandbox();
    const result = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" --help | head -c 5; exit "\${PIPESTATUS:-0}"`], {
      env: sandbox.env,
      encoding: 'utf8',
    });
    expect(result.stdout).toBe('Usage');
    expect(result.stderr).toBe('');
  });
});
