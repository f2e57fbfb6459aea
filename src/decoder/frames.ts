/**
 * The frame decoder of one direction (RFC 6455 §5.2): a state machine like ws's receiver,
 * named after what each state waits for. Each step starts with "are enough bytes here?"
 * and otherwise waits for the next chunk, so any chunking gives the same events. Header
 * bytes (at most 14) are gathered in a reused scratch buffer; payload bytes are unmasked
 * only as far as someone needs them (the preview, a text message's UTF-8 check, a
 * compressed message), so a frame that claims 2^63-1 bytes costs no more than the cap.
 */
import { OPCODES, closeCodeName, isControlOpcode, isReservedOpcode, isValidCloseCode, opcodeName, violation } from './constants';
import type { FrameEvent, Violation, WsEvent } from './events';
import { unmaskInto } from './mask';
import { isWholeBuffer, ownCopy } from './owned';
import { Feed, MessageAssembler, type MessageConfig } from './messages';
import { LAZY_HEX_MIN, LazyHex, WireBytes, defineLazyHex, hexOf, latin1Of } from './strings';
import { Utf8Validator } from './utf8';

const GET_INFO = 0;
const GET_PAYLOAD_LENGTH_16 = 1;
const GET_PAYLOAD_LENGTH_64 = 2;
const GET_MASK = 3;
const GET_DATA = 4;
const STOPPED = 5;

/** Payload bytes unmasked per step when every byte is needed (text, compressed). */
const SCRATCH_SIZE = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Frames with at most this many preview bytes are small: their strings are made from a
 * copy of their bytes in RUN (several frames at once when they arrive together).
 */
const SMALL_PAYLOAD_MAX = 64;
/**
 * RUN holds the header and unmasked payload bytes of the small frames that arrived whole in
 * one chunk, side by side (the chunk's layout), up to RUN_MAX bytes: one hexSlice (and one
 * latin1Slice when one is an ASCII text message) makes all their strings, each frame's
 * being slices of those. A call into C++ per frame cost more than the rest of its decoding
 * (bench, 16-byte text frames: 1.3 times ws's speed with a call per frame, 2.5 with runs).
 * The price: an event kept alone keeps its run's strings alive, at most 3 * RUN_MAX
 * characters (2 of hex and 1 of text per byte); runs of 256 bytes are already as fast as
 * longer ones.
 */
const RUN_MAX = 256;
/** Frames in a run at most: the smallest frame is 2 bytes. */
const RUN_FRAMES = RUN_MAX / 2;
const RUN = Buffer.allocUnsafeSlow(RUN_MAX);
/** Per frame of the run in RUN: its payload is ASCII. */
const RUN_ASCII = new Uint8Array(RUN_FRAMES);
/**
 * RUN is in use (until the last event of its frames is out). A listener that pushes into
 * another decoder meanwhile makes that one take buffers of its own.
 */
let runBusy = false;

/**
 * One preview scratch for all decoders (smaller previews than LAZY_HEX_MIN: a masked
 * frame's unmasked preview, a preview gathered from several chunks): a scratch of its own
 * (256 bytes and up, from Buffer's pool) was kept by every client direction for its life,
 * with a share of the pool slab it came from (~0.5 kB a connection, heap snapshots at 2,000
 * connections, issue #13). A decoder holds it (`owner`) from the frame that needs it until
 * the end of the push() that fed the frame (settle()); a decoder pushed meanwhile (an
 * event listener feeding another connection's decoder) uses its own.
 */
const SHARED_SCRATCH_SIZE = LAZY_HEX_MIN;
/** The violations of no frame (settle()): frozen, so that a bug pushing to it throws instead of mixing frames. */
const NO_VIOLATIONS = Object.freeze([]) as unknown as Violation[];
const shared: { buf: Buffer; owner: FrameDecoder | null } = { buf: EMPTY, owner: null };

/**
 * Each decoder's header bytes (14) and masking key (4) are views of a slab shared by the
 * decoders made after one another, not arrays of their own: a Buffer.alloc(14) and a
 * Uint8Array(4) each came with an ArrayBuffer and on-heap elements, 432 bytes a direction,
 * 864 a connection, kept for its life (heap snapshots at 2,000 connections, issue #13).
 * Not Buffer's pool: a pool slab is kept whole by any slice of it, and the handshake's
 * short-lived buffers come from it too, so long-lived header views there would keep
 * slabs of mostly dead bytes. A slab here holds only decoders' header bytes; it is freed
 * with the last decoder using it.
 */
