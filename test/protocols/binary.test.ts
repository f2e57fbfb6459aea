import { encode as msgpack } from '@msgpack/msgpack';
import { encode as cbor } from 'cbor-x';
import { valuePacket } from '../../src/protocols/binary';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('generic MessagePack and CBOR values', () => {
  it('MessagePack spec bytes: fixmap, int64 as a decimal string, bin, ext', () => {
    // {"compact": true, "schema": 0}: the msgpack.org front-page example.
    expect(valuePacket('msgpack', hex('82 a7 636f6d70616374 c3 a6 736368656d61 00'))).toEqual({
      protocol: 'msgpack', type: 'map', value: { compact: true, schema: 0 }, summary: 'map {"compact":true,"schema":0}' });
    expect(valuePacket('msgpack', hex('cf 1000000000000000')).value).toBe('1152921504606846976');
    expect(valuePacket('msgpack', hex('c4 02 0102'))).toMatchObject({ type: 'bytes', value: { $bytes: '0102' } });
    expect(valuePacket('msgpack', hex('d4 05 07'))).toMatchObject({ type: 'ext', value: { $ext: 5, data: '07' } });
    expect(valuePacket('msgpack', Buffer.from(msgpack([1, 'x', null, 1.5]))).value).toEqual([1, 'x', null, 1.5]);
  });

  it('RFC 8949 Appendix A examples: arrays, maps, tags, floats', () => {
    expect(valuePacket('cbor', hex('83 01 82 02 03 82 04 05'))).toEqual({ protocol: 'cbor', type: 'array', value: [1, [2, 3], [4, 5]], summary: 'array [1,[2,3],[4,5]]' });
    expect(valuePacket('cbor', hex('a2 6161 01 6162 82 02 03')).value).toEqual({ a: 1, b: [2, 3] });
    expect(valuePacket('cbor', hex('c1 1a 514b67b0'))).toMatchObject({ type: 'timestamp', value: '2013-03-21T20:04:00.000Z' });
    expect(valuePacket('cbor', hex('f9 7c00')).value).toBe('Infinity');
    expect(valuePacket('cbor', hex('44 01020304'))).toMatchObject({ type: 'bytes', value: { $bytes: '01020304' } });
    expect(valuePacket('cbor', Buffer.from(cbor({ k: [true, 'v'] }))).value).toEqual({ k: [true, 'v'] });
  });

  it('broken and trailing input give the prefixed rules; lengths bigger than the payload are refused, not allocated', () => {
    for (const enc of ['msgpack', 'cbor'] as const) {
      expect(valuePacket(enc, hex('c1')).violations?.map((v) => v.rule)).toEqual([`${enc}-bad-encoding`]);
      expect(valuePacket(enc, hex('01 02')).violations?.map((v) => v.rule)).toEqual([`${enc}-trailing-bytes`]);
      expect(valuePacket(enc, Buffer.alloc(0)).violations?.map((v) => v.rule)).toEqual([`${enc}-bad-encoding`]);
    }
    expect(valuePacket('msgpack', hex('dd ffffffff 01')).type).toBe('invalid');
    expect(valuePacket('cbor', hex('9b ffffffffffffffff 01')).type).toBe('invalid');
    expect(valuePacket('cbor', Buffer.alloc(100000, 0x81)).summary).toBe('invalid cbor: nested too deeply');
  });
});
