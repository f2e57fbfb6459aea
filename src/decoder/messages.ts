/**
 * The message layer of one direction (RFC 6455 §5.4, §5.6, §8.1; RFC 7692): reassembles
 * fragments (with control frames in between), validates text incrementally across
 * fragment boundaries, inflates permessage-deflate messages, and emits `message` events.
 * Memory is bounded: uncompressed messages keep at most maxPayload bytes of preview;
 * compressed ones keep their compressed bytes up to maxInflate.
 */
import { OPCODES, opcodeName, violation } from './constants';
import type { Direction, MessageEvent, Violation } from './events';
import { MessageInflater } from './inflate';
import { ByteQueue } from './queue';
import { LAZY_HEX_MIN, LazyHex, defineLazyHex, hexOf, utf8Of } from './strings';
import { Utf8Validator, utf8CompletePrefix } from './utf8';

export interface MessageConfig {
  conn: number;
  dir: Direction;
  maxPayload: number;
  maxInflate: number;
  /** permessage-deflate as negotiated for messages this side sends, or null. */
  deflate: { noContextTakeover: boolean } | null;
  /**
   * A data message is complete. `body` is its whole payload (inflated) while `whole` is
   * set, else null; it is valid only during the call (it may be the chunk or a reused
   * buffer): copy what you keep.
   */
  emitMessage: (event: MessageEvent, body: Buffer | null) => void;
  emitError: (message: string, ts: number) => void;
}

/** What the frame layer should do with a data frame's payload. */
export const Feed = {
  /** Not part of a message (stray continuation): payload not needed. */
  None: 0,
  /** Only the frame's preview bytes are needed (binary, uncompressed). */
  Preview: 1,
  /** Every byte is needed (text: UTF-8 validation; compressed: inflation). */
  All: 2,
  /** The message is this one frame and its preview holds all of it: checked at frameEnd. */
  Whole: 3,
} as const;
export type Feed = (typeof Feed)[keyof typeof Feed];

/** The violations of no message (idle()): frozen, so that a bug pushing to it throws. */
const NO_VIOLATIONS = Object.freeze([]) as unknown as Violation[];

export class MessageAssembler {
  private active = false;
  private opcode = 0;
  private frames = 0;
  private compressed = false;
  /** Payload bytes of the message so far (compressed bytes for compressed messages). */
  private wireLength = 0;
  /** True while the message is a single FIN frame, uncompressed: the frame's preview is the message's. */
  private single = false;
  /** The bytes kept: the preview of a fragmented message, or a compressed message's payload. */
  private readonly kept = new ByteQueue();
  private overflow = false;
  private readonly utf8 = new Utf8Validator();
  private violations: Violation[] = [];
  private inflater: MessageInflater | null;
  /** This side has sent a close frame (§5.5.1). */
  closeSent = false;
  /** The frame now being decoded takes part in the open message. */
  private current = false;
  /**
   * Keep every byte of each message (up to maxInflate) and hand it to emitMessage, for an
   * application-protocol layer (src/protocols) that needs whole messages. Off (the
   * default), nothing is kept beyond the preview. Takes effect at the next message.
   */
  whole = false;
  /** `whole` as it was when the open message began. */
  private keepAll = false;

  /** The open message (the one whose header was just read) is kept whole for a layer above. */
  get keepingWhole(): boolean {
    return this.keepAll;
  }

  /**
   * Between messages: lets go of the last message's violations array (its event has it;
   * begin() starts a fresh one). See FrameDecoder.settle.
   */
  idle(): void {
    if (!this.active) this.violations = NO_VIOLATIONS;
  }

  /** A fragmented data message is open (its next data frame must be a continuation). */
  get open(): boolean {
    return this.active;
  }

  /** This side's compression window holds earlier messages (context takeover, RFC 7692 §7.2.2). */
  get windowUsed(): boolean {
    return this.inflater !== null && !this.inflater.fresh;
  }

  constructor(private readonly cfg: MessageConfig) {
    this.inflater = cfg.deflate ? new MessageInflater(cfg.deflate.noContextTakeover, cfg.maxInflate) : null;
  }

