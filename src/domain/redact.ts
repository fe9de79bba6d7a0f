export const REDACTED = '[REDACTED]';

/** Remove every secret from a text. Used on every message that leaves the process. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    // Short values would blank out ordinary words; tokens are at least 20 characters.
    if (secret.length >= 8) out = out.split(secret).join(REDACTED);
  }
  return out;
}
