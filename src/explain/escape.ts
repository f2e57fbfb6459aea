/**
 * Making untrusted text safe to print on a terminal: the one escaping rule of wsscope,
 * used by the text log (src/views/text.ts), the explainer and send/demo (src/explain,
 * src/teach) and the terminal UI (src/tui/text.ts, which also neutralises blessed tags).
 *
 * Payloads, close reasons and header values come straight off the wire: an ESC byte in
 * them could move the cursor, change colours or retitle the window if printed as is.
 * Every such character is shown as a visible escape (`\x1b`, `\n`, `\u202e`) and never
 * reaches the terminal.
 */

/**
 * C0 controls, DEL, C1 controls (0x80-0x9f: some terminals treat 0x9b as CSI), the line
 * and paragraph separators, the bidi marks, embeddings, overrides and isolates that can
 * make text on screen read differently from the bytes (the "Trojan Source" characters),
 * and the invisible ones (soft hyphen, zero-width space and joiners, word joiner and
 * invisible operators, BOM, interlinear annotation): an inspector shows every character
 * that is there.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\xad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export interface EscapeOptions {
  /**
   * Also double backslashes so the output reads back unambiguously (default true). The
   * TUI turns it off: it shows text (pretty JSON, labels) that has no escapes of its own.
   */
  escapeBackslash?: boolean;
}

/** Returns `text` with every control, reordering or invisible character shown as an escape. */
export function escapeForTerminal(text: string, options: EscapeOptions = {}): string {
  const escaped = options.escapeBackslash === false ? text : text.replace(/\\/g, '\\\\');
  return escaped.replace(UNSAFE, escapeChar);
}

/** `text` escaped and in double quotes (a quote inside is escaped too). */
export function quoteForTerminal(text: string): string {
  return `"${escapeForTerminal(text).replace(/"/g, '\\"')}"`;
}
