import { UsageError } from '../domain/errors.js';

const MAX_TIMEOUT_S = 600;

export function parseTimeout(raw: string | undefined): number {
  if (raw === undefined) return 15_000;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_S) {
    throw new UsageError(`invalid --timeout: "${raw}" is not a number of seconds from 0 to ${String(MAX_TIMEOUT_S)}`, {
      hint: 'e.g. --timeout 30',
    });
  }
  return Math.round(value * 1000);
}

/** "Super Administrator", or "Org Administrator +1". */
export function summariseRoles(roles: string[]): string {
  if (roles.length === 0) return 'no admin role';
  const [first, ...rest] = roles;
  return rest.length === 0 ? (first ?? '') : `${first ?? ''} +${String(rest.length)}`;
}
