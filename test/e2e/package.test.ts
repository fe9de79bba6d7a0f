import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addArgs, BIN, ROOT, sandboxForTest, uniqueName, useFakeOkta, type Sandbox } from './harness.js';

const okta = useFakeOkta();

const packageRoot = resolve(dirname(BIN), '..');
const bundle = (file: string): string => readFileSync(join(packageRoot, 'dist', file), 'utf8');
/** esbuild keeps each bundled module's path in a comment. */
const SDK_MARK = 'node_modules/@okta/okta-sdk-nodejs/';

/** Every file under a folder, recursively (Node's own compile cache keeps its files in a subfolder). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const cacheFolderIn = (tmp: string): string => join(tmp, `okta-connect-compile-cache-${String(process.getuid?.() ?? '')}`);

/** The biggest file: the cache of dist/cli.js (Node 22+ also caches the small dist/errors.js). */
function largest(files: string[]): string {
  expect(files.length).toBeGreaterThan(0);
  return files.reduce((best, file) => (statSync(file).size > statSync(best).size ? file : best));
}

/** name@version of the package a bundled file comes from (read from its package.json in this checkout). */
function packageId(input: string): string | undefined {
  const dir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
  if (dir === undefined) return undefined;
  const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { name: string; version: string };
  return `${manifest.name}@${manifest.version}`;
}

/**
 * A copy of the installed command (bin/, dist/, package.json) that a test may edit without disturbing the others, in
 * the test's sandbox (removed with it).
 */
