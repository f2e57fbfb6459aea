/**
 * The proxy's own permessage-deflate compressor for one direction (RFC 7692 §7.2.1), used
 * once that direction's stream was changed: with context takeover the receiver inflates each
 * message against the LZ77 window of the messages it received before (§7.2.2), so after a
 * compressed message was changed, dropped or injected the sender's later messages refer to a
 * window the receiver no longer has. From then on the proxy inflates what arrives and
 * deflates it again against the window the receiver really has.
 *
 * Like the decoder's MessageInflater (src/decoder/inflate.ts), synchronous: each message is
 * deflated with `deflateRawSync`, the receiver's window handed over as a preset dictionary
 * (raw DEFLATE may refer back into it, RFC 1951 §3.2.2), so the output is what a streaming
 * compressor with context takeover would be allowed to send.
 */
import { constants, deflateRawSync } from 'node:zlib';

/** RFC 7692 §7.2.1: the 4 octets 00 00 ff ff of the final sync flush are removed. */
const TRAILER_LENGTH = 4;

export class MessageDeflater {
  /** The receiver's window: the last bytes of the messages it inflated (context takeover). */
  private window: Buffer = Buffer.alloc(0);
  private readonly windowSize: number;

  /**
   * @param noContextTakeover the receiver resets its window after each message
   * @param windowBits the sender's negotiated *_max_window_bits (8-15; zlib's raw deflate needs >= 9)
   */
  constructor(private readonly noContextTakeover: boolean, private readonly windowBits = 15) {
    this.windowBits = Math.min(15, Math.max(9, windowBits));
    this.windowSize = 1 << this.windowBits;
  }

  /** Deflates one whole message and remembers it as the receiver will. */
  deflate(message: Buffer): Buffer {
    const dictionary = !this.noContextTakeover && this.window.length > 0 ? this.window : undefined;
    const out = deflateRawSync(message, { windowBits: this.windowBits, finishFlush: constants.Z_SYNC_FLUSH, ...(dictionary ? { dictionary } : {}) });
    this.remember(message);
    return out.subarray(0, out.length - TRAILER_LENGTH);
  }

  /** A compressed message the receiver got unchanged: its inflated bytes join the window. */
  remember(message: Buffer): void {
    if (this.noContextTakeover) return;
    const joined = message.length >= this.windowSize ? message : Buffer.concat([this.window, message]);
    this.window = Buffer.from(joined.subarray(Math.max(0, joined.length - this.windowSize)));
  }
}
