/**
 * Showing payload bytes: as text when they are valid UTF-8, as indented JSON when they
 * are a JSON object or array, otherwise as a hex dump. All output is terminal-safe.
 */
import { hexOf, latin1Of } from '../decoder/strings';
import { escapeForTerminal, quoteForTerminal } from './escape';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as a string if they are valid UTF-8 (RFC 3629), otherwise null. */
export function utf8OrNull(bytes: Buffer): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * A fragment of a text message may start or end inside a UTF-8 character (RFC 6455 §5.4
 * allows cutting anywhere; §8.1 checks the reassembled message). Splits off such cut
 * bytes: `head` are continuation bytes ending a character begun in the previous fragment,
 * `tail` the start of a character that the next fragment completes. Null when the rest
 * is not valid UTF-8 either.
 */
export function splitCutCharacters(bytes: Buffer, leading: boolean, trailing: boolean): { head: Buffer; text: string; tail: Buffer } | null {
  let start = 0;
  if (leading) while (start < Math.min(3, bytes.length) && (bytes[start] & 0xc0) === 0x80) start++;
  let end = bytes.length;
  if (trailing) {
    // The last lead byte among the last 3: cut there if its sequence is incomplete.
    for (let i = bytes.length - 1; i >= Math.max(start, bytes.length - 3); i--) {
      const b = bytes[i];
      if ((b & 0xc0) === 0x80) continue;
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (bytes.length - i < need) end = i;
      break;
    }
  }
  if (start === 0 && end === bytes.length) return null;
  const text = utf8OrNull(bytes.subarray(start, end));
  return text === null ? null : { head: bytes.subarray(0, start), text, tail: bytes.subarray(end) };
}

/** Lowercase hex bytes separated by spaces: "81 05 48". */
export function spacedHex(bytes: Buffer): string {
  // The hex digits copied between spaces, read back as one latin1 string: the TUI makes one
  // per frame row on every draw, and the regex replace this replaces was most of a row's
  // cost (issue #13).
  if (bytes.length === 0) return '';
  const hex = hexOf(bytes, 0, bytes.length);
  const out = Buffer.alloc(3 * bytes.length - 1, 0x20);
  for (let i = 0; i < bytes.length; i++) {
    out[3 * i] = hex.charCodeAt(2 * i);
    out[3 * i + 1] = hex.charCodeAt(2 * i + 1);
  }
  return latin1Of(out, 0, out.length);
}

/**
 * A classic hex dump, 16 bytes a row: offset, hex, printable ASCII ('.' for the rest).
 * At most `maxBytes` bytes are shown; a last line says how many were left out.
 */
export function hexDump(bytes: Buffer, maxBytes = 256, indent = ''): string[] {
  const shown = bytes.subarray(0, maxBytes);
  const lines: string[] = [];
  for (let row = 0; row < shown.length; row += 16) {
    const chunk = shown.subarray(row, row + 16);
    const hex = spacedHex(chunk).padEnd(47, ' ');
    let ascii = '';
    for (const b of chunk) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    lines.push(`${indent}${row.toString(16).padStart(4, '0')}  ${hex}  ${ascii}`);
  }
  if (bytes.length > shown.length) lines.push(`${indent}... ${bytes.length - shown.length} more bytes`);
  return lines;
}

/**
 * Indents a JSON text that JSON.parse accepts, without re-serializing its values: numbers
 * such as 12345678901234567890 and escapes inside strings stay exactly as sent (a
 * parse/stringify round trip would round the number and rewrite the escapes).
 * Returns null when `text` is not a JSON object or array.
 */
export function prettyJson(text: string, indent = '  '): string | null {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return null;
  try {
    JSON.parse(trimmed);
  } catch {
    return null;
  }
  let out = '';
  let depth = 0;
  let i = 0;
  const newline = () => '\n' + indent.repeat(depth);
  const nextSignificant = (from: number) => {
    let j = from;
    while (j < trimmed.length && /\s/.test(trimmed[j])) j++;
    return trimmed[j];
  };
  while (i < trimmed.length) {
    const ch = trimmed[i];
    if (ch === '"') {
      // Copy the string token verbatim, escapes included.
      let j = i + 1;
      while (trimmed[j] !== '"') j += trimmed[j] === '\\' ? 2 : 1;
      out += trimmed.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      if (nextSignificant(i + 1) === close) {
        out += ch + close;
        i = trimmed.indexOf(close, i + 1) + 1;
        continue;
      }
      depth++;
      out += ch + newline();
    } else if (ch === '}' || ch === ']') {
      depth--;
      out += newline() + ch;
    } else if (ch === ',') {
      out += ',' + newline();
    } else if (ch === ':') {
      out += ': ';
    } else {
      out += ch;
    }
    i++;
  }
  return out;
}

export interface PayloadView {
  /** 'text' (valid UTF-8), 'json' (a JSON object or array) or 'hex'. */
  kind: 'text' | 'json' | 'hex';
  lines: string[];
}

/**
 * The payload shown the best way: JSON (indented) or text when `asText` and the bytes are
 * valid UTF-8, else a hex dump. Text longer than `maxTextChars` is cut with a note.
 */
export function showPayload(bytes: Buffer, options: { asText: boolean; maxTextChars?: number; maxDumpBytes?: number; indent?: string }): PayloadView {
  const indent = options.indent ?? '';
  const text = options.asText ? utf8OrNull(bytes) : null;
  if (text !== null) {
    const json = prettyJson(text);
    if (json !== null) {
      return { kind: 'json', lines: json.split('\n').map((line) => indent + escapeForTerminal(line, { escapeBackslash: false })) };
    }
    const max = options.maxTextChars ?? 2000;
    const cut = text.length > max ? text.slice(0, max) : text;
    const lines = [indent + quoteForTerminal(cut)];
    if (cut.length < text.length) lines.push(`${indent}... ${text.length - cut.length} more characters`);
    return { kind: 'text', lines };
  }
  return { kind: 'hex', lines: hexDump(bytes, options.maxDumpBytes ?? 256, indent) };
}
