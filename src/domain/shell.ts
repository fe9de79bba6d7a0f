/** Words as a POSIX shell reads them, for commands okta-connect prints for a person to paste (doctor's fixes). */

// Characters no POSIX shell treats specially anywhere in a word; anything else is single-quoted.
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `word` as one shell word that stands for exactly itself: unchanged when plain, else single-quoted. */
export function shellQuote(word: string): string {
  if (PLAIN.test(word)) return word;
  // Inside single quotes nothing is special but the quote itself: close, add an escaped quote, reopen.
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line of words, each quoted as needed. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
