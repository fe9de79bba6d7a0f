import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
let prefix: string | undefined;

/**
 * The e2e tests run the package users get: `npm pack` (which builds the bundle), installed globally into a temporary
 * prefix. OKTA_CONNECT_BIN set by hand (e.g. to bin/okta-connect.js for a quick run against dist/) skips this.
 */
export function setup(): void {
  if (process.env.OKTA_CONNECT_BIN) return;
  prefix = mkdtempSync(join(tmpdir(), 'okta-connect-pkg-'));
  execFileSync('npm', ['pack', '--silent', '--pack-destination', prefix], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(prefix).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack made no tarball');
  execFileSync('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--silent', join(prefix, tarball)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.env.OKTA_CONNECT_BIN = join(prefix, 'lib', 'node_modules', 'okta-connect', 'bin', 'okta-connect.js');
  process.env.OKTA_CONNECT_PACKAGE = join(prefix, tarball);
}

export function teardown(): void {
  if (prefix) rmSync(prefix, { recursive: true, force: true });
}
