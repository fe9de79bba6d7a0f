export const REDACTED = '[REDACTED]';

/** Remove every secret from a text. Used on every message that leaves the process. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret !== '') out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** The secrets seen in this run; whatever is printed has them removed. Only the ConnectionStore adds to it. */
export interface Redactor {
  add(secret: string): void;
  redact(text: string): string;
}

export function makeRedactor(): Redactor {
  const seen = new Set<string>();
  return {
    add: (secret) => {
      seen.add(secret);
    },
    redact: (text) => redact(text, seen),
  };
}
