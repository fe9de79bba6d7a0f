// The shipped build: one esbuild bundle of src/cli.ts with code splitting, so the commands that need no network
// (--help, list) never load the Okta SDK's HTTP layer, the prompts or the proxy agent. See README "Design notes".
import { build } from 'esbuild';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { writeThirdPartyLicenses } from './licenses.js';

const LEGACY_URL_SHIM = `
const url = require('node:url');
function parse(text) {
  const u = new URL(text);
  const auth = u.username ? decodeURIComponent(u.username) + (u.password ? ':' + decodeURIComponent(u.password) : '') : null;
  return {
    protocol: u.protocol, slashes: true, auth, host: u.host, port: u.port || null,
    hostname: u.hostname.replace(/^\\[|\\]$/g, ''), hash: u.hash || null, search: u.search || null,
    query: u.search ? u.search.slice(1) : null, pathname: u.pathname, path: u.pathname + u.search, href: u.href,
  };
}
module.exports = { ...url, parse, URL: globalThis.URL };
`;

const DEBUG_OFF = `
function createDebug() { const log = () => undefined; log.enabled = false; log.extend = createDebug; return log; }
module.exports = createDebug; module.exports.default = createDebug; module.exports.enable = () => undefined;
module.exports.disable = () => ''; module.exports.enabled = () => false;
`;

/**
 * Modules the SDK's HTTP layer requires at load time but never runs in okta-connect's use (SSWS, no cache, no uploads),
 * replaced by stubs that fail loudly if that ever changes. Each saves parsing and evaluating code on every `test`.
 */
const STUBS = [
  // PrivateKey/OAuth mode only; pulls in node-jose (~1 MB).
  { request: './dpop', from: '@okta/okta-sdk-nodejs', contents: "exports.generateDpopJwt = () => { throw new Error('okta-connect: DPoP is not supported'); };" },
  // okta-connect passes cacheMiddleware: null; the middleware pulls in all of lodash.
  { request: './default-cache-middleware', from: '@okta/okta-sdk-nodejs', contents: "module.exports = () => { throw new Error('okta-connect: the SDK cache is off'); };" },
  // Only for file uploads; pulls in mime-db.
  { request: 'form-data', from: '@okta/okta-sdk-nodejs', contents: "module.exports = class FormData { constructor() { throw new Error('okta-connect: no uploads'); } };" },
  // commander needs child_process only to run executable subcommands (okta-connect has none): load it on that call.
  { request: 'node:child_process', from: 'commander', contents: "exports.spawn = (...args) => require('node:child_process').spawn(...args);" },
  // node-fetch uses it only where Node has no URL class; it pulls in tr46's tables and the deprecated punycode module.
  { request: 'whatwg-url', from: 'node-fetch', contents: 'exports.URL = globalThis.URL;' },
  // node-fetch parses every (already absolute, WHATWG-checked) request URL again with the legacy url.parse(), which
  // Node deprecates (DEP0169, shown with --pending-deprecation, and at run time from Node 24): the same fields from URL.
  { request: 'url', from: 'node-fetch', contents: LEGACY_URL_SHIM },
  // The proxy agents log through `debug`, which DEBUG=* switches on: it printed HTTPS_PROXY whole, password included
  // ("Creating new HttpsProxyAgent instance: 'http://user:secret@…'"). okta-connect's own DEBUG=okta-connect is
  // unrelated. A logger that is never enabled (both https-proxy-agent majors; agent-base 6 under the SDK).
  { request: 'debug', from: 'https-proxy-agent', contents: DEBUG_OFF },
  { request: 'debug', from: 'agent-base', contents: DEBUG_OFF },
];

