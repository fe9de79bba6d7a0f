import type * as Crypto from 'node:crypto';

/**
 * Node built-ins that only some commands need, loaded on first use: node:crypto alone is ~20 internal modules that
 * --help and list would otherwise load at start-up for nothing (measured with process.moduleLoadList). Through
 * process.getBuiltinModule (Node 20.16+), not a createRequire of node:module, which is one more module to load.
 */
let crypto: typeof Crypto | undefined;

export function nodeCrypto(): typeof Crypto {
  // eslint-disable-next-line no-restricted-globals -- a built-in module, not the process's streams or environment
  crypto ??= process.getBuiltinModule('node:crypto');
  return crypto;
}
