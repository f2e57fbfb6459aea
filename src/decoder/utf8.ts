/**
 * A streaming UTF-8 validator (RFC 3629, as RFC 6455 §8.1 requires): bytes can arrive in
 * any split (across chunks, across the fragments of a message) and are never buffered.
 * Whole runs of complete characters are handed to Node's native `isUtf8`; only the bytes
 * of a character cut by a boundary go through the byte-level state machine.
 */
import { isUtf8 } from 'node:buffer';

export class Utf8Validator {
  /** Continuation bytes still expected for the current character. */
  private need = 0;
  /** Allowed range of the next continuation byte (narrowed after E0, ED, F0, F4: RFC 3629 §4). */
  private lo = 0x80;
  private hi = 0xbf;
  /** Bytes seen so far. */
  private count = 0;
  /** Byte position (from the start) of the first invalid byte, or -1 while valid. */
  errorAt = -1;

  get valid(): boolean {
    return this.errorAt < 0;
  }

  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
    this.count = 0;
    this.errorAt = -1;
  }

  /** Feeds bytes [start, end) of `buf`; returns false once the stream is invalid. */
  push(buf: Uint8Array, start = 0, end = buf.length): boolean {
    if (this.errorAt >= 0) return false;
    let i = start;
    // Finish a character cut by the previous boundary.
    while (i < end && this.need > 0) {
      if (!this.step(buf[i], i - start)) return false;
      i++;
    }
    if (i >= end) {
      this.count += end - start;
      return true;
    }
    // Find where the last (possibly incomplete) character starts: at most 3 bytes back.
    let cut = end;
    for (let back = 1; back <= 3 && end - back >= i; back++) {
      const b = buf[end - back];
      if ((b & 0xc0) !== 0x80) {
        const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
        if (len > back) cut = end - back;
        break;
      }
    }
    // Short runs: a JS scan for ASCII beats a call into C++; else Node's native check.
    let ascii = cut - i <= 64;
    for (let j = i; ascii && j < cut; j++) if (buf[j] >= 0x80) ascii = false;
    if (!ascii && cut > i && !isUtf8(i === 0 && cut === buf.length ? buf : buf.subarray(i, cut))) {
      // Locate the offending byte with the state machine (rare path).
      for (; i < cut; i++) if (!this.step(buf[i], i - start)) return false;
    }
    for (i = cut; i < end; i++) if (!this.step(buf[i], i - start)) return false;
    this.count += end - start;
    return true;
  }

  /** The stream ended: a character left incomplete is an error. */
  end(): boolean {
    if (this.errorAt < 0 && this.need > 0) this.errorAt = this.count;
    return this.errorAt < 0;
  }

  private step(b: number, rel: number): boolean {
    if (this.need > 0) {
      if (b < this.lo || b > this.hi) return this.fail(rel);
      this.need--;
      this.lo = 0x80;
      this.hi = 0xbf;
      return true;
    }
    if (b < 0x80) return true;
    if (b >= 0xc2 && b <= 0xdf) {
      this.need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      this.need = 2;
      if (b === 0xe0) this.lo = 0xa0; // no overlong 3-byte forms
      if (b === 0xed) this.hi = 0x9f; // no surrogates U+D800..U+DFFF
    } else if (b >= 0xf0 && b <= 0xf4) {
      this.need = 3;
      if (b === 0xf0) this.lo = 0x90; // no overlong 4-byte forms
      if (b === 0xf4) this.hi = 0x8f; // nothing above U+10FFFF
    } else {
      return this.fail(rel); // 80..C1 as a lead byte, F5..FF
    }
    return true;
  }

  private fail(rel: number): boolean {
    this.errorAt = this.count + rel;
    return false;
  }
}

/** Length of the longest prefix of `buf` that does not end inside a UTF-8 character. */
export function utf8CompletePrefix(buf: Uint8Array): number {
  const end = buf.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = buf[end - back];
    if ((b & 0xc0) !== 0x80) {
      const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return len > back ? end - back : end;
    }
  }
  return end;
}
