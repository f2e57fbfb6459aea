/**
 * TCP: the segment header (RFC 9293 §3.1) and the reassembly of one direction's byte
 * stream from captured segments, sans-IO (segments in, ordered bytes and gaps out).
 *
 * Sequence numbers are 32-bit and wrap (RFC 9293 §3.4); each segment is placed by its
 * signed distance from the next expected sequence number, and kept as a 53-bit stream
 * offset from then on, so streams longer than 4 GiB and wrapping ISNs need nothing special.
 *
 * - Retransmissions and overlaps: bytes already delivered are trimmed off a segment; a
 *   segment wholly delivered already is dropped. Where two copies of the same bytes differ,
 *   the one that reaches the front of the stream first is kept (later copies are trimmed,
 *   as delivered bytes are not kept to compare with).
 * - Out of order: segments ahead of the stream wait (sorted by offset) until the hole
 *   before them is filled, within `cap` bytes per direction.
 * - A gap (bytes that will never be seen: the capture missed them) is declared when it is
 *   certain or the wait is over: the peer acknowledged bytes the capture never showed
 *   (RFC 9293 §3.4: ACKs are cumulative, so the peer had them and no retransmission will
 *   come), the direction ended (FIN, RST, end of the capture) with a hole before data or
 *   its FIN, or the segments waiting behind a hole exceed `cap`. After a gap the direction
 *   is stopped: nothing more of it is delivered, because a WebSocket stream has no marker
 *   to resynchronise on (a frame boundary cannot be found again from arbitrary bytes), and
 *   guessing one would invent frames.
 */

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  payload: Buffer;
}

/** Parses a TCP header and its payload; null when the bytes are too short to be one. */
export function parseTcp(bytes: Buffer): TcpSegment | null {
  if (bytes.length < 20) return null;
  const dataOffset = (bytes[12] >> 4) * 4;
  if (dataOffset < 20 || dataOffset > bytes.length) return null;
  return {
    srcPort: bytes.readUInt16BE(0),
    dstPort: bytes.readUInt16BE(2),
    seq: bytes.readUInt32BE(4),
    ack: bytes.readUInt32BE(8),
    flags: bytes[13],
    payload: bytes.subarray(dataOffset),
  };
}

/** What reassembly yields, in stream order. */
export type StreamOutput =
  | { kind: 'data'; offset: number; bytes: Buffer; ts: number }
  | { kind: 'gap'; offset: number; length: number | null; ts: number; why: string }
  | { kind: 'fin'; offset: number; ts: number };

/** Default bytes of out-of-order segments held per direction. */
export const DEFAULT_REASSEMBLY_CAP = 8 * 1024 * 1024;

interface Waiting {
  offset: number;
  bytes: Buffer;
  ts: number;
}

/** Signed distance b - a between two 32-bit sequence numbers (RFC 9293 §3.4). */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}

/** Reassembles one direction of a TCP connection. */
export class TcpReassembler {
  /** The sequence number of stream offset 0; null until the first SYN or segment. */
  private baseSeq: number | null = null;
  /** Bytes delivered so far: the offset of the next byte expected. */
  private delivered = 0;
  private readonly waiting: Waiting[] = [];
  private waitingBytes = 0;
  /** The stream offset of the FIN, once seen. */
  private finOffset: number | null = null;
  private finTs = 0;
  private finDelivered = false;
  private stoppedFlag = false;

  constructor(private readonly cap = DEFAULT_REASSEMBLY_CAP) {}

  /** Bytes delivered so far. */
  get offset(): number {
    return this.delivered;
  }

  /** True after a gap: nothing more is delivered. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** True once the FIN was reached in order. */
  get finished(): boolean {
    return this.finDelivered;
  }

  /** True once a FIN was seen, in order or not. */
  get finSeen(): boolean {
    return this.finOffset !== null;
  }

  /** A SYN: the stream starts at seq + 1 (the SYN takes one sequence number). */
  syn(seq: number): void {
    if (this.baseSeq === null) this.baseSeq = (seq + 1) >>> 0;
  }

