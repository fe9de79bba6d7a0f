import { randomBytes } from 'node:crypto';
import type * as z from 'zod/mini';
import { connectionRecordSchema, type ConnectionRecord } from '../../src/domain/connection.js';
import type { CliError } from '../../src/domain/errors.js';

/** A fresh token shaped like Okta's ("00" + 40 url-safe characters), made at run time so no secret-like literal exists. */
export function makeToken(): string {
  return `00${randomBytes(30).toString('base64url').slice(0, 40)}`;
}

export const NOW = new Date('2025-06-01T12:00:00.000Z');
const DAY_MS = 86_400_000;

/** An ISO time `days` before the fake clock's now. */
export function daysAgo(days: number, now: Date = NOW): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}

/** A saved connection's metadata with sensible defaults. */
export function makeRecord(name: string, orgUrl: string, extra: Partial<z.input<typeof connectionRecordSchema>> = {}): ConnectionRecord {
  return connectionRecordSchema.parse({ name, kind: 'token', orgUrl, createdAt: daysAgo(1), owner: null, lastTest: null, lastUsedAt: null, secretFingerprint: null, secretCommand: null, ...extra });
}

/** A copy of a CliError, same class and fields, so commands that sharpen messages never touch the configured one. */
export function cloneError<E extends CliError>(error: E): E {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(error) as object) as E, error);
  copy.message = error.message;
  copy.stack = error.stack ?? '';
  return copy;
}

/** Every side effect of the fakes, in order, e.g. `secrets.set prod`, `metadata.update`, `okta.revokeCurrentToken`, `prompt.confirm`. */
export type EventLog = string[];
