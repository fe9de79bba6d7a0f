// npm run bench: okta-connect side by side with a baseline, interleaved (A B A B …) in one run, medians after a
// warm-up, printed as ratios against the goals. Not a test: it never fails CI. Machines here are shared and noisy, so
// only the ratios within one run mean anything.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = process.env.OKTA_CONNECT_BIN ?? join(ROOT, 'bin', 'okta-connect.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const WARMUP = 2;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

// The fake Okta is TypeScript (a test fixture): bundle it for plain Node.
const fixture = join(ROOT, '.tmp', 'bench-fake-okta.mjs');
mkdirSync(join(ROOT, '.tmp'), { recursive: true });
await build({
  stdin: { contents: "export * from './test/fixtures/fake-okta.ts'; export * from './test/fixtures/tls.ts';", resolveDir: ROOT, loader: 'ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: fixture,
  logLevel: 'warning',
});
const { startFakeOkta, testTls } = await import(fixture);

const fast = await startFakeOkta();
const slow = await startFakeOkta();
slow.delayMs = 300;

const home = mkdtempSync(join(tmpdir(), 'okta-connect-bench-'));
const configDir = join(home, 'config');
const baseEnv = {
  PATH: process.env.PATH,
  HOME: home,
  OKTA_CONNECT_CONFIG_DIR: configDir,
  NO_COLOR: '1',
  NODE_EXTRA_CA_CERTS: testTls().caPath,
  ...(process.env.DBUS_SESSION_BUS_ADDRESS ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS } : {}),
};
const hasKeyring = process.env.OKTA_CONNECT_TEST_KEYRING === '1';

