import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';

/**
 * Node built-ins that only some commands need, loaded on first use: node:crypto alone is ~20 internal modules that
 * --help and list would otherwise load at start-up for nothing (measured with process.moduleLoadList).
 */
const load = createRequire(import.meta.url);
let crypto: typeof Crypto | undefined;

export function nodeCrypto(): typeof Crypto {
  crypto ??= load('node:crypto') as typeof Crypto;
  return crypto;
}
