import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import crossSpawn from 'cross-spawn';

const ROOT = resolve(import.meta.dirname, '..', '..');
let prefix: string | undefined;

/**
 * The e2e tests run the package users get: `npm pack` (which builds the bundle), installed globally into a temporary
 * prefix. OKTA_CONNECT_BIN set by hand (e.g. to bin/okta-connect.js for a quick run against dist/) skips this.
 */
export function setup(): void {
  if (process.env.OKTA_CONNECT_BIN) return;
  prefix = mkdtempSync(join(tmpdir(), 'okta-connect-pkg-'));
  npm(['pack', '--silent', '--pack-destination', prefix]);
  const tarball = readdirSync(prefix).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack made no tarball');
  npm(['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--silent', join(prefix, tarball)]);
  // A global prefix keeps packages in lib/node_modules, except on Windows (node_modules).
  const modules = process.platform === 'win32' ? join(prefix, 'node_modules') : join(prefix, 'lib', 'node_modules');
  process.env.OKTA_CONNECT_BIN = join(modules, 'okta-connect', 'bin', 'okta-connect.js');
  process.env.OKTA_CONNECT_PACKAGE = join(prefix, tarball);
}

/** npm is npm.cmd on Windows, which only cross-spawn (or a shell) can start. */
function npm(args: string[]): void {
  const result = crossSpawn.sync('npm', args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${String(result.status ?? result.signal)}`);
}

export function teardown(): void {
  if (prefix) rmSync(prefix, { recursive: true, force: true });
}
