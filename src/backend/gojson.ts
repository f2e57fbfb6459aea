/**
 * Go's encoding/json output for the seed's `User` struct, byte for byte.
 *
 * The seed (../shared/seed/websocket-in-go.txt) answers a text message `p` with
 *
 *     ws.WriteJSON(User{Name: string(p), Age: 18, Description: string(p) + "很厉害!!!!"})
 *
 * and gorilla/websocket's WriteJSON (json.go) is `json.NewEncoder(w).Encode(v)` on the
 * message writer. So the reply bytes are what json.Encoder.Encode produces:
 *
 * - fields in struct order with their json tag names: name, age, description
 *   (encode.go typeFields: declaration order);
 * - `Age` is an int: decimal, no quotes (encode.go intEncoder, strconv.AppendInt);
 * - strings through encode.go's string encoder with escapeHTML = true, the Encoder's default
 *   (NewEncoder sets `escapeHTML: true`), rules below in `writeGoString`;
 * - no indentation, and Encode appends one '\n' after the value (stream.go Encoder.Encode:
 *   "e.WriteByte('\n')"), so every reply ends with 0x0a.
 *
 * Go strings are byte strings: `string(p)` keeps the raw bytes, invalid UTF-8 included
 * (gorilla's ReadMessage does not validate text payloads), and `string(p) + "很厉害!!!!"`
 * concatenates bytes. We therefore work on Buffers, never on JS strings.
 */

/**
 * Which Go release's escaping of U+0008 and U+000C to reproduce. Up to Go 1.21 they came out
 * as \u0008 and \u000c; Go 1.22 (Feb 2024, release notes "encoding/json") switched to \b and \f.
 * The seed is of the gorilla/websocket 1.5.0 era (2022-2023, before Go 1.22), so the default
 * is the older form. Everything else is identical between the two.
 */
export type GoJsonEra = 'go1.21' | 'go1.22';
export const DEFAULT_GO_JSON_ERA: GoJsonEra = 'go1.21';

const HEX = '0123456789abcdef'; // encode.go: `const hex = "0123456789abcdef"` (lowercase)

/** The bytes of "很厉害!!!!", appended to the name for the description (the seed's literal). */
export const DESCRIPTION_SUFFIX = Buffer.from('很厉害!!!!', 'utf8');

/**
 * encode.go's htmlSafeSet: the ASCII bytes written as they are when escapeHTML is on. All of
 * 0x20..0x7f are safe (DEL included) except '"', '\\', '<', '>' and '&'.
 */
function isHtmlSafe(b: number): boolean {
  return b >= 0x20 && b !== 0x22 && b !== 0x5c && b !== 0x3c && b !== 0x3e && b !== 0x26;
}

/**
 * Go's utf8.DecodeRune, reduced to what the encoder needs: the length of the valid UTF-8
 * sequence starting at `i`, or 0 when the bytes there are not one (Go returns
 * (RuneError, 1) then, and the encoder replaces that ONE byte). Valid means shortest form,
 * no surrogates, at most U+10FFFF: the accept ranges of unicode/utf8's `first` and
 * `acceptRanges` tables (E0 needs A0..BF next, ED 80..9F, F0 90..BF, F4 80..8F; C0, C1 and
 * F5..FF never start a sequence). A truncated sequence is invalid too, so E4 B8 followed by
 * anything but a continuation byte gives two replacements, one per byte, unlike the
 * WHATWG decoder behind Buffer.toString, which would give one.
 */
export function goRuneLength(s: Buffer, i: number): number {
  const b0 = s[i];
  const rest = s.length - i;
  const cont = (b: number | undefined): boolean => b !== undefined && b >= 0x80 && b <= 0xbf;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return rest >= 2 && cont(s[i + 1]) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (rest < 3) return 0;
    const b1 = s[i + 1];
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return b1 >= lo && b1 <= hi && cont(s[i + 2]) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (rest < 4) return 0;
    const b1 = s[i + 1];
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return b1 >= lo && b1 <= hi && cont(s[i + 2]) && cont(s[i + 3]) ? 4 : 0;
  }
  return 0;
}

/**
 * What each ASCII byte becomes inside a JSON string with escapeHTML on; null: the byte
 * itself (encode.go's htmlSafeSet). One table per era, built once.
 */
function asciiEscapes(era: GoJsonEra): (Buffer | null)[] {
  const table: (Buffer | null)[] = [];
  for (let b = 0; b < 0x80; b++) {
    let text: string | null = null;
    if (b === 0x22 || b === 0x5c) text = '\\' + String.fromCharCode(b); // \" and \\
    else if (b === 0x0a) text = '\\n';
    else if (b === 0x0d) text = '\\r';
    else if (b === 0x09) text = '\\t';
    else if (b === 0x08 && era === 'go1.22') text = '\\b';
    else if (b === 0x0c && era === 'go1.22') text = '\\f';
    else if (!isHtmlSafe(b)) text = '\\u00' + HEX[b >> 4] + HEX[b & 0xf]; // < 0x20, <, >, &
    table.push(text === null ? null : Buffer.from(text, 'latin1'));
  }
  return table;
}
const ESCAPES: Record<GoJsonEra, (Buffer | null)[]> = { 'go1.21': asciiEscapes('go1.21'), 'go1.22': asciiEscapes('go1.22') };
const REPLACEMENT = Buffer.from('\\ufffd', 'latin1');
const LINE_SEPARATOR = Buffer.from('\\u2028', 'latin1');
const PARAGRAPH_SEPARATOR = Buffer.from('\\u2029', 'latin1');

