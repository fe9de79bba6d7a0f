// Third-party licences for the bundle: every package whose code esbuild put into dist/ (read from its metafiles) is
// listed in dist/THIRD_PARTY_LICENSES.txt with its version, its licence and the text of its licence file. A bundled
// package with no licence file, or with a licence outside ALLOWED_LICENSES, fails the build: a new dependency needs a
// look before it ships. @napi-rs/keyring is not bundled (npm installs it, and its licence, as a dependency).
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** SPDX identifiers the bundle may contain: permissive licences whose only condition is keeping the notice. */
export const ALLOWED_LICENSES = ['MIT', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'Apache-2.0', '0BSD'];

/**
 * Reviewed by hand: these versions ship no licence file but state their full MIT licence in the README's "License"
 * section (the Okta SDK's own copies, older than the ones okta-connect uses). Pinned by version, so a new version is
 * looked at again; any other package without a licence file fails the build.
 */
export const LICENSE_IN_README = ['agent-base@6.0.2', 'https-proxy-agent@5.0.1'];

/** LICENSE, LICENCE.md, license-MIT.txt, COPYING…; NOTICE files too (Apache-2.0 asks for them to be passed on). */
const LICENSE_FILE = /^(licen[cs]e|copying)([-_.].*)?$/i;
const NOTICE_FILE = /^notice([-_.].*)?$/i;
const RULE = '='.repeat(100);

/** The package folder of a bundled file, e.g. node_modules/@scope/name for node_modules/@scope/name/lib/x.js. */
export function packageDirOf(input) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.replace(/\\/g, '/'));
  return match?.[1];
}

/**
 * Whether an SPDX expression is satisfied by the allow-list: `A OR B` needs one side, `A AND B` both; `WITH` (an
 * exception) and anything unparsable are refused, so that a person decides.
 */
export function isAllowedExpression(expression, allowed = ALLOWED_LICENSES) {
  const tokens = String(expression).match(/\(|\)|[^\s()]+/g) ?? [];
  let at = 0;
  const fail = () => {
    throw new Error('unparsable');
  };
  const primary = () => {
    const token = tokens[at++];
    if (token === '(') {
      const value = or();
      if (tokens[at++] !== ')') fail();
      return value;
    }
    if (token === undefined || /^(AND|OR|WITH|\))$/i.test(token)) fail();
    if (/^with$/i.test(tokens[at] ?? '')) fail();
    return allowed.includes(token);
  };
  const and = () => {
    let value = primary();
    while (/^and$/i.test(tokens[at] ?? '')) {
      at++;
      value = primary() && value;
    }
    return value;
  };
  const or = () => {
    let value = and();
    while (/^or$/i.test(tokens[at] ?? '')) {
      at++;
      value = and() || value;
    }
    return value;
  };
  try {
    const value = or();
    return at === tokens.length && value;
  } catch {
    return false;
  }
}

/** The licence a package.json declares, as one SPDX expression (the legacy `licenses` array: all of them). */
function declaredLicense(manifest) {
  if (typeof manifest.license === 'string') return manifest.license;
  if (manifest.license && typeof manifest.license.type === 'string') return manifest.license.type;
  if (Array.isArray(manifest.licenses)) {
    const types = manifest.licenses.map((entry) => (typeof entry === 'string' ? entry : entry?.type)).filter(Boolean);
    if (types.length > 0) return types.length === 1 ? types[0] : `(${types.join(' AND ')})`;
  }
  return undefined;
}

/**
 * The packages whose code is in the bundle, from esbuild metafiles: name, version, licence, the dist files holding
 * them and their licence texts. Throws one error naming every package that may not ship.
 */