// dist/oauth.js: the SDK's PrivateKey mode (src/oauth.js, its JWT signing with njwt), required only for OAuth
// connections. Its proof generator (src/dpop.js) is replaced by the seam (adapters/okta-sdk.ts) before src/oauth.js
// loads, so node-jose is never run; rasha and eckles (PEM <-> JWK for njwt) are done with node:crypto.
const OAUTH_STUBS = [
  { request: 'node-jose', from: '@okta/okta-sdk-nodejs', contents: "exports.JWK = exports.JWS = exports.util = new Proxy({}, { get() { throw new Error('okta-connect: node-jose is replaced by the seam'); } });" },
  {
    request: 'rasha',
    from: '@okta/okta-sdk-nodejs',
    contents: `const crypto = require('node:crypto');
exports.export = async ({ jwk }) => crypto.createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs1' });
exports.import = async ({ pem }) => { const key = crypto.createPrivateKey(pem); if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA key'); return key.export({ format: 'jwk' }); };`,
  },
  {
    request: 'eckles',
    from: '@okta/okta-sdk-nodejs',
    contents: `const crypto = require('node:crypto');
exports.export = async ({ jwk }) => crypto.createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' });
exports.import = async ({ pem }) => { const key = crypto.createPrivateKey(pem); if (key.asymmetricKeyType !== 'ec') throw new Error('not an EC key'); return key.export({ format: 'jwk' }); };`,
  },
];
/** Its entry: src/dpop.js first (the seam patches its export), src/oauth.js only when asked for. */
const OAUTH_ENTRY = `
const dpop = require('@okta/okta-sdk-nodejs/src/dpop.js');
let oauth;
module.exports = {
  get generateDpopJwt() { return dpop.generateDpopJwt; },
  set generateDpopJwt(value) { dpop.generateDpopJwt = value; },
  get OAuth() { return (oauth ??= require('@okta/okta-sdk-nodejs/src/oauth.js')).OAuth; },
};
`;
/** In dist/cli.js and dist/okta.js, the seam's two imports of the PrivateKey parts are that file. */
const oauthAsSibling = {
  name: 'oauth-as-sibling',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@okta\/okta-sdk-nodejs\/src\/(oauth|dpop)\.js$/ }, (args) =>
      args.importer.includes('node_modules') ? undefined : { path: './oauth.js', external: true },
    );
  },
};

