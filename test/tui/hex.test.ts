/** The Hex view: the frame as sent, coloured by field like the diagram. */
import { hexDump, hexDumpDoc, hexLegend, wireBytes } from '../../src/tui/hex';
import { FIELD_COLOURS } from '../../src/tui/fields';
import { plain } from '../../src/tui/text';
import { frame, frameEventFromBytes, KEY } from './fixtures';
import { buildFrame, parseHex } from '../../src/decoder/build';

test('the §5.7 masked "Hello" dumps exactly as it crossed the wire', () => {
  const f = frameEventFromBytes(parseHex('81 85 37 fa 21 3d 7f 9f 4d 51 58')!);
  expect(wireBytes(f).bytes.toString('hex')).toBe('818537fa213d7f9f4d5158');
  expect(hexDump(f).map(plain)).toEqual(['000000  81 85 37 fa 21 3d 7f 9f  4d 51 58                 ..7.!=..MQX']);
  expect(plain(hexLegend(f))).toBe('byte 0: FIN+RSV | opcode  byte 1: MASK+Payload len  masking key  payload (masked, as sent)');
});

test('a longer masked payload (16-bit length) is masked back byte for byte as it was sent', () => {
  const sent = buildFrame({ opcode: 2, mask: KEY, payload: Buffer.from(Array.from({ length: 301 }, (_, i) => (i * 7) & 0xff)) });
  expect(wireBytes(frameEventFromBytes(sent)).bytes.equals(sent)).toBe(true);
});

test('byte 0 is split in two colours (FIN/RSV nibble, opcode nibble); key and payload have theirs', () => {
  const f = frameEventFromBytes(parseHex('81 85 37 fa 21 3d 7f 9f 4d 51 58')!);
  const segs = hexDump(f)[0].filter((s) => s.t.trim() !== '');
  expect(segs.slice(0, 9).map((s) => [s.t, s.fg])).toEqual([
    ['000000  ', undefined],
    ['8', FIELD_COLOURS.fin],
    ['1', FIELD_COLOURS.opcode],
    ['85', FIELD_COLOURS.payloadLen],
    ['37', FIELD_COLOURS.maskingKey],
    ['fa', FIELD_COLOURS.maskingKey],
    ['21', FIELD_COLOURS.maskingKey],
    ['3d', FIELD_COLOURS.maskingKey],
    ['7f', FIELD_COLOURS.payload],
  ]);
});

test('16-bit extended length bytes get the extended-length colour; rows of 16 bytes', () => {
  const f = frame({ opcode: 2, payload: Buffer.alloc(126, 0x41) }, { dir: 'server' });
  const lines = hexDump(f);
  expect(plain(lines[0])).toBe('000000  82 7e 00 7e 41 41 41 41  41 41 41 41 41 41 41 41  .~.~AAAAAAAAAAAA');
  expect(lines.length).toBe(9); // 4 + 126 = 130 bytes
  expect(plain(lines[8])).toBe('000080  41 41                                             AA');
  const ext = lines[0].filter((s) => s.t === '00' || s.t === '7e').map((s) => s.fg);
  expect(ext).toEqual([FIELD_COLOURS.payloadLen, FIELD_COLOURS.extendedLength16, FIELD_COLOURS.extendedLength16]);
});

test('a payload cut at --max-payload says how much is missing', () => {
  const f = frame({ opcode: 2, payload: Buffer.alloc(40) }, { dir: 'server', maxPayload: 16 });
  const lines = hexDump(f).map(plain);
  expect(lines[lines.length - 1]).toBe('... 24 more payload bytes not kept (--max-payload)');
});

test('the dump of a 64 KiB frame is lazy: any row can be read without building the others', () => {
  const f = frame({ opcode: 2, payload: Buffer.alloc(65536, 0x42) }, { dir: 'server' });
  const d = hexDumpDoc(f);
  expect(d.length).toBe(4097); // a 10-byte header (2 + 8) and 65,536 bytes: 65,546 bytes
  expect(plain(d.line(0))).toBe('000000  82 7f 00 00 00 00 00 01  00 00 42 42 42 42 42 42  ..........BBBBBB');
  expect(plain(d.line(4096))).toBe('010000  42 42 42 42 42 42 42 42  42 42                    BBBBBBBBBB');
});