/** U+2028 is E2 80 A8, U+2029 is E2 80 A9: their escape, or null for anything else. */
function separatorEscape(src: Buffer, i: number): Buffer | null {
  if (src[i] !== 0xe2 || src[i + 1] !== 0x80) return null;
  return src[i + 2] === 0xa8 ? LINE_SEPARATOR : src[i + 2] === 0xa9 ? PARAGRAPH_SEPARATOR : null;
}

/**
 * Appends the JSON string for the bytes `src` the way encode.go's string encoder does with
 * escapeHTML = true (Go 1.21 `encodeState.stringBytes` / Go 1.22 `appendString`):
 *
 * - htmlSafeSet ASCII bytes: as they are;
 * - '"' and '\\': backslash + the byte;
 * - '\n', '\r', '\t': \n \r \t; '\b', '\f': \u0008 \u000c before Go 1.22, \b \f from 1.22;
 * - every other byte < 0x20, and '<' '>' '&' (HTML escaping): \u00XX, lowercase hex;
 * - a byte where utf8.DecodeRune fails (RuneError, size 1): the six ASCII characters
 *   \ufffd (the escaped form, not the raw U+FFFD character), one per bad byte;
 * - U+2028 and U+2029 (LINE/PARAGRAPH SEPARATOR, invalid in JavaScript string literals,
 *   Go issue 5836): \u2028 and \u2029;
 * - every other valid UTF-8 sequence, a literal U+FFFD (EF BF BD) included: as it is.
 *
 * Runs of bytes that need no escaping are copied in one go (Go's `start` index).
 * `out` must have room for goStringLength(src) bytes at `pos`; returns the new position.
 */
export function writeGoString(out: Buffer, pos: number, src: Buffer, era: GoJsonEra = DEFAULT_GO_JSON_ERA): number {
  const table = ESCAPES[era];
  const put = (esc: Buffer): void => {
    for (let k = 0; k < esc.length; k++) out[pos++] = esc[k];
  };
  out[pos++] = 0x22;
  let start = 0; // first byte of src not yet copied
  for (let i = 0; i < src.length; ) {
    const b = src[i];
    let esc: Buffer | null;
    let size: number;
    if (b < 0x80) {
      esc = table[b];
      size = 1;
    } else {
      size = goRuneLength(src, i);
      esc = size === 0 ? REPLACEMENT : size === 3 ? separatorEscape(src, i) : null;
      if (size === 0) size = 1;
    }
    if (esc) {
      pos += src.copy(out, pos, start, i);
      put(esc);
      start = i + size;
    }
    i += size;
  }
  pos += src.copy(out, pos, start, src.length);
  out[pos++] = 0x22;
  return pos;
}

/** The length in bytes of writeGoString's output, quotes included. */
export function goStringLength(src: Buffer, era: GoJsonEra = DEFAULT_GO_JSON_ERA): number {
  const table = ESCAPES[era];
  let length = 2;
  for (let i = 0; i < src.length; ) {
    const b = src[i];
    if (b < 0x80) {
      length += table[b]?.length ?? 1;
      i++;
      continue;
    }
    const size = goRuneLength(src, i);
    if (size === 0) {
      length += REPLACEMENT.length;
      i++;
    } else {
      length += size === 3 && separatorEscape(src, i) ? 6 : size;
      i += size;
    }
  }
  return length;
}

/** The JSON string alone (quotes included), e.g. for tests and the docs. */
export function goJsonString(src: Buffer | string, era: GoJsonEra = DEFAULT_GO_JSON_ERA): Buffer {
  const bytes = typeof src === 'string' ? Buffer.from(src, 'utf8') : src;
  const out = Buffer.alloc(goStringLength(bytes, era));
  writeGoString(out, 0, bytes, era);
  return out;
}

/**
 * The reply payload to the text message `p`: exactly what `json.NewEncoder(w).Encode(User{
 * Name: string(p), Age: 18, Description: string(p) + "很厉害!!!!"})` writes, trailing '\n'
 * included. The output is measured first and allocated once (a 16 MiB message of invalid
 * bytes makes a ~192 MiB reply: no room for doubling buffers).
 */
export function encodeUserReply(p: Buffer, era: GoJsonEra = DEFAULT_GO_JSON_ERA): Buffer {
  const head = Buffer.from('{"name":', 'latin1');
  const middle = Buffer.from(',"age":18,"description":', 'latin1');
  const tail = Buffer.from('}\n', 'latin1');
  const description = Buffer.concat([p, DESCRIPTION_SUFFIX]);
  const out = Buffer.allocUnsafe(
    head.length + goStringLength(p, era) + middle.length + goStringLength(description, era) + tail.length,
  );
  let pos = head.copy(out, 0);
  pos = writeGoString(out, pos, p, era);
  pos += middle.copy(out, pos);
  pos = writeGoString(out, pos, description, era);
  pos += tail.copy(out, pos);
  if (pos !== out.length) throw new Error(`internal error: reply length ${pos} != ${out.length}`);
  return out;
}