const SLAB_SIZE = 4096;
const SLAB_PART = 24; // 14 + 4, 8-aligned
let slab = new ArrayBuffer(0);
let slabAt = 0;
function slabPart(): { buffer: ArrayBuffer; at: number } {
  if (slabAt + SLAB_PART > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabAt = 0;
  }
  const at = slabAt;
  slabAt += SLAB_PART;
  return { buffer: slab, at };
}

/**
 * A direction's options, which are its MessageAssembler's config too (conn, dir, the
 * limits, deflate, emitMessage, emitError): ConnectionDecoder, the one maker of frame
 * decoders, gives one set of callbacks per connection, so a direction has no config
 * object or closures of its own (issue #13: memory per connection).
 */
export interface FrameDecoderOptions extends MessageConfig {
  /** An extension we cannot interpret was negotiated: RSV bits are not flagged. */
  unknownExtension: boolean;
  emit: (event: WsEvent) => void;
  /** Nobody writes to a chunk after pushing it: payloads may be kept as views of it (see wireParts). */
  immutableChunks?: boolean;
}

export class FrameDecoder {
  private state = GET_INFO;
  /**
   * The header being read: 2 fixed bytes, 0/2/8 length bytes, 0/4 masking key bytes; and
   * the masking key. Views of a slab (slabPart), made when a header is first gathered
   * here: a whole small frame is read from its chunk, so a connection of small frames
   * never needs them (200 bytes a direction, issue #13).
   */
  private hdrBuf: Buffer | null = null;
  private keyBuf: Uint8Array | null = null;
  private hdrLen = 0;
  /** Header length once known (2 + extended length + masking key). */
  private hdrNeed = 2;
  private scratch: Buffer | null = null;

  // The frame being decoded.
  private fin = false;
  private rsv1 = false;
  private rsv2 = false;
  private rsv3 = false;
  private opcode = 0;
  private masked = false;
  private lengthForm: 7 | 16 | 64 = 7;
  private payloadLength = 0;
  private received = 0;
  private lengthText: string | null = null;
  /**
   * The preview is previewBuf[previewStart, previewStart + previewLen): the chunk itself
   * when it arrived whole and unmasked, else the reused scratch (never retained), or for
   * previews of LAZY_HEX_MIN bytes and more a buffer of its own (kept by the events).
   */
  private previewBuf: Buffer = EMPTY;
  private previewStart = 0;
  private previewLen = 0;
  private previewScratch: Buffer = EMPTY;
  /**
   * A large single-frame binary message is kept as it came, masked, in views of the
   * chunks (immutableChunks): nothing in the decoder reads its bytes (binary needs no
   * UTF-8 check), and a view that shows a preview unmasks only what it shows (WireBytes).
   * Null for every other frame.
   */
  private wireParts: Buffer[] | null = null;
  private feed: Feed = Feed.None;
  private violations: Violation[] = [];
  private frameOffset = 0;

  /** Bytes consumed so far in this direction's frame stream. */
  offset = 0;
  /** Frames completed so far. */
  index = 0;
  readonly messages: MessageAssembler;

  constructor(private readonly o: FrameDecoderOptions) {
    this.messages = new MessageAssembler(o);
  }

  private get hdr(): Buffer {
    return this.hdrBuf ?? this.makeHeader().hdr;
  }

  private get key(): Uint8Array {
    return this.keyBuf ?? this.makeHeader().key;
  }

  private makeHeader(): { hdr: Buffer; key: Uint8Array } {
    const part = slabPart();
    const hdr = (this.hdrBuf = Buffer.from(part.buffer, part.at, 14));
    const key = (this.keyBuf = new Uint8Array(part.buffer, part.at + 14, 4));
    return { hdr, key };
  }

  /** Decodes the bytes chunk[start, end). Never throws on any input. */
  push(chunk: Buffer, ts: number, start = 0, end = chunk.length): void {
    try {
      this.decode(chunk, ts, start, end);
    } finally {
      this.settle();
    }
  }

