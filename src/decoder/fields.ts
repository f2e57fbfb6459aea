/**
 * Where every header field of a frame sits (RFC 6455 §5.2): a pure function of the header
 * bytes, so that the bit diagram, the field table and the coloured hex dump of every view
 * are derived from the same positions.
 */

export type HeaderFieldKey =
  | 'fin'
  | 'rsv1'
  | 'rsv2'
  | 'rsv3'
  | 'opcode'
  | 'mask'
  | 'payloadLen'
  | 'extendedLength16'
  | 'extendedLength64'
  | 'maskingKey';

export interface HeaderField {
  key: HeaderFieldKey;
  /** The name RFC 6455 §5.2 gives the field. */
  name: string;
  /** Bit offset from the frame's first bit (bit 0 is the most significant bit of byte 0). */
  bitOffset: number;
  bitLength: number;
  /** The field's bits as a string of 0s and 1s, most significant first. */
  bits: string;
  /** The field's value: a number (exact up to 2^53), or hex for the masking key. */
  value: number | string;
}

const NAMES: Record<HeaderFieldKey, string> = {
  fin: 'FIN',
  rsv1: 'RSV1',
  rsv2: 'RSV2',
  rsv3: 'RSV3',
  opcode: 'opcode',
  mask: 'MASK',
  payloadLen: 'Payload len',
  extendedLength16: 'Extended payload length (16)',
  extendedLength64: 'Extended payload length (64)',
  maskingKey: 'Masking-key',
};

function bitsOf(header: Buffer, bitOffset: number, bitLength: number): string {
  let out = '';
  for (let i = bitOffset; i < bitOffset + bitLength; i++) {
    out += (header[i >> 3] >> (7 - (i & 7))) & 1 ? '1' : '0';
  }
  return out;
}

/**
 * The fields of a frame header, in wire order. `header` holds at least the 2 fixed bytes;
 * fields whose bytes are missing (a truncated header) are left out.
 */
export function headerFields(header: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  const add = (key: HeaderFieldKey, bitOffset: number, bitLength: number, value?: string) => {
    if ((bitOffset + bitLength) > header.length * 8) return;
    const bits = bitsOf(header, bitOffset, bitLength);
    // Up to 53 bits parse exactly as a number; a 64-bit length beyond that is rounded.
    const numeric = bitLength <= 53 ? parseInt(bits, 2) : Number(BigInt('0b' + bits));
    fields.push({ key, name: NAMES[key], bitOffset, bitLength, bits, value: value ?? numeric });
  };
  if (header.length < 2) return fields;
  add('fin', 0, 1);
  add('rsv1', 1, 1);
  add('rsv2', 2, 1);
  add('rsv3', 3, 1);
  add('opcode', 4, 4);
  add('mask', 8, 1);
  add('payloadLen', 9, 7);
  const len7 = header[1] & 0x7f;
  const extendedBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  if (extendedBytes === 2) add('extendedLength16', 16, 16);
  if (extendedBytes === 8) add('extendedLength64', 16, 64);
  const maskStart = 2 + extendedBytes;
  if (header[1] & 0x80 && header.length >= maskStart + 4) {
    add('maskingKey', maskStart * 8, 32, header.subarray(maskStart, maskStart + 4).toString('hex'));
  }
  return fields;
}
