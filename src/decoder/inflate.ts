/**
 * permessage-deflate decompression (RFC 7692 §6.2, §7.2.2), synchronous and with public
 * zlib API only. A streaming zlib object cannot be driven synchronously through its public
 * API (its sync path closes the handle after one call), so each message is inflated with
 * `inflateRawSync` and "context takeover" is reproduced exactly by handing the inflater the
 * last 32 KiB of the previous output as a preset dictionary: DEFLATE back-references reach
 * at most 32 KiB back (RFC 1951 §2), and that window is all that context takeover carries
 * over (RFC 7692 §7.2.2: "the LZ77 sliding window ... used in the last compressed message").
 *
 * Inflating always uses a 32 KiB window (windowBits 15): the window bits negotiated by
 * *_max_window_bits only limit the compressor; a larger window decodes any such stream.
 */
import { constants, inflateRawSync } from 'node:zlib';
import type { ByteQueue } from './queue';

const WINDOW = 32 * 1024;
/** RFC 7692 §7.2.2: append 00 00 ff ff to the payload before decompressing. */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export type InflateResult =
  | { ok: true; data: Buffer }
  | { ok: false; tooLarge: boolean; message: string };

export class MessageInflater {
  /** The output so far; its last <= 32 KiB (ending at historyLen) is the sliding window. */
  private history: Buffer | null = null;
  private historyLen = 0;
  /** False once the window is lost (a message not inflated): later messages cannot be inflated. */
  private usable = true;

  /**
   * @param noContextTakeover the sender resets its compressor after each message
   * @param maxOutput the largest inflated message (an inflate bomb stops there)
   */
  constructor(private readonly noContextTakeover: boolean, private readonly maxOutput: number) {}

  /** Nothing is in the window yet (and it was never lost): the next message needs no history. */
  get fresh(): boolean {
    return this.usable && this.historyLen === 0;
  }

  /** Inflates one whole message: its compressed payload, gathered in `payload`. */
  inflate(payload: ByteQueue): InflateResult {
    if (!this.usable) return { ok: false, tooLarge: false, message: 'the compression context was lost earlier on this side' };
    payload.append(TRAILER);
    const input = payload.view();
    let data: Buffer;
    try {
      const dictionary = !this.noContextTakeover && this.historyLen > 0 ? this.history!.subarray(Math.max(0, this.historyLen - WINDOW), this.historyLen) : undefined;
      data = inflateRawSync(input, { windowBits: 15, finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, this.maxOutput), ...(dictionary ? { dictionary } : {}) });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        this.skipped();
        return { ok: false, tooLarge: true, message: `inflated message larger than ${this.maxOutput} bytes; not inflated` };
      }
      // A broken stream leaves the sender's and our windows out of step: keep what we had
      // (the next message may still inflate if it does not refer back).
      return { ok: false, tooLarge: false, message: (err as Error).message };
    }
    if (!this.noContextTakeover) this.remember(data);
    return { ok: true, data };
  }

  /**
   * A message was not inflated (over the limit): with context takeover its output belonged
   * in the window, so the window is lost; without, the next message starts afresh anyway.
   */
  skipped(): void {
    if (!this.noContextTakeover) this.usable = false;
  }

  private remember(data: Buffer): void {
    // history is 2 windows long: appends are cheap, and the last window slides to the
    // front only when the buffer is full (one 32 KiB copy per 32 KiB of output at most).
    const h = (this.history ??= Buffer.allocUnsafe(2 * WINDOW));
    if (data.length >= WINDOW) {
      data.copy(h, 0, data.length - WINDOW);
      this.historyLen = WINDOW;
      return;
    }
    if (this.historyLen + data.length > h.length) {
      const keep = Math.min(this.historyLen, WINDOW);
      h.copy(h, 0, this.historyLen - keep, this.historyLen);
      this.historyLen = keep;
    }
    data.copy(h, this.historyLen);
    this.historyLen += data.length;
  }
}