  private decode(chunk: Buffer, ts: number, start: number, end: number): void {
    let pos = start;
    while (pos < end) {
      // Most frames are small and arrive whole: decode them straight from the chunk.
      if (this.state === GET_INFO && this.hdrLen === 0) {
        const next = this.smallFrames(chunk, pos, end, ts);
        if (next !== pos) {
          pos = next;
          continue;
        }
      }
      switch (this.state) {
        case GET_INFO:
        case GET_PAYLOAD_LENGTH_16:
        case GET_PAYLOAD_LENGTH_64:
        case GET_MASK: {
          let n = Math.min(this.hdrNeed - this.hdrLen, end - pos);
          if (this.hdrLen === 0) {
            this.frameOffset = this.offset;
            // Fast path: the whole header is in this chunk; take it at once.
            if (end - pos >= 2) {
              const b1 = chunk[pos + 1];
              const len7 = b1 & 0x7f;
              const whole = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
              if (end - pos >= whole) n = whole;
            }
          }
          // Gather header bytes up to what the current state needs (or the whole header).
          const h = this.hdr;
          for (let i = 0; i < n; i++) h[this.hdrLen++] = chunk[pos + i];
          pos += n;
          this.offset += n;
          while (this.state < GET_DATA && this.hdrLen >= this.hdrNeed) this.headerStep(ts);
          break;
        }
        case GET_DATA: {
          const n = Math.min(this.payloadLength - this.received, end - pos);
          this.payloadStep(chunk, pos, n);
          pos += n;
          this.offset += n;
          if (this.received === this.payloadLength) this.frameEnd(ts);
          break;
        }
        default:
          this.offset += end - pos;
          return;
      }
    }
  }

  /** A frame begins (§5.2): FIN, RSV1-3, the opcode and MASK from its first two bytes. */
  private firstTwoBytes(b0: number, b1: number): void {
    this.fin = (b0 & 0x80) !== 0;
    this.rsv1 = (b0 & 0x40) !== 0;
    this.rsv2 = (b0 & 0x20) !== 0;
    this.rsv3 = (b0 & 0x10) !== 0;
    this.opcode = b0 & 0x0f;
    this.masked = (b1 & 0x80) !== 0;
    this.violations = [];
    this.lengthText = null;
  }

  /** A header state has all its bytes: move on to the next state. */
  private headerStep(ts: number): void {
    const h = this.hdr;
    switch (this.state) {
      case GET_INFO: {
        this.firstTwoBytes(h[0], h[1]);
        const len7 = h[1] & 0x7f;
        if (len7 === 126) {
          this.lengthForm = 16;
          this.state = GET_PAYLOAD_LENGTH_16;
          this.hdrNeed = 4;
          return;
        }
        if (len7 === 127) {
          this.lengthForm = 64;
          this.state = GET_PAYLOAD_LENGTH_64;
          this.hdrNeed = 10;
          return;
        }
        this.lengthForm = 7;
        this.payloadLength = len7;
        break;
      }
      case GET_PAYLOAD_LENGTH_16:
        this.payloadLength = h.readUInt16BE(2);
        if (this.payloadLength < 126) {
          this.violations.push(violation('non-minimal-length', `length ${this.payloadLength} sent in the 16-bit form; it fits the 7-bit field`));
        }
        break;
      case GET_PAYLOAD_LENGTH_64: {
        const hi = h.readUInt32BE(2);
        const lo = h.readUInt32BE(6);
        this.payloadLength = hi * 0x100000000 + lo;
        // Beyond 2^53 a number is not exact: keep the exact value for messages.
        this.lengthText = hi >= 0x200000 ? h.readBigUInt64BE(2).toString() : null;
        if (hi >= 0x80000000) {
          // §5.2: the stream cannot be followed: no sane receiver would read 2^63 bytes.
          this.violations.push(violation('length-msb-set', 'the 64-bit payload length has its most significant bit set'));
          this.stop(ts, `${this.o.dir}: 64-bit payload length with the most significant bit set at offset ${this.frameOffset}; stopped decoding this direction`);
          return;
        }
        if (this.payloadLength < 0x10000) {
          this.violations.push(violation('non-minimal-length', `length ${this.payloadLength} sent in the 64-bit form; it fits the ${this.payloadLength < 126 ? '7' : '16'}-bit field`));
        }
        break;
      }
      case GET_MASK:
        break;
    }
    if (this.masked && this.state !== GET_MASK) {
      this.state = GET_MASK;
      this.hdrNeed += 4;
      return;
    }
    if (this.masked) {
      const k = this.hdrLen - 4;
      this.key[0] = h[k];
      this.key[1] = h[k + 1];
      this.key[2] = h[k + 2];
      this.key[3] = h[k + 3];
    }
    this.startPayload(ts);
  }

