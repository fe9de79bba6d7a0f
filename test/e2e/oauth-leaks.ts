import type { NewApp } from '../fixtures/fake-okta-oauth.js';
import { expect } from 'vitest';
import { findLeaks, secretToolLookup, type RunResult, type Sandbox } from './harness.js';

/** PEM body lines and the JWK's private members: none may appear anywhere. */
export function keyLeaks(made: NewApp, sandbox: Sandbox, results: RunResult[]): string[] {
  const secrets = [
    ...made.privatePem.split('\n').filter((line) => line.length >= 32 && !line.startsWith('-----')),
    ...(['d', 'p', 'q', 'dp', 'dq', 'qi'] as const).map((member) => made.privateJwk[member]).filter((value): value is string => typeof value === 'string'),
  ];
  return secrets.flatMap((secret) => findLeaks(secret, sandbox, results));
}

/** The private members of the key the keychain holds for `name` (a generated key is known nowhere else). */
export function storedKeyLeaks(name: string, sandbox: Sandbox, results: RunResult[]): string[] {
  const secret = secretToolLookup(name);
  expect(secret, 'the keychain holds the OAuth secret').toBeDefined();
  const { privateKey } = JSON.parse(secret ?? '{}') as { privateKey: Record<string, string> };
  const privateParts = ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((member) => privateKey[member]).filter((value): value is string => typeof value === 'string');
  expect(privateParts.length).toBeGreaterThan(0);
  return privateParts.flatMap((part) => findLeaks(part, sandbox, results));
}