/** Run one process; resolve with its wall time and, where /usr/bin/time exists, its peak RSS in KB. */
function measure(command, args, env) {
  return new Promise((resolvePromise, reject) => {
    const [file, argv] = TIME ? [TIME, ['-f', '%M', command, ...args]] : [command, args];
    const started = performance.now();
    const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      const rssLine = stderr.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(0, 500)}`));
      else resolvePromise({ ms, rssKb: TIME ? Number(rssLine) : NaN });
    });
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** A and B interleaved (A B, then B A, …, so neither always runs second), WARMUP discarded, RUNS kept. */
async function pair(a, b) {
  const ra = [];
  const rb = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    let x;
    let y;
    if (i % 2 === 0) {
      x = await measure(...a);
      y = await measure(...b);
    } else {
      y = await measure(...b);
      x = await measure(...a);
    }
    if (i >= WARMUP) {
      ra.push(x);
      rb.push(y);
    }
  }
  const summary = (runs) => ({ ms: median(runs.map((r) => r.ms)), rssKb: median(runs.map((r) => r.rssKb)) });
  return { a: summary(ra), b: summary(rb) };
}

const node = (script, env = baseEnv) => [process.execPath, ['-e', script], env];
const cli = (args, env = baseEnv) => [process.execPath, [BIN, ...args], env];

// Connections: 50 saved for list, one for test, 20 slow ones for test --all. Tokens through the keychain when a
// Secret Service is there (as users have it), else through the environment overrides.
mkdirSync(configDir, { recursive: true, mode: 0o700 });
const now = new Date().toISOString();
const record = (name, orgUrl) => ({ name, orgUrl, createdAt: now, owner: null, lastTest: null, lastUsedAt: null });
const listConnections = Array.from({ length: 50 }, (_, i) => record(`list-${String(i).padStart(2, '0')}`, fast.url));
const fastToken = fast.addToken();
const slowTokens = Array.from({ length: 20 }, () => slow.addToken());
const slowNames = slowTokens.map((_, i) => `slow-${String(i).padStart(2, '0')}`);
const envFor = (name, orgUrl, token) => ({
  [`OKTA_CONNECT_${name.toUpperCase().replace(/-/g, '_')}_TOKEN`]: token,
  [`OKTA_CONNECT_${name.toUpperCase().replace(/-/g, '_')}_ORG_URL`]: orgUrl,
});
// A config folder chosen with OKTA_CONNECT_CONFIG_DIR has its own keychain service, `okta-connect:<absolute folder>`.
function store(name, token, folder) {
  execFileSync('secret-tool', ['store', '--label', `okta-connect ${name}`, 'service', `okta-connect:${resolve(folder)}`, 'username', name], { input: token });
}

let testEnv = baseEnv;
let allEnv = { ...baseEnv, OKTA_CONNECT_CONFIG_DIR: join(home, 'config-all') };
if (hasKeyring) {
  store('x', fastToken, configDir);
  slowNames.forEach((name, i) => { store(name, slowTokens[i], allEnv.OKTA_CONNECT_CONFIG_DIR); });
  mkdirSync(allEnv.OKTA_CONNECT_CONFIG_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(join(allEnv.OKTA_CONNECT_CONFIG_DIR, 'connections.json'), JSON.stringify({ version: 1, connections: slowNames.map((name) => record(name, slow.url)) }), { mode: 0o600 });
} else {
  testEnv = { ...baseEnv, ...envFor('x', fast.url, fastToken) };
  allEnv = { ...allEnv, ...Object.assign({}, ...slowNames.map((name, i) => envFor(name, slow.url, slowTokens[i]))) };
}
writeFileSync(join(configDir, 'connections.json'), JSON.stringify({ version: 1, connections: [...listConnections, ...(hasKeyring ? [record('x', fast.url)] : [])] }), { mode: 0o600 });
const oneSlowEnv = hasKeyring ? allEnv : { ...baseEnv, OKTA_CONNECT_CONFIG_DIR: join(home, 'config-one'), ...envFor('slow-00', slow.url, slowTokens[0]) };
const minimalEnv = { ...baseEnv, BENCH_ORG_URL: fast.url, BENCH_TOKEN: fastToken };
// An OAuth service app at the fast fake (its token endpoint verifies the assertion), through the environment overrides
// in both modes: no keychain entry. The key is made here, at run time.
const app = fast.oauth.addApp({ scopes: ['okta.users.read'] });
const oauthEnv = {
  ...baseEnv,
  OKTA_CONNECT_SVC_ORG_URL: fast.url,
  OKTA_CONNECT_SVC_CLIENT_ID: app.app.clientId,
  OKTA_CONNECT_SVC_PRIVATE_KEY: app.privatePem,
  OKTA_CONNECT_SVC_KEY_ID: app.kid,
  OKTA_CONNECT_SVC_SCOPES: 'okta.users.read',
};
const minimalOAuthEnv = { ...baseEnv, BENCH_ORG_URL: fast.url, BENCH_CLIENT_ID: app.app.clientId, BENCH_PRIVATE_KEY: app.privatePem, BENCH_KEY_ID: app.kid, BENCH_SCOPES: 'okta.users.read' };

console.log(`okta-connect bench: ${String(RUNS)} runs each after ${String(WARMUP)} warm-up, interleaved; tokens from the ${hasKeyring ? 'keychain (gnome-keyring)' : 'environment'}; node ${process.version}\n`);
const rows = [];
const report = (label, aName, bName, result, goal, metric = 'ms') => {
  const a = result.a[metric === 'ms' ? 'ms' : 'rssKb'];
  const b = result.b[metric === 'ms' ? 'ms' : 'rssKb'];
  const ratio = a / b;
  const unit = metric === 'ms' ? 'ms' : 'MB';
  const show = (v) => (metric === 'ms' ? v.toFixed(0) : (v / 1024).toFixed(1));
  console.log(`${label}\n  ${aName.padEnd(44)} ${show(a).padStart(7)} ${unit}\n  ${bName.padEnd(44)} ${show(b).padStart(7)} ${unit}\n  ratio ${ratio.toFixed(2)}x (goal <= ${goal}x)\n`);
  rows.push([label, ratio, goal]);
};

report('1. --help', 'okta-connect --help', 'node -e 0', await pair(cli(['--help']), node('0')), 1.5);
// Without a Secret Service to ask (no session bus: CI, SSH), and with the one look that says which tokens exist.
const noBusEnv = { ...baseEnv, XDG_RUNTIME_DIR: home };
delete noBusEnv.DBUS_SESSION_BUS_ADDRESS;
report('2a. list, 50, no keychain', 'okta-connect list (no Secret Service)', 'node -e 0', await pair(cli(['list'], noBusEnv), node('0', noBusEnv)), 1.5);
if (hasKeyring) report('2b. list, 50, keychain look', 'okta-connect list (asks gnome-keyring)', 'node -e 0', await pair(cli(['list']), node('0')), 1.8);
else console.log('2b. list with the keychain look: no Secret Service in this run (npm run bench starts one)\n');
const testPair = await pair(cli(['test', '--name', 'x'], testEnv), [process.execPath, [join(ROOT, 'bench/minimal-test.mjs')], minimalEnv]);
report('3. test', 'okta-connect test --name x', 'fetch script, same two requests', testPair, 1.5);
const oauthPair = await pair(cli(['test', '--name', 'svc'], oauthEnv), [process.execPath, [join(ROOT, 'bench/minimal-oauth-test.mjs')], minimalOAuthEnv]);
// Both sides must really have been granted a token each run (the fake verifies every assertion).
const grants = fast.oauth.log.filter((entry) => entry.grantedTo === app.app.clientId).length;
if (grants !== 2 * (WARMUP + RUNS)) throw new Error(`the OAuth pair got ${String(grants)} tokens, not ${String(2 * (WARMUP + RUNS))}`);
report('3b. test, OAuth', 'okta-connect test --name svc (OAuth)', 'fetch + node:crypto, same three requests', oauthPair, 1.5);
report('4. test --all, 20 x 300 ms', 'okta-connect test --all', 'okta-connect test --name slow-00', await pair(cli(['test', '--all'], allEnv), cli(['test', '--name', 'slow-00'], oneSlowEnv)), 3);
if (TIME) report('5. peak RSS of test', 'okta-connect test --name x', 'fetch script, same two requests', testPair, 1.3, 'rss');
else console.log('5. peak RSS: /usr/bin/time is not installed (apt-get install time)\n');

console.log('goal                              ratio   goal   met');
for (const [label, ratio, goal] of rows) console.log(`${label.padEnd(32)} ${ratio.toFixed(2).padStart(6)}x ${String(goal).padStart(5)}x  ${ratio <= goal ? 'yes' : 'NO'}`);
await fast.close();
await slow.close();