// Which stubs replaced something: a stub that silently stops matching (the SDK renamed a file) brings the real module
// back, and its cost with it. The build fails instead.
const stubsUsed = new Set();
function stubPluginOf(stubs, skip = []) {
  return {
  name: 'okta-connect-stubs',
  setup(pluginBuild) {
    for (const [index, stub] of stubs.entries()) {
      if (skip.includes(stub.request)) continue;
      const filter = new RegExp(`^${stub.request.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
      pluginBuild.onResolve({ filter }, (args) => {
        if (!args.importer.includes(`node_modules/${stub.from}/`)) return undefined;
        stubsUsed.add(stub);
        return { path: String(index), namespace: 'okta-connect-stub' };
      });
    }
    pluginBuild.onLoad({ filter: /.*/, namespace: 'okta-connect-stub' }, (args) => ({
      contents: stubs[Number(args.path)].contents,
      loader: 'js',
    }));
  },
  };
}
const stubPlugin = stubPluginOf(STUBS);

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  // CommonJS, and import() turned into require(): an ES module entry or a real import() starts Node's ESM loader,
  // ~10 ms that --help and list would pay for nothing.
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__okta_connect_url' },
  banner: { js: "'use strict'; const __okta_connect_url = require('node:url').pathToFileURL(__filename).href;" },
  // A native addon with per-platform binaries from npm: installed as a dependency, loaded on first keychain use.
  external: ['@napi-rs/keyring'],
  minifySyntax: true,
  legalComments: 'external',
  logLevel: 'warning',
  // What went into each file: the third-party licences are read from it (and esbuild's analyzer reads it).
  metafile: true,
};

/**
 * Files of their own, required on first use: the network adapter (and the SDK parts) by commands that call Okta, the
 * prompts by the first question. --help, list and scripts never read them.
 */
const SIBLINGS = [
  { filter: /^\.\/adapters\/okta\.js$/, path: './okta.js' },
  { filter: /^\.\/inquirer\.js$/, path: './inquirer.js' },
];
const siblings = {
  name: 'lazy-siblings',
  setup(pluginBuild) {
    for (const sibling of SIBLINGS) {
      pluginBuild.onResolve({ filter: sibling.filter }, () => ({ path: sibling.path, external: true }));
    }
  },
};

/**
 * The error classes are a file of their own, required by both bundles: `instanceof CliError` in dist/cli.js must hold
 * for an AuthError or NetworkError made in dist/okta.js (with a copy in each bundle it never does, and every Okta
 * failure became "unexpected error", exit 1).
 */
const errorsAsSibling = {
  name: 'errors-as-sibling',
  setup(pluginBuild) {
    const errors = resolvePath('src/domain/errors.ts');
    pluginBuild.onResolve({ filter: /errors\.js$/ }, (args) =>
      resolvePath(args.resolveDir, args.path).replace(/\.js$/, '.ts') === errors ? { path: './errors.js', external: true } : undefined,
    );
  },
};

// Built beside dist/ and swapped in, so a process reading dist/ (a test, npm pack) never sees half a build.
const staging = `dist.build-${process.pid}`;
await rm(staging, { recursive: true, force: true });
const results = await Promise.all([
  build({ ...common, entryPoints: { cli: 'src/cli.ts' }, outdir: staging, plugins: [siblings, errorsAsSibling, oauthAsSibling, stubPlugin] }),
  build({ ...common, entryPoints: { inquirer: 'src/adapters/inquirer.ts' }, outdir: staging }),
  build({ ...common, entryPoints: { okta: 'src/adapters/okta.ts' }, outdir: staging, plugins: [stubPlugin, errorsAsSibling, oauthAsSibling] }),
  build({
    ...common,
    stdin: { contents: OAUTH_ENTRY, resolveDir: process.cwd(), sourcefile: 'oauth-entry.js', loader: 'js' },
    outfile: `${staging}/oauth.js`,
    // The SDK's own DPoP proof module stays (the seam replaces its export); the rest is stubbed as in dist/okta.js.
    plugins: [stubPluginOf([...STUBS, ...OAUTH_STUBS], ['./dpop', 'node:child_process'])],
  }),
  build({ ...common, entryPoints: { errors: 'src/domain/errors.ts' }, outdir: staging }),
]);
const unused = [...STUBS, ...OAUTH_STUBS].filter((stub) => !stubsUsed.has(stub));
if (unused.length > 0) {
  await rm(staging, { recursive: true, force: true });
  throw new Error(
    `build: ${unused.length} stub(s) matched nothing, so the real module would be bundled: ${unused.map((stub) => `${stub.request} (from ${stub.from})`).join(', ')}. ` +
      'Update STUBS in scripts/build.js to what the dependency requires now.',
  );
}
// dist/ is CommonJS although the package is "type": "module".
await writeFile(`${staging}/package.json`, '{ "type": "commonjs" }\n');
// Every bundled package's licence travels with it (scripts/licenses.js); a missing or disallowed one fails the build.
await writeThirdPartyLicenses(results.map((result) => result.metafile), `${staging}/THIRD_PARTY_LICENSES.txt`).catch(async (error) => {
  await rm(staging, { recursive: true, force: true });
  throw error;
});
await rm('dist', { recursive: true, force: true });
await rename(staging, 'dist');
// What went into each file, for size work and for the test that every bundled package has its licence listed.
await mkdir('.tmp', { recursive: true });
await writeFile('.tmp/build-meta.json', JSON.stringify({ inputs: Object.assign({}, ...results.map((r) => r.metafile.inputs)), outputs: Object.assign({}, ...results.map((r) => r.metafile.outputs)) }));