  /**
   * The small frames (7-bit length, at most SMALL_PAYLOAD_MAX payload bytes, within
   * maxPayload: not truncated) that lie whole at chunk[pos], as many as fit in RUN: for each,
   * the state machine's steps (header fields, checkHeader, message data, the event) without
   * gathering its header into `hdr` one state at a time, and its strings made with those of
   * the others (see RUN). Returns the position after the frames decoded (a listener may halt
   * this decoder between two), or `pos` when the frame there does not qualify.
   */
  private smallFrames(chunk: Buffer, pos: number, end: number, ts: number): number {
    const outer = runBusy;
    const raw = outer ? Buffer.allocUnsafe(RUN_MAX) : RUN;
    const ascii = outer ? new Uint8Array(RUN_FRAMES) : RUN_ASCII;
    const maxPayload = this.o.maxPayload;
    // Lay the frames out in raw (unmasked) as they lie in the chunk: frame bytes chunk[p] are raw[p - pos].
    let n = 0;
    let used = 0;
    let texts = false;
    while (end - pos - used >= 2) {
      const p = pos + used;
      const b1 = chunk[p + 1];
      const len = b1 & 0x7f;
      if (len > SMALL_PAYLOAD_MAX || len > maxPayload) break;
      const hlen = b1 & 0x80 ? 6 : 2;
      const size = hlen + len;
      if (end - p < size || used + size > RUN_MAX) break;
      const b0 = chunk[p];
      raw[used] = b0;
      raw[used + 1] = b1;
      const at = p + hlen;
      const to = used + hlen;
      let or = 0;
      if (hlen === 6) {
        // §5.3, four bytes a step with the key in locals (the payload starts at key index 0),
        // OR-ing the clear bytes for the ASCII test on the way. Not unmaskInto and a second
        // pass: measured, the text bench went from 2.6 to 2.0 times ws's speed with it.
        const k0 = chunk[p + 2];
        const k1 = chunk[p + 3];
        const k2 = chunk[p + 4];
        const k3 = chunk[p + 5];
        raw[used + 2] = k0;
        raw[used + 3] = k1;
        raw[used + 4] = k2;
        raw[used + 5] = k3;
        let i = 0;
        for (; i + 4 <= len; i += 4) {
          const c0 = chunk[at + i] ^ k0;
          const c1 = chunk[at + i + 1] ^ k1;
          const c2 = chunk[at + i + 2] ^ k2;
          const c3 = chunk[at + i + 3] ^ k3;
          raw[to + i] = c0;
          raw[to + i + 1] = c1;
          raw[to + i + 2] = c2;
          raw[to + i + 3] = c3;
          or |= c0 | c1 | c2 | c3;
        }
        for (; i < len; i++) {
          const c = chunk[at + i] ^ (i % 4 === 0 ? k0 : i % 4 === 1 ? k1 : k2);
          raw[to + i] = c;
          or |= c;
        }
      } else {
        for (let i = 0; i < len; i++) {
          const c = chunk[at + i];
          raw[to + i] = c;
          or |= c;
        }
      }
      ascii[n] = or < 0x80 ? 1 : 0;
      // FIN and opcode text: a single-frame text message, its text maybe wanted.
      if (or < 0x80 && (b0 & 0x8f) === 0x81) texts = true;
      used += size;
      n++;
    }
    if (n === 0) return pos;
    const hex = hexOf(raw, 0, used);
    const lat = texts ? latin1Of(raw, 0, used) : '';
    runBusy = true;
    try {
      for (let f = 0, r = 0; f < n; f++) {
        const b0 = raw[r];
        const b1 = raw[r + 1];
        const len = b1 & 0x7f;
        const hlen = b1 & 0x80 ? 6 : 2;
        this.frameOffset = this.offset;
        this.firstTwoBytes(b0, b1);
        this.lengthForm = 7;
        this.payloadLength = len;
        this.hdrLen = hlen;
        this.checkHeader();
        this.received = len;
        this.previewLen = len;
        const ps = r + hlen;
        if (len > 0 && (this.feed === Feed.Preview || this.feed === Feed.All)) this.messages.data(raw, ps, ps + len);
        this.offset += hlen + len;
        this.emitSmall(ts, raw, r, hex, lat, ascii[f] === 1);
        r += hlen + len;
        if (this.state !== GET_INFO) return pos + r;
      }
    } finally {
      runBusy = outer;
    }
    return pos + used;
  }