function copyPackage(sandbox: Sandbox): string {
  const copy = mkdtempSync(join(sandbox.cwd, 'package-'));
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(packageRoot, part), join(copy, part), { recursive: true });
  return copy;
}

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
    const sandbox = sandboxForTest();
    expect(execFileSync(process.execPath, [BIN, '--version'], { env: sandbox.env, encoding: 'utf8' }).trim()).toBe(manifest.version);
    expect(manifest.version).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('loads the Okta SDK only for commands that call Okta (--help and list never do)', async () => {
    const sandbox = sandboxForTest();
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
    const sandbox = sandboxForTest();
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
    const sandbox = sandboxForTest();
    const tmp = mkdtempSync(join(sandbox.cwd, 'tmpdir-'));
    const env = { TMPDIR: tmp };
    const first = await sandbox.run(['--version'], { env });
    expect(first.code, first.stderr).toBe(0);
    const dir = cacheFolderIn(tmp);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = filesUnder(dir);
    for (const file of files) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    const cache = largest(files);
    expect(statSync(cache).size).toBeGreaterThan(10_000);
    // A corrupt cache is refused: the command still works and the cache is made again (list has a cache of its own).
    writeFileSync(cache, 'not a code cache');
    const again = await sandbox.run(['--help'], { env });
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

  it('survives a flipped byte anywhere in the code cache file (V8 itself crashes on some)', async () => {
    const sandbox = sandboxForTest();
    const tmp = mkdtempSync(join(sandbox.cwd, 'tmpdir-'));
    const env = { TMPDIR: tmp };
    const first = await sandbox.run(['--help'], { env });
    expect(first.code, first.stderr).toBe(0);
    const cache = largest(filesUnder(cacheFolderIn(tmp)));
    const good = readFileSync(cache);
    for (const at of [0.25, 0.5, 0.75, 0.95].map((share) => Math.floor(good.length * share))) {
      const bad = Buffer.from(good);
      bad[at] = (bad[at] ?? 0) ^ 0xff;
      writeFileSync(cache, bad);
      const result = await sandbox.run(['--help'], { env });
      expect({ at, code: result.code, signal: result.signal }, result.stderr.slice(0, 500)).toEqual({ at, code: 0, signal: null });
      expect(result.stdout).toMatch(/^Usage: okta-connect/);
    }
    // Made again after the last refusal; renewed by at most three runs that end well, then never written again.
    expect(readFileSync(cache).length).toBeGreaterThan(10_000);
    for (let run = 0; run < 3; run += 1) expect((await sandbox.run(['--help'], { env })).code).toBe(0);
    const settled = readFileSync(cache);
    expect((await sandbox.run(['--help'], { env })).code).toBe(0);
    expect(readFileSync(cache).equals(settled)).toBe(true);
  });

  // Node 22.1+ keeps its own cache (module.enableCompileCache); this is the hand-made one of Node 20.
  it.skipIf(typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function')(
    "a command's cache made by an untypical first run (list of nothing) is renewed by the next runs that compile more, then settles",
    async () => {
      const sandbox = sandboxForTest();
      const tmp = mkdtempSync(join(sandbox.cwd, 'tmpdir-'));
      const env = { TMPDIR: tmp };
      expect((await sandbox.run(['list'], { env })).code).toBe(0);
      const cache = filesUnder(cacheFolderIn(tmp)).find((file) => file.endsWith('-list.bin')) ?? 'no list cache';
      const first = statSync(cache).size;
      const now = new Date().toISOString();
      const connections = Array.from({ length: 50 }, (_, i) => ({ name: `c-${String(i)}`, orgUrl: okta.url, createdAt: now, owner: { id: `00u${String(i).padStart(17, 'a')}`, login: `ada${String(i)}@example.com` }, lastTest: { at: now, ok: true, code: 0, latencyMs: 9 }, lastUsedAt: now }));
      mkdirSync(sandbox.configDir, { recursive: true, mode: 0o700 });
      writeFileSync(join(sandbox.configDir, 'connections.json'), JSON.stringify({ version: 1, connections }), { mode: 0o600 });
      const sizes: number[] = [];
      for (let run = 0; run < 5; run += 1) {
        expect((await sandbox.run(['list'], { env })).code).toBe(0);
        sizes.push(statSync(cache).size);
      }
      // The first list of 50 compiled a third more than the list of nothing: that cache replaced the first one.
      expect(sizes[0]).toBeGreaterThan(first * 1.1);
      const settled = readFileSync(cache);
      expect((await sandbox.run(['list'], { env })).code).toBe(0);
      expect(readFileSync(cache).equals(settled)).toBe(true);
    },
  );

  it('runs the new code after a same-size edit of dist/cli.js that keeps its inode and mtime', () => {
    const sandbox = sandboxForTest();
    const copy = copyPackage(sandbox);
    const cli = join(copy, 'dist', 'cli.js');
    const env = { ...sandbox.env, TMPDIR: mkdtempSync(join(sandbox.cwd, 'tmpdir-')) };
    const help = (): string => execFileSync(process.execPath, [join(copy, 'bin', 'okta-connect.js'), '--help'], { env, encoding: 'utf8' });
    const text = 'print a shell completion script';
    // Twice: the first run makes the cache, the second runs from it.
    expect(help()).toContain(text);
    expect(help()).toContain(text);
    const before = statSync(cli);
    const source = readFileSync(cli, 'utf8');
    const edited = source.replace(text, text.toUpperCase());
    expect(edited).not.toBe(source);
    expect(Buffer.byteLength(edited)).toBe(Buffer.byteLength(source));
    writeFileSync(cli, edited);
    utimesSync(cli, before.atimeMs / 1000, before.mtimeMs / 1000);
    const after = statSync(cli);
    expect([after.ino, after.size, Math.round(after.mtimeMs)]).toEqual([before.ino, before.size, Math.round(before.mtimeMs)]);
    expect(help()).toContain(text.toUpperCase());
  });

  it('ships the licence of every package whose code is in the bundle, and of none that is not', () => {
    const notice = bundle('THIRD_PARTY_LICENSES.txt');
    const summary = notice.split(/^={20,}$/m)[0] ?? '';
    const listed = [...summary.matchAll(/^((?:@[^/\s]+\/)?[^@\s]+)@(\S+) {2}(\S.*?) {2}\(/gm)].map((match) => `${match[1] ?? ''}@${match[2] ?? ''}`);
    // The build's own record of its inputs (written by the build that npm pack ran) …
    const meta = JSON.parse(readFileSync(join(ROOT, '.tmp', 'build-meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const fromMetafile = new Set(Object.keys(meta.inputs).flatMap((input) => packageId(input) ?? []));
    // … and, as a second witness, the module paths esbuild leaves in the bundle itself.
    const fromBundle = new Set(
      readdirSync(join(packageRoot, 'dist'))
        .filter((file) => file.endsWith('.js'))
        .flatMap((file) => [...bundle(file).matchAll(/^\s*\/\/ (node_modules\/\S+)$/gm)].flatMap((match) => packageId(match[1] ?? '') ?? [])),
    );
    expect(fromMetafile.size).toBeGreaterThan(20);
    expect([...fromBundle].filter((id) => !fromMetafile.has(id))).toEqual([]);
    expect([...listed].sort()).toEqual([...fromMetafile].sort());
    // Each entry carries a licence text, and the Okta SDK's is the Apache License.
    const sdk = notice.split(/^={20,}$/m).findIndex((part) => part.trim().startsWith('@okta/okta-sdk-nodejs@'));
    expect(notice.split(/^={20,}$/m)[sdk + 1]).toMatch(/Apache License[\s\S]*Version 2\.0/);
    // The keychain binding is not bundled: npm installs it with its own licence.
    expect(listed.some((id) => id.startsWith('@napi-rs/keyring@'))).toBe(false);
    expect(readFileSync(join(packageRoot, 'node_modules', '@napi-rs', 'keyring', 'LICENSE'), 'utf8')).toMatch(/MIT License/);
  });

  it('npm pack ships exactly bin/, dist/ with the licences, README.md, LICENSE, CHANGELOG.md and package.json', (context) => {
    const tarball = process.env.OKTA_CONNECT_PACKAGE;
    if (tarball === undefined) {
      context.skip('OKTA_CONNECT_BIN was set by hand: no tarball was packed for this run');
      return;
    }
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '' && !line.endsWith('/'))
      .map((line) => line.replace(/^package\//, ''))
      .sort();
    expect(files).toEqual(
      [
        'CHANGELOG.md',
        'LICENSE',
        'README.md',
        'bin/okta-connect.js',
        'bin/package.json',
        'dist/THIRD_PARTY_LICENSES.txt',
        'dist/cli.js',
        'dist/errors.js',
        'dist/inquirer.js',
        'dist/okta.js',
        // esbuild's extract of the legal comments it took out of okta.js (the Okta SDK's notices).
        'dist/okta.js.LEGAL.txt',
        // The SDK's PrivateKey (OAuth) mode, required only for OAuth connections, and its legal comments.
        'dist/oauth.js',
        'dist/oauth.js.LEGAL.txt',
        'dist/package.json',
        'package.json',
      ].sort(),
    );
  });

  it('stops quietly when the reader of its output goes away (okta-connect --help | head -1)', () => {
    const sandbox = sandboxForTest();
    const result = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" --help | head -c 5; exit "\${PIPESTATUS:-0}"`], {
      env: sandbox.env,
      encoding: 'utf8',
    });
    expect(result.stdout).toBe('Usage');
    expect(result.stderr).toBe('');
  });
});
