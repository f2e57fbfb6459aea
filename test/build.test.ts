import { buildFrame, parseHex } from '../src/decoder/build';

describe('buildFrame', () => {
  it('builds the RFC 6455 §5.7 single-frame unmasked text message', () => {
    expect(buildFrame({ opcode: 1, payload: 'Hello' }).toString('hex')).toBe('810548656c6c6f');
  });
  it('builds the RFC 6455 §5.7 single-frame masked text message', () => {
    const frame = buildFrame({ opcode: 1, payload: 'Hello', mask: Buffer.from('37fa213d', 'hex') });
    expect(frame.toString('hex')).toBe('818537fa213d7f9f4d5158');
  });
  it('uses the 16-bit form for 256 bytes and the 64-bit form for 65536 (§5.7)', () => {
    expect(buildFrame({ opcode: 2, payload: Buffer.alloc(256) }).subarray(0, 4).toString('hex')).toBe('827e0100');
    expect(buildFrame({ opcode: 2, payload: Buffer.alloc(65536) }).subarray(0, 10).toString('hex')).toBe('827f0000000000010000');
  });
  it('forces a non-minimal length form on request', () => {
    expect(buildFrame({ opcode: 1, payload: 'Hi', lengthForm: 16 }).toString('hex')).toBe('817e00024869');
  });
  it('parses hex with separators and rejects malformed hex', () => {
    expect(parseHex('81 05 48:65-6c,6c 0x6f')?.toString('hex')).toBe('810548656c6c6f');
    expect(parseHex('8')).toBeNull();
    expect(parseHex('zz')).toBeNull();
  });
});

import { headerFields } from '../src/decoder/fields';

describe('headerFields', () => {
  it('places every field of a masked 16-bit-length frame', () => {
    const frame = buildFrame({ opcode: 2, payload: Buffer.alloc(256), mask: Buffer.from('01020304', 'hex') });
    const fields = headerFields(frame.subarray(0, 8));
    expect(fields.map((f) => [f.key, f.bitOffset, f.bitLength, f.value])).toEqual([
      ['fin', 0, 1, 1],
      ['rsv1', 1, 1, 0],
      ['rsv2', 2, 1, 0],
      ['rsv3', 3, 1, 0],
      ['opcode', 4, 4, 2],
      ['mask', 8, 1, 1],
      ['payloadLen', 9, 7, 126],
      ['extendedLength16', 16, 16, 256],
      ['maskingKey', 32, 32, '01020304'],
    ]);
    expect(fields[4].bits).toBe('0010');
    expect(fields[6].bits).toBe('1111110');
  });
  it('reads a 64-bit length', () => {
    const header = Buffer.from('827f0000000000010000', 'hex');
    expect(headerFields(header).at(-1)).toMatchObject({ key: 'extendedLength64', bitOffset: 16, bitLength: 64, value: 65536 });
  });
});
