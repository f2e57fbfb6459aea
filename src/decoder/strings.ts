/**
 * Buffer → string on the hot path. `buf.toString(enc, start, end)` re-dispatches on the
 * encoding name on every call; Buffer.prototype's own hexSlice/utf8Slice (what toString
 * calls in the end, present in every Node release) skip that. Falls back to toString
 * where they are missing.
 */
interface Slices {
  hexSlice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
const proto = Buffer.prototype as unknown as Partial<Slices>;
const FAST = typeof proto.hexSlice === 'function' && typeof proto.utf8Slice === 'function';

/** Lowercase hex of buf[start, end). */
export function hexOf(buf: Buffer, start: number, end: number): string {
  if (end <= start) return '';
  return FAST ? (buf as unknown as Slices).hexSlice(start, end) : buf.toString('hex', start, end);
}

/** UTF-8 text of buf[start, end) (invalid sequences become U+FFFD). */
export function utf8Of(buf: Buffer, start: number, end: number): string {
  if (end <= start) return '';
  return FAST ? (buf as unknown as Slices).utf8Slice(start, end) : buf.toString('utf8', start, end);
}

/**
 * Hex computed on first read. Hex-encoding a 64 KiB payload costs more than decoding the
 * frame (~0.2 ms): large previews keep their bytes (an owned copy, half the size of the
 * hex) and a view that never shows them never pays. Small previews stay plain strings.
 */
export class LazyHex {
  private hex: string | null = null;
  constructor(private bytes: Buffer | null) {}

  get value(): string {
    if (this.hex === null) {
      this.hex = hexOf(this.bytes!, 0, this.bytes!.length);
      this.bytes = null;
    }
    return this.hex;
  }
}

/** Previews of at least this many bytes get lazy hex. */
export const LAZY_HEX_MIN = 4096;

/**
 * Makes obj[key] an own, enumerable property that reads lazy.value (so JSON.stringify,
 * spreading and deep equality see a plain string) and can still be assigned.
 */
export function defineLazyHex(obj: object, key: string, lazy: LazyHex): void {
  let override: string | undefined;
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get: () => override ?? lazy.value,
    set: (v: string) => {
      override = v;
    },
  });
}
