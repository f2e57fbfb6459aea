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
 *   (NewEncoder sets `escapeHTML: true`), rules below in `appendGoString`;
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
 * A growable byte buffer. Runs of bytes that need no escaping are copied in one go (as Go
 * does with its `start` index), so a 16 MiB message is not pushed byte by byte.
 */
export class ByteWriter {
  private buf: Buffer;
  length = 0;
  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(capacity);
  }
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }
  ascii(text: string): void {
    this.reserve(text.length);
    this.length += this.buf.write(text, this.length, 'latin1');
  }
  bytes(src: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.reserve(to - from);
    this.length += src.copy(this.buf, this.length, from, to);
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
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
 */
export function appendGoString(out: ByteWriter, src: Buffer, era: GoJsonEra = DEFAULT_GO_JSON_ERA): void {
  out.byte(0x22);
  let start = 0; // first byte not yet copied to `out`
  for (let i = 0; i < src.length; ) {
    const b = src[i];
    if (b < 0x80) {
      if (isHtmlSafe(b)) {
        i++;
        continue;
      }
      out.bytes(src, start, i);
      if (b === 0x22 || b === 0x5c) {
        out.byte(0x5c);
        out.byte(b);
      } else if (b === 0x0a) {
        out.ascii('\\n');
      } else if (b === 0x0d) {
        out.ascii('\\r');
      } else if (b === 0x09) {
        out.ascii('\\t');
      } else if (b === 0x08 && era === 'go1.22') {
        out.ascii('\\b');
      } else if (b === 0x0c && era === 'go1.22') {
        out.ascii('\\f');
      } else {
        out.ascii('\\u00' + HEX[b >> 4] + HEX[b & 0xf]);
      }
      i++;
      start = i;
      continue;
    }
    const size = goRuneLength(src, i);
    if (size === 0) {
      out.bytes(src, start, i);
      out.ascii('\\ufffd');
      i++;
      start = i;
      continue;
    }
    // U+2028 is E2 80 A8, U+2029 is E2 80 A9.
    if (size === 3 && b === 0xe2 && src[i + 1] === 0x80 && (src[i + 2] === 0xa8 || src[i + 2] === 0xa9)) {
      out.bytes(src, start, i);
      out.ascii('\\u202' + HEX[src[i + 2] & 0xf]);
      i += 3;
      start = i;
      continue;
    }
    i += size;
  }
  out.bytes(src, start, src.length);
  out.byte(0x22);
}

/** The JSON string alone (quotes included), e.g. for tests and the docs. */
export function goJsonString(src: Buffer | string, era: GoJsonEra = DEFAULT_GO_JSON_ERA): Buffer {
  const out = new ByteWriter();
  appendGoString(out, typeof src === 'string' ? Buffer.from(src, 'utf8') : src, era);
  return out.result();
}

/**
 * The reply payload to the text message `p`: exactly what `json.NewEncoder(w).Encode(User{
 * Name: string(p), Age: 18, Description: string(p) + "很厉害!!!!"})` writes, trailing '\n'
 * included.
 */
export function encodeUserReply(p: Buffer, era: GoJsonEra = DEFAULT_GO_JSON_ERA): Buffer {
  const out = new ByteWriter(2 * p.length + 64);
  out.ascii('{"name":');
  appendGoString(out, p, era);
  out.ascii(',"age":18,"description":');
  appendGoString(out, Buffer.concat([p, DESCRIPTION_SUFFIX]), era);
  out.ascii('}\n');
  return out.result();
}
