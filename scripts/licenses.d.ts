// Types for scripts/licenses.js (plain JavaScript, run by the build), for the tests that import it.
export interface Metafile {
  outputs?: Record<string, { inputs?: Record<string, unknown> }>;
}
export interface LicenseText {
  name: string;
  text: string;
}
export interface BundledPackage {
  name: string;
  version: string;
  license: string;
  dir: string;
  outputs: string[];
  texts: LicenseText[];
}
export interface LicenseOptions {
  root?: string;
  allowed?: string[];
  licenseInReadme?: string[];
}
export const ALLOWED_LICENSES: string[];
export const LICENSE_IN_README: string[];
export function packageDirOf(input: string): string | undefined;
export function isAllowedExpression(expression: string, allowed?: string[]): boolean;
export function bundledPackages(metafiles: Metafile[], options?: LicenseOptions): Promise<BundledPackage[]>;
export function licenseNotice(packages: BundledPackage[]): string;
export function writeThirdPartyLicenses(metafiles: Metafile[], outFile: string, options?: LicenseOptions): Promise<BundledPackage[]>;
