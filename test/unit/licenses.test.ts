import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundledPackages, isAllowedExpression, licenseNotice, packageDirOf, writeThirdPartyLicenses, type Metafile } from '../../scripts/licenses.js';

const MIT = 'Permission is hereby granted, free of charge, to any person obtaining a copy of this software ...\nTHE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.';

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

interface FakePackage {
  dir: string;
  manifest: Record<string, unknown>;
  files?: Record<string, string>;
}

/** A node_modules tree on disk, and a metafile whose outputs hold one file of each package (and our own source). */
function project(packages: FakePackage[]): { root: string; metafiles: Metafile[] } {
  const root = mkdtempSync(join(tmpdir(), 'okta-connect-licenses-'));
  roots.push(root);
  for (const pkg of packages) {
    mkdirSync(join(root, pkg.dir), { recursive: true });
    writeFileSync(join(root, pkg.dir, 'package.json'), JSON.stringify(pkg.manifest));
    writeFileSync(join(root, pkg.dir, 'index.js'), '');
    for (const [name, text] of Object.entries(pkg.files ?? { LICENSE: MIT })) writeFileSync(join(root, pkg.dir, name), text);
  }
  const inputs: Record<string, object> = Object.fromEntries(
    ['src/cli.ts', 'okta-connect-stub:0', ...packages.map((pkg) => `${pkg.dir}/index.js`)].map((input) => [input, {}]),
  );
  return { root, metafiles: [{ outputs: { 'dist.build-1/cli.js': { inputs } } }] };
}

describe('packageDirOf', () => {
  it.each([
    ['node_modules/zod/v4/mini/index.js', 'node_modules/zod'],
    ['node_modules/@inquirer/core/dist/index.js', 'node_modules/@inquirer/core'],
    ['node_modules/@okta/okta-sdk-nodejs/node_modules/agent-base/dist/src/index.js', 'node_modules/@okta/okta-sdk-nodejs/node_modules/agent-base'],
    ['node_modules\\chalk\\source\\index.js', 'node_modules/chalk'],
    ['src/cli.ts', undefined],
    ['okta-connect-stub:3', undefined],
  ])('%s → %s', (input, dir) => {
    expect(packageDirOf(input)).toBe(dir);
  });
});

describe('isAllowedExpression', () => {
  it.each([
    ['MIT', true],
    ['Apache-2.0', true],
    ['0BSD', true],
    ['(MIT OR GPL-3.0)', true],
    ['MIT AND ISC', true],
    ['(MIT AND GPL-3.0)', false],
    ['GPL-3.0 OR (MIT AND BSD-3-Clause)', true],
    ['GPL-2.0', false],
    ['LGPL-3.0-or-later', false],
    ['MPL-2.0', false],
    ['Apache-2.0 WITH LLVM-exception', false],
    ['SEE LICENSE IN LICENSE.txt', false],
    ['UNLICENSED', false],
    ['(MIT', false],
    ['MIT)', false],
    ['', false],
    ['mit', false],
  ])('%j → %s', (expression, allowed) => {
    expect(isAllowedExpression(expression)).toBe(allowed);
  });
});

