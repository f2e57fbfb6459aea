/**
 * Unmasking (RFC 6455 §5.3): "octet i of the transformed data is the XOR of octet i of the
 * original data with octet at index i modulo 4 of the masking key". Long runs are XORed
 * in 32-bit words over the aligned part of the destination.
 */
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Copies src[srcStart, srcStart+len) into dst at dstStart and unmasks it there. `phase` is
 * the position of src[srcStart] in the payload modulo 4 (the key index it starts at).
 * The source is never modified: it is the proxy's forwarded chunk.
 */
export function unmaskInto(src: Buffer, srcStart: number, dst: Buffer, dstStart: number, len: number, key: Uint8Array, phase: number): void {
  if (len < 32 || !LITTLE_ENDIAN) {
    for (let i = 0; i < len; i++) dst[dstStart + i] = src[srcStart + i] ^ key[(phase + i) & 3];
    return;
  }
  src.copy(dst, dstStart, srcStart, srcStart + len);
  const end = dstStart + len;
  let i = dstStart;
  const base = dst.byteOffset;
  // Bytes before the first 4-aligned address.
  while (((base + i) & 3) !== 0) {
    dst[i] ^= key[(phase + i - dstStart) & 3];
    i++;
  }
  const words = (end - i) >>> 2;
  const k = (phase + i - dstStart) & 3;
  const word = (key[k] | (key[(k + 1) & 3] << 8) | (key[(k + 2) & 3] << 16) | (key[(k + 3) & 3] << 24)) | 0;
  const view = new Int32Array(dst.buffer, base + i, words);
  for (let w = 0; w < words; w++) view[w] ^= word;
  i += words << 2;
  for (; i < end; i++) dst[i] ^= key[(phase + i - dstStart) & 3];
}
