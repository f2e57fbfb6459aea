/**
 * Payloads wrapped in a compression or base64 before they reach the application protocol
 * (Proxyman and HTTP Toolkit users' "compressed payloads": gzip (RFC 1952), zlib
 * (RFC 1950), raw deflate (RFC 1951), brotli (RFC 7932), base64 (RFC 4648 §4)). Unwrapped
 * with Node's zlib, the output bounded by UNWRAP_MAX (a decompression bomb stops there
 * and is reported, it never fills memory), then handed to detection as if it had been
 * the message.
 *
 * Only strict evidence unwraps: gzip's magic bytes and zlib's header check (RFC 1950
 * §2.2: CMF·256+FLG a multiple of 31, CM 8) with the stream's own checksum; base64 only
 * when the whole text message is base64 and the bytes inside are themselves wrapped or
 * JSON (gzip or zlib inside base64, not the headerless ones). Raw deflate and brotli have no header, so a binary message is tried for them only
 * while a connection is young (UNWRAP_TRIES messages) or once that wrapping was seen on
 * it, and accepted only when the output is printable UTF-8 text: garbage that happens to
 * inflate is not taken for a payload.
 */
import * as zlib from 'zlib';
import type { AppPacket, AppResult, ProtocolName } from './types';

/** The most bytes one payload is unwrapped to (1 MiB); see docs/design.md. */
export const UNWRAP_MAX = 1024 * 1024;
/** Binary messages of a connection tried for raw deflate and brotli before one is seen. */
export const UNWRAP_TRIES = 4;

export type Wrapping = 'gzip' | 'zlib' | 'deflate' | 'brotli' | 'base64';

export interface Unwrapped {
  /** Outermost first, e.g. ['base64', 'gzip']. */
  wrapping: Wrapping[];
  payload: Buffer;
  /** 1 when the unwrapped bytes are UTF-8 text, else 2. */
  opcode: 1 | 2;
}

export interface UnwrapFailure {
  wrapping: Wrapping[];
  /** Why the payload was not unwrapped (too big, corrupt). */
  error: string;
}

const TEXT = new TextDecoder('utf-8', { fatal: true });

function printableText(b: Buffer): boolean {
  if (b.length === 0) return false;
  let s: string;
  try {
    s = TEXT.decode(b);
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/.test(s);
}

function isGzip(b: Buffer): boolean {
  return b.length >= 18 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 8;
}

function isZlib(b: Buffer): boolean {
  return b.length >= 6 && (b[0] & 0x0f) === 8 && b[0] >> 4 <= 7 && ((b[0] << 8) | b[1]) % 31 === 0;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function inflateWith(w: 'gzip' | 'zlib' | 'deflate' | 'brotli', b: Buffer): Buffer | string {
  const opts = { maxOutputLength: UNWRAP_MAX };
  try {
    if (w === 'gzip') return zlib.gunzipSync(b, opts);
    if (w === 'zlib') return zlib.inflateSync(b, opts);
    if (w === 'deflate') return zlib.inflateRawSync(b, opts);
    return zlib.brotliDecompressSync(b, opts);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') return `inflates past ${UNWRAP_MAX} bytes (not unwrapped)`;
    return `corrupt ${w} data`;
  }
}

/** Per connection: which headerless wrappings were seen, how many binary messages were tried. */
export class Unwrapper {
  private tried = 0;
  /** Made when one is seen (a Set per connection, ~200 bytes, most never used). */
  private seen: Set<Wrapping> | null = null;

  /** The message unwrapped, why it could not be, or null when it is not wrapped. */
  unwrap(opcode: number, payload: Buffer): Unwrapped | UnwrapFailure | null {
    if (opcode === 1) {
      if (payload.length < 8 || payload.length % 4 !== 0 || !BASE64.test(payload.toString('latin1'))) return null;
      const inner = Buffer.from(payload.toString('latin1'), 'base64');
      const deeper = this.binary(inner, true);
      if (deeper && 'error' in deeper) return { wrapping: ['base64', ...deeper.wrapping], error: deeper.error };
      if (deeper) return { ...deeper, wrapping: ['base64', ...deeper.wrapping] };
      if ((inner[0] === 0x7b || inner[0] === 0x5b) && printableText(inner)) {
        try {
          JSON.parse(inner.toString('utf8'));
          return { wrapping: ['base64'], payload: inner, opcode: 1 };
        } catch {
          return null;
        }
      }
      return null;
    }
    return this.binary(payload, false);
  }

  private binary(b: Buffer, inside: boolean): Unwrapped | UnwrapFailure | null {
    const w: 'gzip' | 'zlib' | null = isGzip(b) ? 'gzip' : isZlib(b) ? 'zlib' : null;
    if (w) {
      const out = inflateWith(w, b);
      if (typeof out === 'string') return { wrapping: [w], error: out };
      return { wrapping: [w], payload: out, opcode: printableText(out) ? 1 : 2 };
    }
    // Headerless: never inside base64 (too weak), only while young or once seen, and
    // only for printable text.
    if (inside || (this.tried >= UNWRAP_TRIES && this.seen === null)) return null;
    this.tried++;
    for (const h of ['deflate', 'brotli'] as const) {
      if (this.tried > UNWRAP_TRIES && !this.seen?.has(h)) continue;
      const out = inflateWith(h, b);
      if (typeof out === 'string') {
        if (this.seen?.has(h) && out.startsWith('inflates')) return { wrapping: [h], error: out };
        continue;
      }
      if (printableText(out)) {
        (this.seen ??= new Set()).add(h);
        return { wrapping: [h], payload: out, opcode: 1 };
      }
    }
    return null;
  }
}

/** Protocols whose messages are never unwrapped: their packets span messages (MQTT), so a message need not start a payload. */
export const KEEP_WRAPPED: ReadonlySet<ProtocolName> = new Set<ProtocolName>(['mqtt']);

/** Says the wrapping in each packet: `wrapping: "base64+gzip"`, the summary prefixed `[base64+gzip] `. */
export function markWrapped(app: AppResult, wrapping: Wrapping[]): void {
  if (!app) return;
  const w = wrapping.join('+');
  for (const p of Array.isArray(app) ? app : [app]) {
    p.wrapping = w;
    if ('summary' in p) p.summary = `[${w}] ${p.summary}`;
  }
}

/** A message that looks wrapped but could not be unwrapped (over UNWRAP_MAX, corrupt): described, not decoded. */
export function unwrapFailed(protocol: ProtocolName, f: UnwrapFailure): AppPacket {
  const w = f.wrapping.join('+');
  return { protocol, type: 'wrapped', summary: `[${w}] ${f.error}`, wrapping: w, unwrapError: f.error };
}
