/**
 * Backpressure from the outputs (NDJSON on stdout, the text log, capture and pcap files)
 * to the proxy: when an output cannot keep up, the proxy pauses reading from its sockets
 * instead of queueing events in memory without bound. TCP flow control then slows the
 * senders down, exactly as a slow receiver would.
 */
import type { Writable } from 'stream';

/** Bytes an output may queue before the proxy stops reading (per output stream). */
const OUTPUT_HIGH_WATER = 8 * 1024 * 1024;

/** Anything that can hold the proxy back: an OutputGate, an OffThreadOutput. */
export interface Gate {
  readonly full: boolean;
  whenClear(cb: () => void): void;
}

export class OutputGate implements Gate {
  private readonly streams: Writable[] = [];
  private readonly gates: Gate[] = [];
  private waiting: (() => void)[] = [];

  constructor(private readonly highWater = OUTPUT_HIGH_WATER) {}

  add(stream: Writable): this {
    this.streams.push(stream);
    stream.on('drain', () => this.check());
    stream.on('close', () => this.check());
    return this;
  }

  /** Another gate to obey (e.g. the worker of OffThreadOutput). */
  addGate(gate: Gate): this {
    this.gates.push(gate);
    return this;
  }

  /** True while some output holds more than the high-water mark. */
  get full(): boolean {
    for (const s of this.streams) if (!s.destroyed && s.writableLength > this.highWater) return true;
    for (const g of this.gates) if (g.full) return true;
    return false;
  }

  /** Calls `cb` once no output is full any more (at once if none is). */
  whenClear(cb: () => void): void {
    if (!this.full) return cb();
    if (this.waiting.push(cb) === 1) for (const g of this.gates) if (g.full) g.whenClear(() => this.check());
  }

  private check(): void {
    if (this.waiting.length === 0) return;
    if (this.full) {
      // Still held back by a gate: ask it again (a stream calls back on its own drain).
      for (const g of this.gates) if (g.full) g.whenClear(() => this.check());
      return;
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb();
  }
}