  /** One segment of this direction: its sequence number, payload and FIN flag. */
  segment(seq: number, payload: Buffer, fin: boolean, ts: number): StreamOutput[] {
    // No SYN seen (the capture began mid-connection): the first segment starts the stream.
    if (this.baseSeq === null) this.baseSeq = seq >>> 0;
    const offset = this.offsetOf(seq);
    if (fin && this.finOffset === null) {
      this.finOffset = offset + payload.length;
      this.finTs = ts;
    }
    // Stopped by a gap: nothing more is delivered (a FIN is still noted, to tell the end).
    if (this.stoppedFlag) return [];
    const out: StreamOutput[] = [];
    this.place(offset, payload, ts, out);
    if (!this.stoppedFlag && this.waitingBytes > this.cap) {
      this.gap(this.waiting[0].offset, ts, `more than ${this.cap} bytes of later segments waited for it`, out);
    }
    return out;
  }

  /**
   * The peer acknowledged `ack`: everything before it reached the peer. When that covers
   * bytes the capture never showed, they are a gap (they will not be retransmitted).
   */
  ack(ack: number, ts: number): StreamOutput[] {
    if (this.stoppedFlag || this.baseSeq === null) return [];
    const acked = this.offsetOf(ack);
    // The FIN takes one sequence number: acknowledging it is not acknowledging data.
    const dataAcked = this.finOffset !== null && acked > this.finOffset ? this.finOffset : acked;
    if (dataAcked <= this.delivered) return [];
    const out: StreamOutput[] = [];
    // The hole runs to the next bytes seen (or to what was acknowledged, when none wait).
    const end = this.waiting.length ? this.waiting[0].offset : dataAcked;
    this.gap(end, ts, 'the peer acknowledged bytes the capture does not contain', out);
    return out;
  }

  /**
   * The direction is over (connection reset, or the capture ended): a hole still before
   * waiting segments or the FIN is a gap.
   */
  end(ts: number): StreamOutput[] {
    if (this.stoppedFlag) return [];
    const out: StreamOutput[] = [];
    if (this.waiting.length) this.gap(this.waiting[0].offset, ts, 'the capture ended before they were seen', out);
    else if (this.finOffset !== null && !this.finDelivered && this.finOffset > this.delivered) {
      this.gap(this.finOffset, ts, 'the capture ended before they were seen', out);
    }
    return out;
  }

  /** The stream offset of a sequence number: placed by its signed distance from the next expected one. */
  private offsetOf(seq: number): number {
    const next = (this.baseSeq! + this.delivered) >>> 0;
    return this.delivered + seqDiff(seq, next);
  }

  private place(offset: number, bytes: Buffer, ts: number, out: StreamOutput[]): void {
    const end = offset + bytes.length;
    if (end <= this.delivered) {
      this.checkFin(out);
      return; // a retransmission of delivered bytes (or a bare ACK)
    }
    if (offset <= this.delivered) {
      this.deliver(bytes.subarray(this.delivered - offset), ts, out);
      this.drain(out);
      return;
    }
    // Ahead of the stream: wait, sorted by offset (a copy: the packet buffer is not kept alive).
    let i = this.waiting.length;
    while (i > 0 && this.waiting[i - 1].offset > offset) i--;
    this.waiting.splice(i, 0, { offset, bytes: Buffer.from(bytes), ts });
    this.waitingBytes += bytes.length;
  }

  private deliver(bytes: Buffer, ts: number, out: StreamOutput[]): void {
    if (bytes.length === 0) return;
    out.push({ kind: 'data', offset: this.delivered, bytes, ts });
    this.delivered += bytes.length;
  }

  /** Delivers the waiting segments that now touch the stream's front. */
  private drain(out: StreamOutput[]): void {
    while (this.waiting.length && this.waiting[0].offset <= this.delivered) {
      const w = this.waiting.shift()!;
      this.waitingBytes -= w.bytes.length;
      const end = w.offset + w.bytes.length;
      if (end > this.delivered) this.deliver(w.bytes.subarray(this.delivered - w.offset), w.ts, out);
    }
    this.checkFin(out);
  }

  private checkFin(out: StreamOutput[]): void {
    if (this.finOffset !== null && !this.finDelivered && this.delivered >= this.finOffset) {
      this.finDelivered = true;
      out.push({ kind: 'fin', offset: this.finOffset, ts: this.finTs });
    }
  }

  /** Declares the bytes from `delivered` to `end` missing and stops the direction. */
  private gap(end: number, ts: number, why: string, out: StreamOutput[]): void {
    out.push({ kind: 'gap', offset: this.delivered, length: end > this.delivered ? end - this.delivered : null, ts, why });
    this.stoppedFlag = true;
    this.waiting.length = 0;
    this.waitingBytes = 0;
  }
}
