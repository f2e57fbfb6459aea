/**
 * Backpressure from the outputs (NDJSON on stdout, the text log, capture and pcap files)
 * to the proxy: when an output cannot keep up, the proxy pauses reading from its sockets
 * instead of queueing events in memory without bound. TCP flow control then slows the
 * senders down, exactly as a slow receiver would.
 */
import type { Writable } from 'stream';

/** Bytes an output may queue before the proxy stops reading (per output stream). */
export const OUTPUT_HIGH_WATER = 8 * 1024 * 1024;

export class OutputGate {
  private readonly streams: Writable[] = [];
  private waiting: (() => void)[] = [];

  constructor(private readonly highWater = OUTPUT_HIGH_WATER) {}

  add(stream: Writable): this {
    this.streams.push(stream);
    stream.on('drain', () => this.check());
    stream.on('close', () => this.check());
    return this;
  }

  /** True while some output holds more than the high-water mark. */
  get full(): boolean {
    for (const s of this.streams) if (!s.destroyed && s.writableLength > this.highWater) return true;
    return false;
  }

  /** Calls `cb` once no output is full any more (at once if none is). */
  whenClear(cb: () => void): void {
    if (!this.full) return cb();
    this.waiting.push(cb);
  }

  private check(): void {
    if (this.full || this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb();
  }
}