  /** The whole header is in: check the header rules, prepare the payload. */
  private startPayload(ts: number): void {
    this.checkHeader();
    this.state = GET_DATA;
    this.received = 0;
    this.previewLen = Math.min(this.payloadLength, this.o.maxPayload);
    this.previewBuf = EMPTY;
    this.previewStart = 0;
    this.wireParts =
      this.previewLen >= LAZY_HEX_MIN && this.feed === Feed.Whole && this.opcode === OPCODES.BINARY && this.o.immutableChunks === true && !this.messages.keepingWhole ? [] : null;
    if (this.payloadLength === 0) this.frameEnd(ts);
  }

  /** The header rules (violations into this.violations), and which payload bytes the message layer needs (this.feed). */
  private checkHeader(): void {
    const o = this.o;
    const v = this.violations;
    const opcode = this.opcode;
    const control = isControlOpcode(opcode);
    // §5.1: "a client MUST mask all frames that it sends to the server"; "A server MUST NOT mask".
    if (o.dir === 'client' && !this.masked) v.push(violation('unmasked-client-frame', 'frame from the client is not masked'));
    if (o.dir === 'server' && this.masked) v.push(violation('masked-server-frame', 'frame from the server is masked'));
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
    if (isReservedOpcode(opcode)) v.push(violation('reserved-opcode', `opcode 0x${opcode.toString(16)} is reserved`));
    // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines meanings for
    // non-zero values"; RFC 7692 §6 gives RSV1 a meaning on the first frame of a data message only.
    if (this.rsv1) {
      if (o.deflate) {
        if (control) v.push(violation('rsv1-on-control-frame', `RSV1 (compressed) set on a ${opcodeName(opcode)} frame`));
        else if (opcode === OPCODES.CONTINUATION) v.push(violation('rsv1-on-continuation-frame', 'RSV1 (compressed) set on a continuation frame'));
      } else if (!o.unknownExtension) {
        v.push(violation('rsv-without-extension', 'RSV1 set but no extension (permessage-deflate) was negotiated'));
      }
    }
    if ((this.rsv2 || this.rsv3) && !o.unknownExtension) {
      v.push(violation('rsv-without-extension', `${this.rsv2 ? 'RSV2' : 'RSV3'}${this.rsv2 && this.rsv3 ? ' and RSV3' : ''} set but no negotiated extension defines it`));
    }
    if (control) {
      // §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
      if (!this.fin) v.push(violation('fragmented-control-frame', `${opcodeName(opcode)} frame with FIN = 0`));
      if (this.payloadLength > 125) v.push(violation('control-frame-too-long', `${opcodeName(opcode)} frame with ${this.payloadLength} payload bytes (at most 125)`));
      this.feed = Feed.None;
    } else if (isReservedOpcode(opcode)) {
      this.feed = Feed.None;
    } else {
      this.feed = this.messages.header(this.fin, this.rsv1, opcode, this.payloadLength, v);
    }
  }

