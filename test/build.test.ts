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

describe('buildFrame with the hooks frame spec (docs/design.md, "Intercepting")', () => {
  const KEY = Buffer.from('37fa213d', 'hex');
  it('masks with maskKey given as hex (any separators) or as a Buffer (RFC 6455 §5.7)', () => {
    expect(buildFrame({ opcode: 1, payload: 'Hello', maskKey: '37fa213d' }).toString('hex')).toBe('818537fa213d7f9f4d5158');
    expect(buildFrame({ opcode: 1, payload: 'Hello', maskKey: '37 fa 21 3d' }).toString('hex')).toBe('818537fa213d7f9f4d5158');
    expect(buildFrame({ opcode: 1, payload: 'Hello', mask: true, maskKey: KEY }).toString('hex')).toBe('818537fa213d7f9f4d5158');
  });
  /** Unmasks a masked frame with a 7-bit length: [key, payload]. */
  const unmask = (frame: Buffer): [Buffer, Buffer] => {
    const key = frame.subarray(2, 6);
    return [key, Buffer.from(frame.subarray(6).map((b, i) => b ^ key[i & 3]))];
  };
  it('mask: true without a key takes a fresh random one per frame (§5.3)', () => {
    const a = buildFrame({ opcode: 1, payload: 'Hello', mask: true });
    const b = buildFrame({ opcode: 1, payload: 'Hello', mask: true });
    expect(a.subarray(0, 2).toString('hex')).toBe('8185');
    expect(unmask(a)[1].toString()).toBe('Hello');
    expect(unmask(b)[1].toString()).toBe('Hello');
    expect(unmask(a)[0].equals(unmask(b)[0])).toBe(false); // fails by chance once in 2^32
  });
  it('defaults mask to what the sender must do (§5.1): masked from the client, unmasked from the server', () => {
    const frame = buildFrame({ opcode: 1, payload: 'Hello', from: 'client' });
    expect(frame.subarray(0, 2).toString('hex')).toBe('8185');
    expect(unmask(frame)[1].toString()).toBe('Hello');
    expect(buildFrame({ opcode: 1, payload: 'Hello', from: 'server' }).toString('hex')).toBe('810548656c6c6f');
    expect(buildFrame({ opcode: 1, payload: 'Hello', from: 'server', maskKey: KEY }).toString('hex')).toBe('818537fa213d7f9f4d5158');
    expect(buildFrame({ opcode: 1, payload: 'Hello', from: 'client', mask: false }).toString('hex')).toBe('810548656c6c6f');
    expect(buildFrame({ opcode: 1, payload: 'Hello', from: 'client', mask: null }).toString('hex')).toBe('810548656c6c6f');
  });
  it('sets fin and the rsv bits as asked', () => {
    expect(buildFrame({ opcode: 0, fin: false, rsv1: true, rsv2: true, rsv3: true, payload: '' }).toString('hex')).toBe('7000');
    expect(buildFrame({ opcode: 15, payload: Buffer.from([0xab]) }).toString('hex')).toBe('8f01ab');
  });
  it('compresses as permessage-deflate with RSV1 (RFC 7692 §7.2.3.1: "Hello" is c1 07 f2 48 cd c9 c9 07 00)', () => {
    expect(buildFrame({ opcode: 1, payload: 'Hello', compress: true }).toString('hex')).toBe('c107f248cdc9c90700');
    // Masked, the compressed bytes are masked (the key follows the length).
    expect(buildFrame({ opcode: 1, payload: 'Hello', compress: true, maskKey: '00000000' }).toString('hex')).toBe('c18700000000f248cdc9c90700');
    // rsv1: false on purpose: a compressed payload without the bit (an invalid frame).
    expect(buildFrame({ opcode: 1, payload: 'Hello', compress: true, rsv1: false }).toString('hex')).toBe('8107f248cdc9c90700');
  });
  it('keeps lengthForm and declaredLength with the new fields', () => {
    expect(buildFrame({ opcode: 1, payload: 'Hi', lengthForm: 64, maskKey: '00000000' }).toString('hex')).toBe('81ff0000000000000002000000004869');
    expect(buildFrame({ opcode: 2, payload: 'ab', declaredLength: 5 }).toString('hex')).toBe('82056162');
  });
  it('rejects a malformed spec with a RangeError saying what is wrong', () => {
    expect(() => buildFrame({ opcode: 16, payload: '' })).toThrow('opcode 16 is not 0-15');
    expect(() => buildFrame({ opcode: 1.5, payload: '' })).toThrow('opcode 1.5 is not 0-15');
    expect(() => buildFrame({ opcode: 1, payload: '', maskKey: 'zz' })).toThrow('maskKey "zz" is not hex');
    expect(() => buildFrame({ opcode: 1, payload: '', maskKey: '010203' })).toThrow('a masking key is 4 bytes, not 3');
    expect(() => buildFrame({ opcode: 1, payload: '', maskKey: Buffer.alloc(5) })).toThrow('a masking key is 4 bytes, not 5');
    expect(() => buildFrame({ opcode: 1, payload: '', mask: KEY, maskKey: KEY })).toThrow('not both');
  });
});
