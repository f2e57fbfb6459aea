/**
 * The read side of one backend connection: gorilla/websocket 1.5's advanceFrame /
 * NextReader / ReadMessage (conn.go) as a sans-IO state machine. Bytes in (`push`), actions
 * out; the connection (connection.ts) writes the answers.
 *
 * What gorilla checks, in its order, and what it does about it:
 * 1. first two header bytes; RSV1 is taken as "compressed" only when permessage-deflate was
 *    negotiated; any other RSV bit: protocol error "unexpected reserved bits 0x.."
 *    (RFC 6455 §5.2: "MUST be 0 unless an extension is negotiated");
 * 2. control frames (close, ping, pong) longer than 125 or not final: protocol error
 *    (§5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST
 *    NOT be fragmented"); a text/binary frame inside an unfinished message or a
 *    continuation frame outside one: protocol error (§5.4); other opcodes: "unknown
 *    opcode N" (§5.2: reserved opcodes);
 * 3. the 16- or 64-bit extended length; a 64-bit length with the most significant bit set
 *    (§5.2 "the most significant bit MUST be 0") makes setReadRemaining fail with
 *    ErrReadLimit: the connection ends without a close frame;
 * 4. MASK must be 1 from a client (§5.1: "a client MUST mask all frames"): else protocol
 *    error "incorrect mask flag";
 * 5. data frames: the message length so far is checked against the read limit before any
 *    payload is read; over it: close 1009 (§7.4.1 "message too big") and stop;
 * 6. control payloads are read whole: pong ignored, ping answered with a pong carrying the
 *    same payload, close answered with a close carrying the same code (no text) and then
 *    the read loop ends (§5.5.1); a close code that may not be received or a close reason
 *    that is not UTF-8 is a protocol error.
 * A protocol error writes a close frame with 1002 and gorilla's message as the reason
 * (handleProtocolError), then the read loop ends. Text payloads are NOT checked for
 * UTF-8: gorilla does not, and the seed echoes whatever bytes it got.
 */
import { inflateRawSync } from 'zlib';
import { unmaskInto } from '../decoder/mask';
import { OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT } from './frames';
import { goRuneLength } from './gojson';

export type ReaderAction =
  /** A complete data message (after reassembly and inflate). */
  | { kind: 'message'; opcode: typeof OP_TEXT | typeof OP_BINARY; payload: Buffer; compressed: boolean }
  | { kind: 'ping'; payload: Buffer }
  | { kind: 'pong'; payload: Buffer }
  /** A valid close frame arrived (code 1005 when it had no code). Terminal. */
  | { kind: 'close'; code: number; reason: string }
  /**
   * The read loop ends on an error. `closeCode`: the close frame gorilla writes before
   * giving up (null: none). `error`: gorilla's error text, for the log. Terminal.
   */
  | { kind: 'fail'; error: string; closeCode: number | null; closeReason: string };

export interface ReaderOptions {
  /** Largest message accepted, in bytes (gorilla's SetReadLimit; the seed sets none). */
  maxMessageSize: number;
  /** permessage-deflate was negotiated in the handshake. */
  deflate: boolean;
}

/** gorilla's validReceivedCloseCodes plus 3000-4999 (isValidReceivedCloseCode; RFC 6455 §7.4). */
export function isValidReceivedCloseCode(code: number): boolean {
  if ([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013].includes(code)) return true;
  return code >= 3000 && code <= 4999;
}

/** Go's utf8.Valid. */
export function isGoValidUtf8(b: Buffer): boolean {
  for (let i = 0; i < b.length; ) {
    const n = goRuneLength(b, i);
    if (n === 0) return false;
    i += n;
  }
  return true;
}

type State = 'header' | 'length16' | 'length64' | 'mask' | 'payload' | 'done';