  /** n payload bytes at chunk[pos]. */
  private payloadStep(chunk: Buffer, pos: number, n: number): void {
    const at = this.received;
    // The preview part: [at, previewLen).
    if (at < this.previewLen) {
      const m = Math.min(n, this.previewLen - at);
      const lazy = this.previewLen >= LAZY_HEX_MIN;
      if (this.wireParts !== null) {
        // A view keeps its chunk's whole ArrayBuffer alive. A chunk that is all of its
        // ArrayBuffer (each socket read is one, sized to what was read) is shared by the
        // frames it holds, which are kept and dropped in stream order: at most one chunk
        // more per end of a run of kept frames. A part of some larger buffer (pooled, or
        // sliced) is kept only when it is most of it, else copied, still masked.
        const view = chunk.subarray(pos, pos + m);
        this.wireParts.push(isWholeBuffer(chunk) || 2 * m >= chunk.buffer.byteLength ? view : ownCopy(view));
      } else if (at === 0 && m === this.previewLen && !this.masked && !lazy) {
        // Unmasked and all here: read it in place, no copy.
        this.previewBuf = chunk;
        this.previewStart = pos;
      } else {
        if (at === 0) {
          // A large preview is kept by its events (lazy hex): it gets a buffer of its own.
          this.previewBuf = lazy ? Buffer.allocUnsafeSlow(this.previewLen) : this.scratchFor(this.previewLen);
          this.previewStart = 0;
        }
        const to = this.previewStart + at;
        if (this.masked) unmaskInto(chunk, pos, this.previewBuf, to, m, this.key, at & 3);
        else chunk.copy(this.previewBuf, to, pos, pos + m);
      }
      const p = this.previewStart + at;
      if (this.feed === Feed.Preview || this.feed === Feed.All) this.messages.data(this.previewBuf, p, p + m);
      this.received += m;
      pos += m;
      n -= m;
    }
    // Beyond the preview: only unmasked when the message layer needs every byte.
    if (n > 0 && this.feed === Feed.All) {
      if (!this.masked) {
        this.messages.data(chunk, pos, pos + n);
      } else {
        const scratch = (this.scratch ??= Buffer.allocUnsafe(SCRATCH_SIZE));
        for (let done = 0; done < n; ) {
          const k = Math.min(SCRATCH_SIZE, n - done);
          unmaskInto(chunk, pos + done, scratch, 0, k, this.key, (this.received + done) & 3);
          this.messages.data(scratch, 0, k);
          done += k;
        }
      }
    }
    this.received += n;
  }

  private frameEnd(ts: number): void {
    if (this.previewLen <= SMALL_PAYLOAD_MAX) {
      this.smallFrameEnd(ts);
      return;
    }
    const h = this.hdr;
    const pbuf = this.previewBuf;
    const pstart = this.previewStart;
    const plen = this.previewLen;
    let payloadHex: string;
    let header: string;
    const wire = this.wireParts;
    this.wireParts = null;
    const lazy = plen >= LAZY_HEX_MIN ? new LazyHex(wire ? new WireBytes(wire, this.masked ? Uint8Array.from(this.key) : null, plen) : pbuf) : null;
    if (lazy) {
      header = hexOf(h, 0, this.hdrLen);
      payloadHex = '';
    } else {
      header = hexOf(h, 0, this.hdrLen);
      payloadHex = hexOf(pbuf, pstart, pstart + plen);
    }
    const event = this.frameEvent(ts, header, this.masked ? header.slice(header.length - 8) : null, payloadHex, this.payloadLength > this.previewLen);
    if (lazy) defineLazyHex(event, 'payload', lazy);
    this.emitFrame(ts, event, pbuf, pstart, plen, lazy ?? payloadHex, null);
  }

  /**
   * The frame is complete: its close fields, the decoder ready for the next frame before
   * anyone sees the event, the event, then the message layer (with the frame's preview at
   * pbuf[pstart, pstart + plen), its hex, and its text when a small ASCII text message).
   */
  private emitFrame(ts: number, event: FrameEvent, pbuf: Buffer, pstart: number, plen: number, previewHex: string | LazyHex, text: string | null): void {
    if (this.opcode === OPCODES.CLOSE) this.closeFields(event, pbuf.subarray(pstart, pstart + plen));
    this.state = GET_INFO;
    this.hdrLen = 0;
    this.hdrNeed = 2;
    this.previewBuf = EMPTY;
    this.o.emit(event);
    if (this.feed !== Feed.None) this.messages.frameEnd(event.fin, event.payloadLength, pbuf, pstart, plen, previewHex, text, ts);
  }