export async function bundledPackages(metafiles, options = {}) {
  const root = options.root ?? process.cwd();
  const allowed = options.allowed ?? ALLOWED_LICENSES;
  /** package folder → the output files its code is in */
  const found = new Map();
  for (const metafile of metafiles) {
    for (const [output, info] of Object.entries(metafile.outputs ?? {})) {
      for (const input of Object.keys(info.inputs ?? {})) {
        const dir = packageDirOf(input);
        if (dir === undefined) continue;
        const outputs = found.get(dir) ?? new Set();
        outputs.add(output.replace(/\\/g, '/').split('/').at(-1));
        found.set(dir, outputs);
      }
    }
  }
  const problems = [];
  const packages = [];
  for (const [dir, outputs] of found) {
    const folder = resolve(root, dir);
    let manifest;
    try {
      manifest = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8'));
    } catch (error) {
      problems.push(`${dir}: cannot read its package.json (${error.message})`);
      continue;
    }
    const id = `${manifest.name ?? dir}@${manifest.version ?? '?'}`;
    const license = declaredLicense(manifest);
    const names = (await readdir(folder)).sort();
    const licenseFiles = names.filter((name) => LICENSE_FILE.test(name));
    const noticeFiles = names.filter((name) => NOTICE_FILE.test(name));
    if (license === undefined) problems.push(`${id}: its package.json declares no licence`);
    else if (!isAllowedExpression(license, allowed)) problems.push(`${id}: licence "${license}" is not in the allow-list (${allowed.join(', ')})`);
    const texts = [];
    if (licenseFiles.length === 0) {
      const fromReadme = (options.licenseInReadme ?? LICENSE_IN_README).includes(id) ? await readmeLicense(folder, names) : undefined;
      if (fromReadme === undefined) problems.push(`${id}: no licence file (LICENSE, LICENCE, COPYING…) in ${dir}`);
      else texts.push(fromReadme);
    }
    for (const name of [...licenseFiles, ...noticeFiles]) {
      texts.push({ name, text: (await readFile(join(folder, name), 'utf8')).replace(/\r\n/g, '\n').trimEnd() });
    }
    packages.push({ name: manifest.name ?? dir, version: manifest.version ?? '?', license: license ?? 'UNKNOWN', dir, outputs: [...outputs].sort(), texts });
  }
  if (problems.length > 0) {
    throw new Error(`third-party licences: ${String(problems.length)} bundled package(s) may not ship:\n  ${problems.join('\n  ')}`);
  }
  return packages.sort((a, b) => (a.name === b.name ? compare(a.version, b.version) : compare(a.name, b.name)));
}

/** The "License" section of a README (to the next heading), when it holds a whole MIT permission notice. */
async function readmeLicense(folder, names) {
  const readme = names.find((name) => /^readme(\.md)?$/i.test(name));
  if (readme === undefined) return undefined;
  const text = (await readFile(join(folder, readme), 'utf8')).replace(/\r\n/g, '\n');
  const section = /^(?:#+ *)?Licen[cs]e\n(?:-+\n)?([\s\S]*?)(?=\n(?:#+ |[^\n]+\n-{3,}\n)|(?![\s\S]))/im.exec(text)?.[1]?.trim();
  if (section === undefined || !/Permission is hereby granted/.test(section) || !/WITHOUT WARRANTY OF ANY KIND/.test(section)) return undefined;
  // Markdown link definitions ("[name]: https://…") that follow the notice are not part of it.
  const notice = section.replace(/(\n\[[^\]\n]+\]: *\S+)+$/, '').trimEnd();
  return { name: `${readme} (its License section; the package has no licence file)`, text: notice };
}

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The text of THIRD_PARTY_LICENSES.txt: a summary line per package, then each package's licence files. */
export function licenseNotice(packages) {
  const lines = [
    'Third-party software bundled in okta-connect',
    '',
    "dist/ contains code from the packages below. Each is listed as name@version, its licence (its package.json's",
    'SPDX expression) and the dist files its code is in, followed by the full text of its licence files. The OS',
    'keychain binding @napi-rs/keyring is not bundled: npm installs it as a dependency, with its own licence.',
    '',
    ...packages.map((pkg) => `${pkg.name}@${pkg.version}  ${pkg.license}  (${pkg.outputs.join(', ')})`),
  ];
  for (const pkg of packages) {
    lines.push('', RULE, `${pkg.name}@${pkg.version}  ${pkg.license}`, RULE);
    for (const text of pkg.texts) lines.push('', `--- ${text.name}`, '', text.text);
  }
  return `${lines.join('\n')}\n`;
}

/** Checks every bundled package and writes the notice file; throws (failing the build) when one may not ship. */
export async function writeThirdPartyLicenses(metafiles, outFile, options = {}) {
  const packages = await bundledPackages(metafiles, options);
  await writeFile(outFile, licenseNotice(packages));
  return packages;
}
