/**
 * Bytes that are kept (by the decoder's lazy payloads, the terminal UI's store for `s`):
 * a Buffer keeps its whole ArrayBuffer alive, so what is kept must be all of one, or a
 * copy that is.
 */

/** buf is all of its ArrayBuffer (as each socket read is): keeping it keeps nothing more alive. */
export function isWholeBuffer(buf: Buffer): boolean {
  return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
}

/**
 * A copy in an ArrayBuffer of its own. Not Buffer.from: it takes small copies from Buffer's
 * shared pool (slabs of 8 KiB, of 64 KiB on Node 24), which a kept copy would keep alive.
 */
export function ownCopy(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(out);
  return out;
}