  /** frameEnd for a small preview (at most SMALL_PAYLOAD_MAX bytes): a run of one frame in RUN. */
  private smallFrameEnd(ts: number): void {
    const outer = runBusy;
    const raw = outer ? Buffer.allocUnsafe(RUN_MAX) : RUN;
    const h = this.hdr;
    const hlen = this.hdrLen;
    const pbuf = this.previewBuf;
    const pstart = this.previewStart;
    const plen = this.previewLen;
    for (let i = 0; i < hlen; i++) raw[i] = h[i];
    let or = 0;
    for (let i = 0; i < plen; i++) {
      const c = pbuf[pstart + i];
      raw[hlen + i] = c;
      or |= c;
    }
    const ascii = or < 0x80;
    const hex = hexOf(raw, 0, hlen + plen);
    // The latin1 string only where emitSmall takes a text from it.
    const lat = ascii && this.feed === Feed.Whole && this.opcode === OPCODES.TEXT ? latin1Of(raw, 0, hlen + plen) : '';
    runBusy = true;
    try {
      this.emitSmall(ts, raw, 0, hex, lat, ascii);
    } finally {
      runBusy = outer;
    }
  }

  /**
   * Emits the small frame just read (its fields in the decoder's state), its header and
   * preview bytes at raw[r, r + hdrLen + previewLen), `hex` and `lat` (latin1) the strings
   * of raw from 0; `ascii`: its preview bytes are all below 0x80.
   */
  private emitSmall(ts: number, raw: Buffer, r: number, hex: string, lat: string, ascii: boolean): void {
    const plen = this.previewLen;
    const ps = r + this.hdrLen;
    const at = 2 * ps;
    const payloadHex = hex.slice(at, at + 2 * plen);
    const event = this.frameEvent(ts, hex.slice(2 * r, at), this.masked ? hex.slice(at - 8, at) : null, payloadHex, this.payloadLength > plen);
    // A whole single-frame text message in ASCII: its text is its payload (valid UTF-8).
    const text = ascii && this.feed === Feed.Whole && this.opcode === OPCODES.TEXT ? lat.slice(ps, ps + plen) : null;
    this.emitFrame(ts, event, raw, ps, plen, payloadHex, text);
  }

  /** The frame event of the frame being read, its header fields from the decoder's state. */
  private frameEvent(ts: number, header: string, maskKey: string | null, payload: string, payloadTruncated: boolean): FrameEvent {
    return {
      event: 'frame',
      ts,
      conn: this.o.conn,
      dir: this.o.dir,
      index: this.index++,
      offset: this.frameOffset,
      header,
      fin: this.fin,
      rsv1: this.rsv1,
      rsv2: this.rsv2,
      rsv3: this.rsv3,
      opcode: this.opcode,
      opcodeName: opcodeName(this.opcode),
      masked: this.masked,
      maskKey,
      payloadLength: this.payloadLength,
      lengthForm: this.lengthForm,
      payload,
      payloadTruncated,
      violations: this.violations,
    };
  }

  /** §5.5.1: a close body is empty, or a 2-byte code (§7.4) followed by a UTF-8 reason. */
  private closeFields(event: FrameEvent, body: Buffer): void {
    this.messages.closeSent = true;
    const v = event.violations;
    if (event.payloadLength === 1) {
      v.push(violation('close-payload-length-1', 'close frame with a 1-byte body: a status code takes 2 bytes'));
      return;
    }
    if (body.length < 2) return;
    const code = body.readUInt16BE(0);
    event.closeCode = code;
    event.closeCodeName = closeCodeName(code);
    if (!isValidCloseCode(code)) v.push(violation('invalid-close-code', `close code ${code} (${closeCodeName(code)}) must not be sent in a close frame`));
    const reason = body.subarray(2);
    const utf8 = new Utf8Validator();
    // A reason cut by the preview cap may end mid-character: only check what is complete.
    if (!utf8.push(reason) || (!event.payloadTruncated && !utf8.end())) {
      v.push(violation('invalid-close-reason-utf8', `close reason is not valid UTF-8 (byte ${utf8.errorAt} of the reason)`));
    }
    event.closeReason = reason.toString('utf8');
  }

  /**
   * The preview buffer for a frame whose preview is not read in place: the scratch shared
   * by all decoders while no other decoder holds it (see SharedScratch), else this
   * decoder's own.
   */
  private scratchFor(n: number): Buffer {
    if ((shared.owner === null || shared.owner === this) && n <= SHARED_SCRATCH_SIZE) {
      shared.owner = this;
      if (shared.buf.length === 0) shared.buf = Buffer.allocUnsafeSlow(SHARED_SCRATCH_SIZE);
      return shared.buf;
    }
    return this.ownScratch(n);
  }

