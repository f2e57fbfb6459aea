/**
 * A pure frame builder (RFC 6455 §5.2), the counterpart of the decoder: for tests,
 * samples, `wsscope encode` and `wsscope send`. It builds invalid frames on purpose when
 * asked to (a reserved opcode, RSV bits, a non-minimal length form, a lying length).
 */
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { minimalLengthForm } from './constants';

export interface FrameSpec {
  fin?: boolean; // default true
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  opcode: number; // 0..15
  /** 4-byte masking key, or null/undefined for an unmasked frame. */
  mask?: Buffer | null;
  payload?: Buffer | string;
  /** Force the length form (7, 16 or 64 bits); default: the minimal one (§5.2). */
  lengthForm?: 7 | 16 | 64;
  /** Write this length in the header instead of the payload's real length. */
  declaredLength?: number;
}

/** Returns the frame bytes: header, extended length, masking key, (masked) payload. */
export function buildFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : spec.payload ?? Buffer.alloc(0);
  const length = spec.declaredLength ?? payload.length;
  const form = spec.lengthForm ?? minimalLengthForm(length);
  if (form === 7 && length > 125) throw new RangeError(`length ${length} does not fit the 7-bit form`);
  if (form === 16 && length > 0xffff) throw new RangeError(`length ${length} does not fit the 16-bit form`);
  const mask = spec.mask ?? null;
  if (mask && mask.length !== 4) throw new RangeError('a masking key is 4 bytes');
  const extended = form === 7 ? 0 : form === 16 ? 2 : 8;
  const header = Buffer.alloc(2 + extended + (mask ? 4 : 0));
  header[0] =
    (spec.fin === false ? 0 : 0x80) |
    (spec.rsv1 ? 0x40 : 0) |
    (spec.rsv2 ? 0x20 : 0) |
    (spec.rsv3 ? 0x10 : 0) |
    (spec.opcode & 0x0f);
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