  /**
   * A data or continuation frame's header (control frames never come here). Appends the
   * fragmentation violations to `out` and says which payload bytes are needed.
   */
  header(fin: boolean, rsv1: boolean, opcode: number, payloadLength: number, out: Violation[]): Feed {
    this.current = false;
    if (this.closeSent) out.push(violation('data-after-close', `${this.cfg.dir} sent a ${opcodeName(opcode)} frame after its close frame`));
    if (opcode === OPCODES.CONTINUATION) {
      if (!this.active) {
        out.push(violation('unexpected-continuation', 'continuation frame with no fragmented message in progress'));
        return Feed.None;
      }
    } else {
      if (this.active) {
        out.push(
          violation('interleaved-data-frame', `new ${opcodeName(opcode)} frame while a fragmented ${opcodeName(this.opcode)} message (${this.frames} frames) is open; that message is dropped`),
        );
      }
      this.begin(opcode, rsv1 && this.inflater !== null, fin);
    }
    this.current = true;
    this.frames++;
    if (this.single && payloadLength <= this.cfg.maxPayload) return Feed.Whole;
    return this.compressed || this.opcode === OPCODES.TEXT || this.keepAll ? Feed.All : Feed.Preview;
  }

  private begin(opcode: number, compressed: boolean, fin: boolean): void {
    this.active = true;
    this.opcode = opcode;
    this.frames = 0;
    this.compressed = compressed;
    this.wireLength = 0;
    this.single = fin && !compressed;
    this.keepAll = this.whole;
    this.kept.clear();
    this.overflow = false;
    this.utf8.reset();
    this.violations = [];
  }

  /** Payload bytes of the current frame, in order (already unmasked; not retained). */
  data(buf: Buffer, start: number, end: number): void {
    if (!this.current) return;
    const n = end - start;
    if (this.compressed) {
      if (this.kept.length + n > this.cfg.maxInflate) this.overflow = true;
      else this.kept.append(buf, start, end);
    } else {
      if (this.opcode === OPCODES.TEXT) this.utf8.push(buf, start, end);
      const limit = this.keepAll ? this.cfg.maxInflate : this.cfg.maxPayload;
      // A whole message beyond maxInflate is not handed on (its preview still is).
      if (this.keepAll && this.kept.length + n > limit) this.overflow = true;
      if ((!this.single || this.keepAll) && this.kept.length < limit && n > 0) {
        this.kept.append(buf, start, Math.min(end, start + limit - this.kept.length));
      }
    }
  }

  /**
   * The current frame is complete. `preview`/`previewHex` are the frame's payload preview,
   * reused as the message's when the message is that single frame.
   */
  frameEnd(fin: boolean, payloadLength: number, pbuf: Buffer, pstart: number, plen: number, previewHex: string | LazyHex, asciiText: string | null, ts: number): void {
    if (!this.current) return;
    this.current = false;
    this.wireLength += payloadLength;
    if (!fin) return;
    this.active = false;
    const opcode = this.opcode;
    const violations = this.violations;
    let length = this.wireLength;
    let body: Buffer;
    let whole: Buffer | null = null;
    if (this.compressed) {
      const inflated = this.inflateMessage(violations, ts);
      body = inflated.body;
      length = inflated.length;
      if (this.keepAll) whole = inflated.whole;
    } else {
      if (opcode === OPCODES.TEXT) {
        // A whole single-frame message was not streamed through the validator: check it now.
        if (this.single && plen === length && asciiText === null) this.utf8.push(pbuf, pstart, pstart + plen);
        if (asciiText === null && !this.utf8.end()) violations.push(violation('invalid-utf8', `text message is not valid UTF-8 (byte ${this.utf8.errorAt} of the message)`));
      }
      if (this.single) {
        // The message is this one frame: its preview is the message's (read in place).
        if (this.keepAll) whole = plen === length ? pbuf.subarray(pstart, pstart + plen) : this.overflow ? null : this.kept.view();
        this.emitSingle(opcode, length, pbuf, pstart, plen, previewHex, asciiText, violations, ts, whole);
        this.kept.clear();
        return;
      }
      body = this.kept.take();
      if (this.keepAll) {
        if (!this.overflow) whole = body;
        // The event keeps its preview: a copy, not a view holding the whole message.
        if (body.length > this.cfg.maxPayload) body = Buffer.from(body.subarray(0, this.cfg.maxPayload));
      }
    }
    const truncated = length > body.length;
    const { conn, dir } = this.cfg;
    const name = opcodeName(opcode);
    const frames = this.frames;
    const compressed = this.compressed;
    const event: MessageEvent =
      opcode === OPCODES.TEXT
        ? {
            event: 'message', ts, conn, dir, opcode, opcodeName: name, frames, length, compressed,
            text: (truncated ? body.subarray(0, utf8CompletePrefix(body)) : body).toString('utf8'),
            truncated,
            violations,
          }
        : {
            event: 'message', ts, conn, dir, opcode, opcodeName: name, frames, length, compressed,
            data: body.length >= LAZY_HEX_MIN ? '' : hexOf(body, 0, body.length),
            truncated,
            violations,
          };
    if (opcode !== OPCODES.TEXT && body.length >= LAZY_HEX_MIN) defineLazyHex(event, 'data', new LazyHex(body));
    this.kept.clear();
    this.cfg.emitMessage(event, whole);
  }

