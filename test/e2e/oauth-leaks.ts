import type { NewApp } from '../fixtures/fake-okta-oauth.js';
import { findLeaks, type RunResult, type Sandbox } from './harness.js';

/** PEM body lines and the JWK's private members: none may appear anywhere. */
export function keyLeaks(made: NewApp, sandbox: Sandbox, results: RunResult[]): string[] {
  const secrets = [
    ...made.privatePem.split('\n').filter((line) => line.length >= 32 && !line.startsWith('-----')),
    ...(['d', 'p', 'q', 'dp', 'dq', 'qi'] as const).map((member) => made.privateJwk[member]).filter((value): value is string => typeof value === 'string'),
  ];
  return secrets.flatMap((secret) => findLeaks(secret, sandbox, results));
}
