/**
 * Styled text for the terminal UI, kept pure so every screen can be tested as strings.
 *
 * A screen line is a list of segments (text + style). Every segment's text goes through
 * `visible()` when it is turned into blessed markup by `toMarkup()`: that single choke
 * point guarantees that bytes from the wire (payloads, header values, close reasons) can
 * never reach the terminal as escape sequences, and that blessed tag syntax such as
 * `{red-fg}` is shown literally instead of being interpreted.
 */
import { escapeForTerminal } from '../explain/escape';

// blessed's own width table (east asian wide = 2 columns, combining = 0), so that our
// clipping and padding agree with what blessed draws. A pure module: no terminal.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const unicode = require('blessed/lib/unicode') as { charWidth(str: string, i: number): number };

export type Colour =
  | 'red'
  | 'green'
  | 'yellow'
  | 'blue'
  | 'magenta'
  | 'cyan'
  | 'white'
  | 'light-red'
  | 'light-green'
  | 'light-yellow'
  | 'light-blue'
  | 'light-magenta'
  | 'light-cyan';

export interface Seg {
  t: string;
  fg?: Colour;
  bold?: boolean;
  /** Reverse video: the selection highlight, visible without colour (NO_COLOR). */
  inverse?: boolean;
  underline?: boolean;
}

export type Line = Seg[];

/**
 * A document of lines that may be computed lazily: the detail views of a 64 KiB frame
 * (4,096 hex rows) only ever build the rows on screen.
 */
export interface Doc {
  readonly length: number;
  line(i: number): Line;
}

/** Lines from arrays (eager) and docs (lazy), one after the other. */
export function doc(...parts: (Line[] | Doc)[]): Doc {
  const docs: Doc[] = parts.map((p) => (Array.isArray(p) ? { length: p.length, line: (i: number) => p[i] } : p));
  const length = docs.reduce((n, d) => n + d.length, 0);
  return {
    length,
    line(i: number): Line {
      for (const d of docs) {
        if (i < d.length) return d.line(i);
        i -= d.length;
      }
      return [];
    },
  };
}

/** Every line of a doc (for tests and small documents). */
export function allLines(d: Doc | Line[]): Line[] {
  return Array.isArray(d) ? d : Array.from({ length: d.length }, (_, i) => d.line(i));
}

export const seg = (t: string, fg?: Colour, extra: Omit<Seg, 't' | 'fg'> = {}): Seg => ({ t, fg, ...extra });

/** The line's text without any style (what a monochrome terminal shows). */
export function plain(line: Line): string {
  return line.map((s) => s.t).join('');
}

/**
 * Text made safe and visible by wsscope's one escaping rule (src/explain/escape.ts): ESC
 * becomes `\x1b`, newline `\n`, bidi overrides `\u202e`... Backslashes are kept as they
 * are: the TUI shows JSON and labels whose backslashes are their own.
 */
export function visible(text: string): string {
  return escapeForTerminal(text, { escapeBackslash: false });
}

/** Neutralises blessed tag syntax (the same as blessed.escape). */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (ch) => (ch === '{' ? '{open}' : '{close}'));
}

/** Display width in terminal columns (wide CJK = 2, combining = 0), as blessed counts it. */
export function width(text: string): number {
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    w += code < 0x7f && code >= 0x20 ? 1 : unicode.charWidth(text, i);
    if (code >= 0xd800 && code <= 0xdbff) i++;
  }
  return w;
}

/** The longest prefix of `text` that fits in `cols` columns. */
export function clipText(text: string, cols: number): string {
  if (cols <= 0) return '';
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const pair = code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    const cw = code < 0x7f && code >= 0x20 ? 1 : unicode.charWidth(text, i);
    if (w + cw > cols) return text.slice(0, i);
    w += cw;
    i += pair - 1;
  }
  return text;
}

/** Pads (or clips) plain text to exactly `cols` columns. */
export function fit(text: string, cols: number, align: 'left' | 'right' = 'left'): string {
  const clipped = clipText(text, cols);
  const pad = ' '.repeat(Math.max(0, cols - width(clipped)));
  return align === 'left' ? clipped + pad : pad + clipped;
}

/** Clips a line to `cols` columns (segments past the edge are cut or dropped). */
export function clipLine(line: Line, cols: number): Line {
  const out: Line = [];
  let left = cols;
  for (const s of line) {
    if (left <= 0) break;
    const shown = visible(s.t);
    const t = clipText(shown, left);
    if (t.length === 0) {
      if (s.t.length === 0) continue;
      break;
    }
    out.push({ ...s, t });
    left -= width(t);
    if (t.length < shown.length) break;
  }
  return out;
}

/** Pads a line with spaces to `cols` columns (after clipping). */
export function padLine(line: Line, cols: number, style: Omit<Seg, 't'> = {}): Line {
  const clipped = clipLine(line, cols);
  const used = clipped.reduce((n, s) => n + width(s.t), 0);
  return used < cols ? [...clipped, { ...style, t: ' '.repeat(cols - used) }] : clipped;
}

/**
 * Blessed markup for a line: text made visible and tag-escaped, colours only when
 * `colour` is true (NO_COLOR turns them off; bold, underline and inverse stay, since
 * they are not colours and the selection must remain visible).
 */
export function toMarkup(line: Line, colour: boolean): string {
  let out = '';
  for (const s of line) {
    const text = escapeTags(visible(s.t));
    if (text.length === 0) continue;
    const tags: string[] = [];
    if (colour && s.fg) tags.push(`${s.fg}-fg`);
    if (s.bold) tags.push('bold');
    if (s.underline) tags.push('underline');
    if (s.inverse) tags.push('inverse');
    out += tags.length ? `${tags.map((t) => `{${t}}`).join('')}${text}{/}` : text;
  }
  return out;
}

/** Wraps plain text into lines of at most `cols` columns (hard wrap, no word logic; linear). */
export function wrapText(text: string, cols: number): string[] {
  if (cols <= 0) return [text];
  const lines: string[] = [];
  let start = 0;
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const cw = code < 0x7f && code >= 0x20 ? 1 : unicode.charWidth(text, i);
    // A character wider than the line still gets a line of its own (no endless loop).
    if (w + cw > cols && i > start) {
      lines.push(text.slice(start, i));
      start = i;
      w = 0;
    }
    w += cw;
    if (code >= 0xd800 && code <= 0xdbff) i++;
  }
  lines.push(text.slice(start));
  return lines;
}

/**
 * Wraps text at spaces into lines of at most `cols` columns; longer words are cut. The
 * spaces stay where they were (at the end of a line when it breaks there), so header
 * values shown "as sent" keep every character.
 */
export function wordWrap(text: string, cols: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const token of text.match(/[^ ]+ *| +/g) ?? ['']) {
    if (width((line + token).trimEnd()) <= cols) {
      line += token;
      continue;
    }
    if (line) lines.push(line.trimEnd());
    const parts = wrapText(token, cols);
    line = parts.pop()!;
    lines.push(...parts);
  }
  lines.push(line.trimEnd());
  return lines;
}

/** 1234567 -> "1,234,567". */
export function thousands(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A byte count for people: 999 B, 1.5 KiB, 12.0 MiB. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)} GiB`;
}
