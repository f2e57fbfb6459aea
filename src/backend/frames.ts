/**
 * The server side of gorilla/websocket 1.5's frame writer (conn.go), reproduced so that the
 * frames on the wire are the ones the seed's Go server sends.
 *
 * Server frames are never masked (RFC 6455 §5.1: "A server MUST NOT mask any frames").
 */
import { deflateRawSync, constants as zlibConstants } from 'zlib';

/** conn.go: `maxFrameHeaderSize = 2 + 8 + 4 // Fixed header + length + mask`. */
export const MAX_FRAME_HEADER_SIZE = 14;
/** The seed's `websocket.Upgrader{WriteBufferSize: 1024}`. */
export const SEED_WRITE_BUFFER_SIZE = 1024;

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/**
 * One frame header as gorilla's flushFrame writes it (conn.go): FIN, RSV1 when the frame
 * starts a compressed message, the opcode, MASK = 0 (server), and the minimal length form
 * (RFC 6455 §5.2: 7 bits up to 125, 16 bits up to 65535, 64 bits beyond).
 */
export function frameHeader(opcode: number, fin: boolean, rsv1: boolean, length: number): Buffer {
  const b0 = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (length >= 65536) {
    const h = Buffer.alloc(10);
    h[0] = b0;
    h[1] = 127;
    h.writeBigUInt64BE(BigInt(length), 2);
    return h;
  }
  if (length > 125) {
    const h = Buffer.alloc(4);
    h[0] = b0;
    h[1] = 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  return Buffer.from([b0, length]);
}

/**
 * How gorilla's messageWriter cuts one message into frames, for a message written with a
 * single Write call (what json.Encoder.Encode does: it builds the whole value, newline
 * included, then calls w.Write once) followed by Close.
 *
 * The connection's write buffer is `WriteBufferSize + maxFrameHeaderSize` bytes long
 * (newConn: `writeBufferSize += maxFrameHeaderSize`), and a frame's payload starts after
 * the reserved header room (`mw.pos = maxFrameHeaderSize`), so a frame holds up to
 * WriteBufferSize bytes. Then:
 *
 * - messageWriter.Write: `if len(p) > 2*len(w.c.writeBuf) && w.c.isServer` ("Don't buffer
 *   large messages"): flushFrame(false, p) sends ALL of p as one non-final frame, and
 *   Close then sends flushFrame(true, nil): an empty final continuation frame (80 00).
 *   With WriteBufferSize 1024 that is any message longer than 2 * 1038 = 2076 bytes.
 * - otherwise ncopy fills the buffer; when it is full and more bytes remain, flushFrame(
 *   false, nil) sends WriteBufferSize bytes as a non-final frame; Close sends the rest as
 *   the final frame. A full buffer is only flushed when more bytes follow, so a message of
 *   exactly 1024 bytes is one frame and one of 2048 bytes is two (no empty last frame).
 *
 * The first frame has the message's opcode, the following ones opcode 0 (continuation,
 * flushFrame: `w.frameType = continuationFrame`); only the last has FIN set.
 * Returns the payload of each frame (views into `message`).
 */
export function gorillaFramePayloads(message: Buffer, writeBufferSize = SEED_WRITE_BUFFER_SIZE): Buffer[] {
  const bufLen = writeBufferSize + MAX_FRAME_HEADER_SIZE;
  if (message.length > 2 * bufLen) return [message, message.subarray(message.length)];
  return bufferedFramePayloads(message, writeBufferSize);
}

/** The buffered path: WriteBufferSize bytes per frame, the rest (1..WriteBufferSize) last. */
function bufferedFramePayloads(message: Buffer, writeBufferSize: number): Buffer[] {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (message.length - offset > writeBufferSize) {
    payloads.push(message.subarray(offset, offset + writeBufferSize));
    offset += writeBufferSize;
  }
  payloads.push(message.subarray(offset));
  return payloads;
}

/**
 * The frames (header + payload, one Buffer each, in order) for a data message, as gorilla
 * writes them. `compressed`: the payload is already deflated and the first frame gets RSV1
 * (RFC 7692 §6: "the RSV1 bit is set only on the first frame"; flushFrame: `if w.compress
 * { b0 |= rsv1Bit }; w.compress = false`).
 */
export function gorillaMessageFrames(
  opcode: number,
  payload: Buffer,
  options: { compressed?: boolean; writeBufferSize?: number } = {},
): Buffer[] {
  const payloads = options.compressed
    ? compressedFramePayloads(payload, options.writeBufferSize ?? SEED_WRITE_BUFFER_SIZE)
    : gorillaFramePayloads(payload, options.writeBufferSize);
  return payloads.map((p, i) =>
    Buffer.concat([
      frameHeader(i === 0 ? opcode : OP_CONTINUATION, i === payloads.length - 1, i === 0 && !!options.compressed, p.length),
      p,
    ]),
  );
}

/**
 * With compression gorilla puts a flate.Writer in front of the messageWriter; the flate
 * writer hands its output over in many small writes (Go's huffmanBitWriter flushes every
 * few hundred bytes), so the messageWriter's "large write" path is not taken and the
 * compressed bytes are cut into WriteBufferSize-byte frames, the rest in the final frame.
 * (For incompressible input Go's flate may emit a stored block in one large write and take
 * that path; we do not model it: see README, "Differences from the Go original".)
 */
function compressedFramePayloads(compressed: Buffer, writeBufferSize: number): Buffer[] {
  return bufferedFramePayloads(compressed, writeBufferSize);
}

/**
 * permessage-deflate compression of one message as gorilla's compressNoContextTakeover does
 * it (compression.go): a fresh raw-deflate stream per message (no context takeover) at
 * gorilla's defaultCompressionLevel 1, finished with a sync flush whose trailing
 * 00 00 ff ff is dropped (truncWriter; RFC 7692 §7.2.1). The deflate bytes come from zlib,
 * not Go's compress/flate, so they are valid but not identical to Go's.
 */
export function deflateMessage(payload: Buffer): Buffer {
  const out = deflateRawSync(payload, { level: 1, finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const tail = out.subarray(out.length - 4);
  return tail.equals(Buffer.from([0x00, 0x00, 0xff, 0xff])) ? out.subarray(0, out.length - 4) : out;
}

/**
 * A control frame as gorilla's WriteControl builds it for a server: one final frame,
 * 7-bit length (control payloads are at most 125 bytes, RFC 6455 §5.5), unmasked.
 */
export function controlFrame(opcode: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  if (payload.length > 125) throw new RangeError('control frame payload longer than 125 bytes');
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

/**
 * gorilla's FormatCloseMessage(code, text): the 2-byte code then the text; for 1005
 * (CloseNoStatusReceived, which must not be sent, RFC 6455 §7.4.1) an empty payload.
 */
export function formatCloseMessage(code: number, text = ''): Buffer {
  if (code === 1005) return Buffer.alloc(0);
  const t = Buffer.from(text, 'utf8');
  const buf = Buffer.alloc(2 + t.length);
  buf.writeUInt16BE(code, 0);
  t.copy(buf, 2);
  return buf;
}
