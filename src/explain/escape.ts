/**
 * Making untrusted text safe to print on a terminal. Payloads, close reasons and header
 * values come straight off the wire: an ESC byte in them could move the cursor, change
 * colours or retitle the window if printed as is. Everything here shows such characters
 * visibly (`\x1b`, `\n`, `\u202e`) and never lets the terminal interpret them.
 */

const NAMED: Record<string, string> = {
  '\0': '\\0',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\x1b': '\\e',
};

/**
 * C0 controls, DEL, C1 controls (0x80-0x9f: some terminals treat 0x9b as CSI), the
 * line/paragraph separators, and the bidi overrides/isolates that reorder what is shown
 * (the "Trojan Source" characters).
 */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export interface EscapeOptions {
  /** Also double backslashes so the output reads back unambiguously (default true). */
  escapeBackslash?: boolean;
}

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Returns `text` with every control or reordering character shown as an escape. */
export function escapeForTerminal(text: string, options: EscapeOptions = {}): string {
  const escaped = options.escapeBackslash === false ? text : text.replace(/\\/g, '\\\\');
  return escaped.replace(UNSAFE, escapeChar);
}

/** `text` escaped and in double quotes (a quote inside is escaped too). */
export function quoteForTerminal(text: string): string {
  return `"${escapeForTerminal(text).replace(/"/g, '\\"')}"`;
}