export class GorillaReader {
  private pending: Buffer = Buffer.alloc(0);
  private state: State = 'header';
  // the frame being read
  private fin = false;
  private opcode = 0;
  private masked = false;
  private remaining = 0;
  private maskKey = Buffer.alloc(4);
  private maskPos = 0;
  private control: Buffer[] = [];
  // the message being assembled (gorilla: readFinal, readLength, readDecompress)
  private readFinal = true;
  private messageOpcode: typeof OP_TEXT | typeof OP_BINARY = OP_TEXT;
  private messageCompressed = false;
  private messageParts: Buffer[] = [];
  private messageLength = 0;
  private frameCompressed = false;

  constructor(private readonly options: ReaderOptions) {}

  /** True once a close or a failure ended the read loop: later bytes are ignored. */
  get done(): boolean {
    return this.state === 'done';
  }

  push(chunk: Buffer): ReaderAction[] {
    const actions: ReaderAction[] = [];
    if (this.done) return actions;
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (!this.done && this.step(actions)) {
      // one header part or payload piece per step
    }
    if (this.done) this.pending = Buffer.alloc(0);
    return actions;
  }

  /** Takes n bytes if buffered, else null (wait for the next chunk). */
  private take(n: number): Buffer | null {
    if (this.pending.length < n) return null;
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  private fail(actions: ReaderAction[], error: string, closeCode: number | null, closeReason = ''): false {
    actions.push({ kind: 'fail', error, closeCode, closeReason });
    this.state = 'done';
    return false;
  }

  /** gorilla's handleProtocolError: close 1002 with the message as reason. */
  private protocolError(actions: ReaderAction[], message: string): false {
    return this.fail(actions, `websocket: ${message}`, 1002, message);
  }

  /** One step of the state machine; false when more bytes are needed or reading ended. */
  private step(actions: ReaderAction[]): boolean {
    switch (this.state) {
      case 'header': {
        const p = this.take(2);
        if (!p) return false;
        let b0 = p[0];
        this.fin = (b0 & 0x80) !== 0;
        this.opcode = b0 & 0x0f;
        this.masked = (p[1] & 0x80) !== 0;
        this.remaining = p[1] & 0x7f;
        this.frameCompressed = false;
        if (this.options.deflate && (b0 & 0x40) !== 0) {
          this.frameCompressed = true;
          b0 &= ~0x40;
        }
        const rsv = b0 & 0x70;
        if (rsv !== 0) return this.protocolError(actions, `unexpected reserved bits 0x${rsv.toString(16)}`);
        switch (this.opcode) {
          case OP_CLOSE:
          case OP_PING:
          case OP_PONG:
            if (this.remaining > 125) return this.protocolError(actions, 'control frame length > 125');
            if (!this.fin) return this.protocolError(actions, 'control frame not final');
            break;
          case OP_TEXT:
          case OP_BINARY:
            if (!this.readFinal) return this.protocolError(actions, 'message start before final message frame');
            this.readFinal = this.fin;
            break;
          case OP_CONTINUATION:
            if (this.readFinal) return this.protocolError(actions, 'continuation after final message frame');
            this.readFinal = this.fin;
            break;
          default:
            return this.protocolError(actions, `unknown opcode ${this.opcode}`);
        }
        this.state = this.remaining === 126 ? 'length16' : this.remaining === 127 ? 'length64' : 'mask';
        return true;
      }
      case 'length16': {
        const p = this.take(2);
        if (!p) return false;
        this.remaining = p.readUInt16BE(0);
        this.state = 'mask';
        return true;
      }
      case 'length64': {
        const p = this.take(8);
        if (!p) return false;
        const length = p.readBigUInt64BE(0);
        // setReadRemaining(int64(n)) fails for n >= 2^63 with ErrReadLimit, no close frame.
        if (length >= 1n << 63n) return this.fail(actions, 'websocket: read limit exceeded', null);
        // Anything above Number.MAX_SAFE_INTEGER is far above any read limit too.
        this.remaining = length > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(length);
        this.state = 'mask';
        return true;
      }
      case 'mask': {
        if (!this.masked) return this.protocolError(actions, 'incorrect mask flag');
        const key = this.take(4);
        if (!key) return false;
        key.copy(this.maskKey);
        this.maskPos = 0;
        this.control = [];
        if (this.opcode === OP_TEXT || this.opcode === OP_BINARY || this.opcode === OP_CONTINUATION) {
          if (this.opcode !== OP_CONTINUATION) {
            this.messageOpcode = this.opcode;
            this.messageCompressed = this.frameCompressed;
            this.messageParts = [];
            this.messageLength = 0;
          }
          // "c.readLength += c.readRemaining; if c.readLimit > 0 && c.readLength > c.readLimit"
          // -> WriteControl(CloseMessage, FormatCloseMessage(CloseMessageTooBig, "")).
          if (this.messageLength + this.remaining > this.options.maxMessageSize) {
            return this.fail(actions, 'websocket: read limit exceeded', 1009);
          }
        }
        this.state = 'payload';
        return this.finishFrameIfComplete(actions);
      }
      case 'payload': {
        if (this.pending.length === 0) return false;
        const n = Math.min(this.remaining, this.pending.length);
        // Copy: the chunk's memory is not ours to modify, and a slice would pin it.
        const part = Buffer.allocUnsafe(n);
        unmaskInto(this.pending, 0, part, 0, n, this.maskKey, this.maskPos);
        this.pending = this.pending.subarray(n);
        this.maskPos = (this.maskPos + n) & 3;
        this.remaining -= n;
        if (this.opcode === OP_CLOSE || this.opcode === OP_PING || this.opcode === OP_PONG) {
          this.control.push(part);
        } else {
          this.messageParts.push(part);
          this.messageLength += n;
        }
        return this.finishFrameIfComplete(actions);
      }
      default:
        return false;
    }
  }

  /** At the end of a frame's payload: act on control frames, deliver finished messages. */
  private finishFrameIfComplete(actions: ReaderAction[]): boolean {
    if (this.remaining > 0) return true;
    this.state = 'header';
    switch (this.opcode) {
      case OP_PONG:
        actions.push({ kind: 'pong', payload: Buffer.concat(this.control) });
        return true;
      case OP_PING:
        actions.push({ kind: 'ping', payload: Buffer.concat(this.control) });
        return true;
      case OP_CLOSE: {
        const payload = Buffer.concat(this.control);
        let code = 1005; // CloseNoStatusReceived: also for a 1-byte payload, as gorilla does
        let reason = '';
        if (payload.length >= 2) {
          code = payload.readUInt16BE(0);
          if (!isValidReceivedCloseCode(code)) return this.protocolError(actions, 'invalid close code');
          const text = payload.subarray(2);
          if (!isGoValidUtf8(text)) return this.protocolError(actions, 'invalid utf8 payload in close frame');
          reason = text.toString('utf8');
        }
        actions.push({ kind: 'close', code, reason });
        this.state = 'done';
        return false;
      }
      default:
        if (!this.readFinal) return true;
        return this.deliverMessage(actions);
    }
  }

  private deliverMessage(actions: ReaderAction[]): boolean {
    let payload = Buffer.concat(this.messageParts, this.messageLength);
    this.messageParts = [];
    this.messageLength = 0;
    if (this.messageCompressed) {
      try {
        // gorilla's decompressNoContextTakeover reads the message followed by
        // "\x00\x00\xff\xff" (the tail the sender removed, RFC 7692 §7.2.2) and
        // "\x01\x00\x00\xff\xff" (a final empty stored block that ends the stream).
        payload = inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff, 0x01, 0, 0, 0xff, 0xff])]), {
          // Not in gorilla (it has no limit on the inflated size): a bound on memory.
          maxOutputLength: this.options.maxMessageSize,
        });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
          return this.fail(actions, 'websocket: read limit exceeded (inflated)', 1009);
        }
        // ReadMessage returns flate's error; the seed breaks its loop without a close frame.
        return this.fail(actions, `flate: corrupt input (${(err as Error).message})`, null);
      }
    }
    actions.push({ kind: 'message', opcode: this.messageOpcode, payload, compressed: this.messageCompressed });
    return true;
  }
}
