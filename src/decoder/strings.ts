/**
 * Buffer → string on the hot path. `buf.toString(enc, start, end)` re-dispatches on the
 * encoding name on every call; Buffer.prototype's own hexSlice/utf8Slice (what toString
 * calls in the end, present in every Node release) skip that. Falls back to toString
 * where they are missing.
 */
import { endianness } from 'node:os';
import { unmaskInto } from './mask';

interface Slices {
  hexSlice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
const proto = Buffer.prototype as unknown as Partial<Slices>;
const FAST = typeof proto.hexSlice === 'function' && typeof proto.utf8Slice === 'function' && typeof proto.latin1Slice === 'function';

/** Lowercase hex of buf[start, end). */
export function hexOf(buf: Buffer, start: number, end: number): string {
  if (end <= start) return '';
  return FAST ? (buf as unknown as Slices).hexSlice(start, end) : buf.toString('hex', start, end);
}

/** Latin-1 text of buf[start, end) (one char per byte: ASCII bytes read as text). */
export function latin1Of(buf: Buffer, start: number, end: number): string {
  if (end <= start) return '';
  return FAST ? (buf as unknown as Slices).latin1Slice(start, end) : buf.toString('latin1', start, end);
}

/** UTF-8 text of buf[start, end) (invalid sequences become U+FFFD). */
export function utf8Of(buf: Buffer, start: number, end: number): string {
  if (end <= start) return '';
  return FAST ? (buf as unknown as Slices).utf8Slice(start, end) : buf.toString('utf8', start, end);
}

/**
 * A payload as it crossed the wire, not yet unmasked: views of the chunks it arrived in
 * (which nobody writes to once relayed) and a copy of the masking key. The terminal UI
 * shows a few dozen bytes of a 64 KiB payload, so unmasking and copying all of it for
 * every frame was wasted work (issue #13: a tenth of the TUI's thread under 64 KiB
 * messages); the clear bytes are made when, and as far as, someone reads them.
 */
export class WireBytes {
  constructor(
    private readonly parts: readonly Buffer[],
    /** The masking key (RFC 6455 §5.3), or null for an unmasked payload. */
    private readonly key: Uint8Array | null,
    readonly length: number,
  ) {}

  /** The first n clear bytes (all of them by default), unmasked into a buffer of their own. */
  clear(n = this.length): Buffer {
    const count = Math.min(n, this.length);
    const out = count >= LAZY_HEX_MIN ? Buffer.allocUnsafeSlow(count) : Buffer.allocUnsafe(count);
    let at = 0;
    for (const part of this.parts) {
      if (at >= count) break;
      const m = Math.min(part.length, count - at);
      if (this.key) unmaskInto(part, 0, out, at, m, this.key, at & 3);
      else part.copy(out, at, 0, m);
      at += m;
    }
    return out;
  }
}

/**
 * Hex computed on first read. Hex-encoding a 64 KiB payload costs more than decoding the
 * frame (~0.2 ms): large previews keep their bytes (an owned copy, half the size of the
 * hex, or the wire bytes themselves: WireBytes) and a view that never shows them never
 * pays. Small previews stay plain strings.
 */
export class LazyHex {
  private hex: string | null = null;
  constructor(private bytes: Buffer | WireBytes | null) {}

  /**
   * The bytes while the hex string has not been made: a view that writes the hex straight
   * into its output (views/json.ts) never makes it. Making a 128 KiB string costs more than
   * decoding the frame.
   */
  get pendingBytes(): Buffer | null {
    return this.hex === null ? this.clearBytes() : null;
  }

  get value(): string {
    if (this.hex === null) {
      const bytes = this.clearBytes();
      this.hex = hexOf(bytes, 0, bytes.length);
      this.bytes = null;
    }
    return this.hex;
  }

  /**
   * The first n bytes (for a preview of a few dozen), without making the whole hex string
   * or unmasking the whole payload. Read-only: may be a view of the kept bytes.
   */
  prefix(n: number): Buffer {
    const bytes = this.bytes;
    if (bytes instanceof WireBytes) return bytes.clear(n);
    if (bytes) return bytes.subarray(0, n);
    return Buffer.from(this.hex!.slice(0, 2 * n), 'hex');
  }

  /** The clear bytes, unmasked once when they are still wire bytes. */
  private clearBytes(): Buffer {
    if (this.bytes instanceof WireBytes) this.bytes = this.bytes.clear();
    return this.bytes!;
  }
}

/** Previews of at least this many bytes get lazy hex. */
export const LAZY_HEX_MIN = 4096;

/**
 * Where defineLazyHex keeps an object's LazyHex values (a hidden symbol property: invisible
 * to JSON.stringify, spreading and deep equality).
 */
const LAZY_HEX = Symbol('wsscope.lazyHex');

/**
 * Makes obj[key] an own, enumerable property that reads lazy.value (so JSON.stringify,
 * spreading and deep equality see a plain string) and can still be assigned.
 */
export function defineLazyHex(obj: object, key: string, lazy: LazyHex): void {
  let override: string | undefined;
  const holder = obj as { [LAZY_HEX]?: Record<string, LazyHex> };
  if (!holder[LAZY_HEX]) Object.defineProperty(obj, LAZY_HEX, { value: {}, enumerable: false });
  const lazies = holder[LAZY_HEX]!;
  lazies[key] = lazy;
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get: () => override ?? lazy.value,
    set: (v: string) => {
      override = v;
      delete lazies[key];
    },
  });
}

/** The bytes behind obj[key] when it is a lazy hex value not yet made into a string, else null. */
export function lazyHexBytes(obj: object, key: string): Buffer | null {
  return lazyHexOf(obj, key)?.pendingBytes ?? null;
}

/** The LazyHex behind obj[key] (defineLazyHex), unless none was defined or a value was assigned since. */
function lazyHexOf(obj: object, key: string): LazyHex | undefined {
  return (obj as { [LAZY_HEX]?: Record<string, LazyHex> })[LAZY_HEX]?.[key];
}

/**
 * The first n bytes of the hex field obj[key] (a frame's `payload`, a message's `data`),
 * without making the whole string of a lazy hex value: what a one-line preview needs.
 */
export function hexFieldPrefix(obj: object, key: string, n: number): Buffer {
  const lazy = lazyHexOf(obj, key);
  if (lazy) return lazy.prefix(n);
  const value = (obj as Record<string, unknown>)[key];
  return Buffer.from(typeof value === 'string' ? value.slice(0, 2 * n) : '', 'hex');
}

const HEX_DIGITS = '0123456789abcdef';
/** Two hex digits per byte as one 16-bit store, in the machine's byte order. */
const HEX_PAIRS = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  const hi = HEX_DIGITS.charCodeAt(i >> 4);
  const lo = HEX_DIGITS.charCodeAt(i & 15);
  HEX_PAIRS[i] = endianness() === 'LE' ? hi | (lo << 8) : (hi << 8) | lo;
}

/**
 * Lowercase hex of buf[start, end) written into `out` as 16-bit digit pairs from out[at]
 * (`out` must start at an even byte offset of its ArrayBuffer). A JS loop, yet 3 times
 * faster than hexSlice for 64 KiB, because no string is made.
 */
export function writeHexPairs(buf: Buffer, start: number, end: number, out: Uint16Array, at: number): void {
  for (let i = start, k = at; i < end; i++, k++) out[k] = HEX_PAIRS[buf[i]];
}
