/**
 * A pure frame builder (RFC 6455 §5.2), the counterpart of the decoder: for tests,
 * samples, `wsscope encode` and `wsscope send`. It builds invalid frames on purpose when
 * asked to (a reserved opcode, RSV bits, a non-minimal length form, a lying length).
 */
import { randomBytes } from 'node:crypto';
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { minimalLengthForm } from './constants';

/**
 * A frame to build. It is the frame spec of `--script` hooks (docs/design.md, "Intercepting")
 * plus the fields for building invalid frames on purpose (lengthForm, declaredLength).
 */
export interface FrameSpec {
  opcode: number; // 0..15
  fin?: boolean; // default true
  rsv1?: boolean; // default: true when compress, else false
  rsv2?: boolean;
  rsv3?: boolean;
  /**
   * true: masked (with maskKey, else a fresh random key, RFC 6455 §5.3); false or null:
   * unmasked; a 4-byte Buffer: masked with that key (the older form of maskKey).
   * Default: masked when maskKey is given, else as `from` requires (§5.1: a client masks,
   * a server does not), else unmasked.
   */
  mask?: boolean | Buffer | null;
  /** The sender, for the default of `mask`. */
  from?: 'client' | 'server';
  /** The 4-byte masking key, as 8 hex digits (any separators) or a Buffer. */
  maskKey?: string | Buffer;
  /** The payload before masking (and before compressing); a string is UTF-8. */
  payload?: Buffer | string;
  /**
   * Deflate the payload as permessage-deflate does (RFC 7692 §7.2.1, no context: what a
   * fresh compressor writes, which any receiver's inflater accepts) and set RSV1.
   */
  compress?: boolean;
  /** Force the length form (7, 16 or 64 bits); default: the minimal one (§5.2). */
  lengthForm?: 7 | 16 | 64;
  /** Write this length in the header instead of the payload's real length. */
  declaredLength?: number;
}

/** The masking key a spec asks for, or null for an unmasked frame; RangeError when malformed. */
function maskKeyOf(spec: FrameSpec): Buffer | null {
  if (Buffer.isBuffer(spec.mask)) {
    if (spec.maskKey !== undefined) throw new RangeError('give the masking key as mask or as maskKey, not both');
    return checkKey(spec.mask);
  }
  if (spec.mask === false || spec.mask === null) return null;
  if (spec.maskKey !== undefined) {
    const key = typeof spec.maskKey === 'string' ? parseHex(spec.maskKey) : spec.maskKey;
    if (key === null) throw new RangeError(`maskKey "${spec.maskKey}" is not hex: expected 4 bytes as 8 hex digits (e.g. 37fa213d)`);
    return checkKey(key);
  }
  if (spec.mask === true || (spec.mask === undefined && spec.from === 'client')) return randomBytes(4);
  return null;
}

function checkKey(key: Buffer): Buffer {
  if (key.length !== 4) throw new RangeError(`a masking key is 4 bytes, not ${key.length}`);
  return key;
}

/** Returns the frame bytes: header, extended length, masking key, (masked) payload. */
export function buildFrame(spec: FrameSpec): Buffer {
  if (!Number.isInteger(spec.opcode) || spec.opcode < 0 || spec.opcode > 15) {
    throw new RangeError(`opcode ${String(spec.opcode)} is not 0-15`);
  }
  const raw = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : spec.payload ?? Buffer.alloc(0);
  const payload = spec.compress ? deflateMessage(raw) : raw;
  const length = spec.declaredLength ?? payload.length;
  const form = spec.lengthForm ?? minimalLengthForm(length);
  if (form === 7 && length > 125) throw new RangeError(`length ${length} does not fit the 7-bit form`);
  if (form === 16 && length > 0xffff) throw new RangeError(`length ${length} does not fit the 16-bit form`);
  const mask = maskKeyOf(spec);
  const extended = form === 7 ? 0 : form === 16 ? 2 : 8;
  const header = Buffer.alloc(2 + extended + (mask ? 4 : 0));
  header[0] =
    (spec.fin === false ? 0 : 0x80) |
    ((spec.rsv1 ?? spec.compress) ? 0x40 : 0) |
    (spec.rsv2 ? 0x20 : 0) |
    (spec.rsv3 ? 0x10 : 0) |
    spec.opcode;
  header[1] = (mask ? 0x80 : 0) | (form === 7 ? length : form === 16 ? 126 : 127);
  if (form === 16) header.writeUInt16BE(length, 2);
  if (form === 64) header.writeBigUInt64BE(BigInt(length), 2);
  if (mask) mask.copy(header, 2 + extended);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([header, body]);
}

/**
 * A message payload as permessage-deflate sends it (RFC 7692 §7.2.1): DEFLATE with an
 * empty stored block from a sync flush at the end, whose 4 bytes 00 00 ff ff are then
 * removed. (The built-in backend has its own: it copies gorilla's compression level.)
 */
export function deflateMessage(payload: Buffer): Buffer {
  const deflated = deflateRawSync(payload, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return deflated.subarray(0, deflated.length - 4);
}

/** Parses hex text with any separators ("81 05 48", "81:05", "0x81 0x05"); null if malformed. */
export function parseHex(text: string): Buffer | null {
  const cleaned = text.replace(/0x/gi, '').replace(/[\s,:\-]/g, '');
  if (cleaned.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(cleaned)) return null;
  return Buffer.from(cleaned, 'hex');
}
