/**
 * A growable byte queue for the HTTP layer: appends copy into spare capacity (doubling
 * when full), so bytes fed one at a time cost O(n) overall, not O(n^2) as repeated
 * Buffer.concat would.
 */
const EMPTY = Buffer.alloc(0);

export class ByteQueue {
  private buf: Buffer = EMPTY;
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  /** Appends chunk[start, end) (a copy). */
  append(chunk: Buffer, start = 0, end = chunk.length): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.end + n > this.buf.length) {
      const size = this.length + n;
      if (size <= this.buf.length / 2) {
        this.buf.copy(this.buf, 0, this.start, this.end);
      } else {
        const next = Buffer.allocUnsafe(Math.max(256, size * 2));
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      }
      this.end -= this.start;
      this.start = 0;
    }
    chunk.copy(this.buf, this.end, start, end);
    this.end += n;
  }

  /** The queued bytes (a view: valid until the next append). */
  view(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  consume(n: number): void {
    this.start = Math.min(this.end, this.start + n);
    if (this.start === this.end) this.clear();
  }

  /** Takes all queued bytes out as a copy. */
  take(): Buffer {
    const out = Buffer.from(this.view());
    this.clear();
    return out;
  }

  clear(): void {
    this.start = 0;
    this.end = 0;
    if (this.buf.length > 64 * 1024) this.buf = EMPTY;
  }

  /** Empties the queue and frees its buffer (no more appends expected: e.g. the HTTP layer is done). */
  release(): void {
    this.start = 0;
    this.end = 0;
    this.buf = EMPTY;
  }
}