  private emitSingle(opcode: number, length: number, pbuf: Buffer, pstart: number, plen: number, previewHex: string | LazyHex, asciiText: string | null, violations: Violation[], ts: number, whole: Buffer | null): void {
    const { conn, dir } = this.cfg;
    const truncated = length > plen;
    const event: MessageEvent =
      opcode === OPCODES.TEXT
        ? {
            event: 'message', ts, conn, dir, opcode, opcodeName: 'text', frames: 1, length, compressed: false,
            text: asciiText ?? utf8Of(pbuf, pstart, pstart + (truncated ? utf8CompletePrefix(pbuf.subarray(pstart, pstart + plen)) : plen)),
            truncated,
            violations,
          }
        : {
            event: 'message', ts, conn, dir, opcode, opcodeName: opcodeName(opcode), frames: 1, length, compressed: false,
            data: typeof previewHex === 'string' ? previewHex : '',
            truncated,
            violations,
          };
    if (typeof previewHex !== 'string' && opcode !== OPCODES.TEXT) defineLazyHex(event, 'data', previewHex);
    this.cfg.emitMessage(event, whole);
  }

  /** Inflates the whole compressed message: the preview and the inflated length. */
  private inflateMessage(violations: Violation[], ts: number): { body: Buffer; length: number; whole: Buffer | null } {
    const failed = { body: Buffer.alloc(0), length: this.wireLength, whole: null };
    if (this.overflow) {
      this.cfg.emitError(`${this.cfg.dir}: compressed message of ${this.wireLength} bytes exceeds the ${this.cfg.maxInflate}-byte inflate limit; not inflated`, ts);
      this.inflater!.skipped();
      return failed;
    }
    const result = this.inflater!.inflate(this.kept);
    if (!result.ok) {
      if (result.tooLarge) this.cfg.emitError(`${this.cfg.dir}: ${result.message}`, ts);
      else violations.push(violation('inflate-failed', `compressed message does not inflate: ${result.message}`));
      return failed;
    }
    const data = result.data;
    if (this.opcode === OPCODES.TEXT) {
      this.utf8.reset();
      if (!this.utf8.push(data) || !this.utf8.end()) {
        violations.push(violation('invalid-utf8', `inflated text message is not valid UTF-8 (byte ${this.utf8.errorAt} of the message)`));
      }
    }
    return { body: data.length > this.cfg.maxPayload ? data.subarray(0, this.cfg.maxPayload) : data, length: data.length, whole: data };
  }

  /** The stream ended: report an unfinished fragmented message. */
  finish(ts: number): void {
    if (this.active && !this.current) {
      this.cfg.emitError(`${this.cfg.dir}: stream ended inside a fragmented ${opcodeName(this.opcode)} message (${this.frames} frames, no final frame)`, ts);
    }
    this.active = false;
  }
}