  /** This decoder's own preview buffer, grown (up to maxPayload) as frames need it. */
  private ownScratch(n: number): Buffer {
    if (this.previewScratch.length < n) {
      this.previewScratch = Buffer.allocUnsafe(Math.min(this.o.maxPayload, Math.max(n, 2 * this.previewScratch.length, 256)));
    }
    return this.previewScratch;
  }

  /**
   * At the end of each push: lets go of what the last frame and
   * message made (their violations arrays: each event has its own, and holding the last
   * one until the next frame, seconds later at a message every 3 s, got it promoted to the
   * old generation and left there as garbage: 4 arrays a connection every 3 s, most of the
   * output worker's promotion in steady traffic; issue #13); and gives the shared scratch
   * back. A frame whose preview is still being gathered (its payload continues in the next
   * chunk) takes the bytes it has so far to a buffer of its own.
   */
  private settle(): void {
    // Between frames: the next frame's header step starts a fresh array.
    if (this.state === GET_INFO && this.hdrLen === 0) this.violations = NO_VIOLATIONS;
    this.messages.idle();
    if (shared.owner !== this) return;
    shared.owner = null;
    if (this.previewBuf !== shared.buf) return;
    const own = this.ownScratch(this.previewLen);
    shared.buf.copy(own, 0, 0, this.previewStart + Math.min(this.received, this.previewLen));
    this.previewBuf = own;
  }

  private stop(ts: number, message: string): void {
    // Report the frame as far as it was read, then stop once (§5.2 cannot be followed).
    // The header up to its length field, whatever the chunking.
    this.o.emit(this.frameEvent(ts, this.hdr.toString('hex', 0, 10), null, '', true));
    this.state = STOPPED;
    this.o.emit({ event: 'error', ts, conn: this.o.conn, message });
  }

  /**
   * How many of the bytes `next` (the ones to come) must go by before an intercept stage can
   * join this direction (src/intercept): a frame's first byte outside any fragmented message.
   * 0: here. Inside a frame: what is left of it (all of `next` while its header is still
   * incomplete with them; ask again at the next bytes). At a frame boundary inside a
   * fragmented message: the next frame's size (all of `next` while unknown). null: stopped.
   */
  bytesToJoin(next: Buffer): number | null {
    if (this.state === STOPPED) return null;
    if (this.state === GET_DATA) return this.payloadLength - this.received;
    if (this.hdrLen === 0) return this.messages.open ? frameSize(next) ?? next.length : 0;
    const size = frameSize(Buffer.concat([this.hdr.subarray(0, this.hdrLen), next.subarray(0, 14)]));
    return size === null ? next.length : size - this.hdrLen;
  }

  /** True once this direction cannot be followed any more (decoding stopped). */
  get halted(): boolean {
    return this.state === STOPPED;
  }

  /** Stops decoding this direction (e.g. the connection stopped being followable). */
  halt(): void {
    this.state = STOPPED;
  }

  /** The stream ended: report a partial frame or message. */
  finish(ts: number): void {
    const dir = this.o.dir;
    if (this.state === GET_DATA) {
      this.o.emit({
        event: 'error',
        ts,
        conn: this.o.conn,
        message: `${dir}: stream ended inside the payload of frame ${this.index} (offset ${this.frameOffset}): ${this.received} of ${this.lengthText ?? this.payloadLength} bytes`,
      });
    } else if (this.state !== STOPPED && this.hdrLen > 0) {
      this.o.emit({
        event: 'error',
        ts,
        conn: this.o.conn,
        message: `${dir}: stream ended inside the header of frame ${this.index} (offset ${this.frameOffset}): ${this.hdrLen} of ${this.hdrNeed} bytes`,
      });
    }
    if (this.state !== STOPPED) this.messages.finish(ts);
    this.state = STOPPED;
  }
}

/**
 * The whole size (header and payload) of the frame starting at buf[0], once its length
 * fields are there (RFC 6455 §5.2); null before.
 */
export function frameSize(buf: Buffer): number | null {
  if (buf.length < 2) return null;
  const len7 = buf[1] & 0x7f;
  const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  if (buf.length < 2 + ext) return null;
  const length = len7 === 126 ? buf.readUInt16BE(2) : len7 === 127 ? Number(buf.readBigUInt64BE(2)) : len7;
  return 2 + ext + (buf[1] & 0x80 ? 4 : 0) + length;
}