describe('bundledPackages', () => {
  it('lists each bundled package once with its version, licence, dist files and licence texts, sorted', async () => {
    const { root, metafiles } = project([
      { dir: 'node_modules/zod', manifest: { name: 'zod', version: '4.0.0', license: 'MIT' } },
      { dir: 'node_modules/@scope/thing', manifest: { name: '@scope/thing', version: '1.2.3', license: 'Apache-2.0' }, files: { 'LICENSE.md': 'Apache text', NOTICE: 'Notice text' } },
      { dir: 'node_modules/a/node_modules/zod', manifest: { name: 'zod', version: '3.0.0', license: 'ISC' }, files: { 'license-ISC.txt': 'ISC text' } },
    ]);
    metafiles.push({ outputs: { 'dist.build-1/okta.js': { inputs: { 'node_modules/zod/other.js': {} } } } });
    const packages = await bundledPackages(metafiles, { root });
    expect(packages.map((pkg) => [pkg.name, pkg.version, pkg.license, pkg.outputs])).toEqual([
      ['@scope/thing', '1.2.3', 'Apache-2.0', ['cli.js']],
      ['zod', '3.0.0', 'ISC', ['cli.js']],
      ['zod', '4.0.0', 'MIT', ['cli.js', 'okta.js']],
    ]);
    expect(packages[0]?.texts).toEqual([
      { name: 'LICENSE.md', text: 'Apache text' },
      { name: 'NOTICE', text: 'Notice text' },
    ]);
    const notice = licenseNotice(packages);
    expect(notice).toContain('zod@3.0.0  ISC  (cli.js)\n');
    expect(notice).toContain('\n--- license-ISC.txt\n\nISC text\n');
    expect(notice).toContain('Notice text');
  });

  it('fails, naming each one, when a package has no licence file or a licence outside the allow-list', async () => {
    const { root, metafiles } = project([
      { dir: 'node_modules/ok', manifest: { name: 'ok', version: '1.0.0', license: 'MIT' } },
      { dir: 'node_modules/gpl', manifest: { name: 'gpl', version: '2.0.0', license: 'GPL-3.0' } },
      { dir: 'node_modules/bare', manifest: { name: 'bare', version: '3.0.0', license: 'MIT' }, files: { 'README.md': `# bare\n\n## License\n\n${MIT}\n` } },
      { dir: 'node_modules/silent', manifest: { name: 'silent', version: '4.0.0' } },
    ]);
    const failure = bundledPackages(metafiles, { root });
    await expect(failure).rejects.toThrow(/3 bundled package\(s\) may not ship/);
    await expect(failure).rejects.toThrow(/gpl@2\.0\.0: licence "GPL-3\.0" is not in the allow-list/);
    await expect(failure).rejects.toThrow(/bare@3\.0\.0: no licence file/);
    await expect(failure).rejects.toThrow(/silent@4\.0\.0: its package\.json declares no licence/);
    await expect(failure).rejects.not.toThrow(/\bok@/);
  });

  it("takes the README's License section only for a reviewed name@version, and only a whole MIT notice", async () => {
    const readme = `# bare\n\nUsage\n-----\n\ntext\n\nLicense\n-------\n\n(The MIT License)\n\n${MIT}\n\n[link]: https://example.invalid\n`;
    const { root, metafiles } = project([{ dir: 'node_modules/bare', manifest: { name: 'bare', version: '3.0.0', license: 'MIT' }, files: { 'README.md': readme } }]);
    const [pkg] = await bundledPackages(metafiles, { root, licenseInReadme: ['bare@3.0.0'] });
    expect(pkg?.texts).toEqual([{ name: 'README.md (its License section; the package has no licence file)', text: `(The MIT License)\n\n${MIT}` }]);
    // Another version is not the one reviewed.
    await expect(bundledPackages(metafiles, { root, licenseInReadme: ['bare@3.0.1'] })).rejects.toThrow(/bare@3\.0\.0: no licence file/);
    // A README that only names the licence is not its text.
    writeFileSync(join(root, 'node_modules/bare/README.md'), '# bare\n\n## License\n\nMIT\n');
    await expect(bundledPackages(metafiles, { root, licenseInReadme: ['bare@3.0.0'] })).rejects.toThrow(/no licence file/);
  });

  it('writes the notice file only when every package may ship', async () => {
    const { root, metafiles } = project([{ dir: 'node_modules/gpl', manifest: { name: 'gpl', version: '1.0.0', license: 'GPL-3.0' } }]);
    const out = join(root, 'THIRD_PARTY_LICENSES.txt');
    await expect(writeThirdPartyLicenses(metafiles, out, { root })).rejects.toThrow(/GPL-3\.0/);
    writeFileSync(join(root, 'node_modules/gpl/package.json'), JSON.stringify({ name: 'gpl', version: '1.0.0', license: '0BSD' }));
    await writeThirdPartyLicenses(metafiles, out, { root });
    expect(readFileSync(out, 'utf8')).toContain('gpl@1.0.0  0BSD  (cli.js)');
  });
});
