/**
 * Text from outside (Okta's answers, files, the environment, the keychain) as it may reach a terminal: no escape
 * sequence (a title change, a screen clear, a hyperlink), no control character, no bidi override that makes text read
 * other than it is. Pure; used on every output path.
 */

/* eslint-disable no-control-regex -- matching control characters is the point here */
// ESC and 8-bit C1 sequences whole, so that no parameter bytes are left behind as visible junk:
const SEQUENCES = new RegExp(
  [
    // OSC (title, hyperlink, clipboard), DCS, SOS, PM and APC strings, up to their terminator (BEL or ST).
    '(?:\\u001b[\\]PX^_]|[\\u0090\\u0098\\u009d-\\u009f])[^\\u0007\\u001b\\u009c]*(?:\\u0007|\\u001b\\\\|\\u009c)',
    // CSI (colours, cursor moves, screen clears): parameters, intermediates, one final byte.
    '(?:\\u001b\\[|\\u009b)[0-?]*[ -/]*[@-~]',
    // Any other escape: intermediates and one final byte (ESC c resets the terminal, ESC ( 0 switches charsets).
    '\\u001b[ -/]*[0-~]',
  ].join('|'),
  'g',
);
const SPACING = /[\t\n\v\f\r]/g;
// C0, DEL and C1 controls; the bidi marks, embeddings, overrides and isolates (U+061C, U+200E/F, U+202A-E, U+2066-9).
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

export function printable(text: string): string {
  // Line breaks and tabs become spaces (words stay apart, and no value can start a line of its own); the rest goes.
  return text.replace(SEQUENCES, '').replace(SPACING, ' ').replace(CONTROLS, '');
}

// JSON.stringify escapes C0 controls but leaves DEL, C1 and bidi characters raw; as \uXXXX they are the same data.
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** JSON for stdout: the same value, with every character a terminal could act on written as an escape. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(JSON_RAW, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
