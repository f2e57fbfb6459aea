/**
 * The Fields view's pure parts, exact strings, on RFC 6455 §5.7's own examples:
 * "A single-frame masked text message: 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58".
 */
import { bitDiagram, fieldTable, lengthFormLines, xorLines } from '../../src/tui/fields';
import { plain, type Line } from '../../src/tui/text';
import { frame, frameEventFromBytes } from './fixtures';
import { parseHex } from '../../src/decoder/build';

const text = (lines: Line[]) => lines.map(plain);
const rfcMaskedHello = () => frameEventFromBytes(parseHex('81 85 37 fa 21 3d 7f 9f 4d 51 58')!);

describe('bitDiagram (RFC 6455 §5.2 redrawn with real bits)', () => {
  test('the §5.7 masked "Hello": every field in place, the masking key across two rows, masked payload after it', () => {
    expect(text(bitDiagram(rfcMaskedHello()))).toEqual([
      '      0                   1                   2                   3',
      '      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1',
      '      +-+-+-+-+-------+-+-------------+-------------------------------+',
      '   0  |1|0|0|0|0 0 0 1|1|0 0 0 0 1 0 1|0 0 1 1 0 1 1 1 1 1 1 1 1 0 1 0|',
      '      |F|R|R|R|opcode |M| Payload len |          Masking-key          |',
      '      |I|S|S|S| = 0x1 |A|     = 5     |         = 37 fa 21 3d         |',
      '      |N|V|V|V| text  |S|    bytes    |XOR key for the payload (§5.3) |',
      '      | |1|2|3|       |K|             |                               |',
      '      +-+-+-+-+-------+-+-------------+-------------------------------+',
      '   4  |0 0 1 0 0 0 0 1 0 0 1 1 1 1 0 1|0 1 1 1 1 1 1 1 1 0 0 1 1 1 1 1|',
      '      |    Masking-key (continued)    |         Payload Data          |',
      '      |                               |       (as sent: masked)       |',
      '      +-------------------------------+-------------------------------+',
    ]);
  });

  test('each field is drawn in its own colour; the bits are the header\'s bits', () => {
    const bitsRow = bitDiagram(rfcMaskedHello())[3];
    const coloured = bitsRow.slice(1).filter((s) => s.t !== '|').map((s) => [s.t, s.fg]);
    expect(coloured).toEqual([
      ['1', 'magenta'],
      ['0', 'yellow'],
      ['0', 'yellow'],
      ['0', 'yellow'],
      ['0 0 0 1', 'cyan'],
      ['1', 'red'],
      ['0 0 0 0 1 0 1', 'green'],
      ['0 0 1 1 0 1 1 1 1 1 1 1 1 0 1 0', 'light-blue'],
    ]);
  });

  test('a 16-bit length: Payload len 126 then the extended length, unmasked payload bytes', () => {
    // RFC 6455 §5.7: "256 bytes binary message in a single unmasked frame: 0x82 0x7E 0x0100 [256 bytes]"
    const lines = text(bitDiagram(frame({ opcode: 2, payload: Buffer.alloc(256, 0xff) }, { dir: 'server' })));
    expect(lines.slice(3, 8)).toEqual([
      '   0  |1|0|0|0|0 0 1 0|0|1 1 1 1 1 1 0|0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0|',
      '      |F|R|R|R|opcode |M| Payload len | Extended payload length (16)  |',
      '      |I|S|S|S| = 0x2 |A|    = 126    |             = 256             |',
      '      |N|V|V|V|binary |S| 16-bit next |      the payload length       |',
      '      | |1|2|3|       |K|             |                               |',
    ]);
    expect(lines.slice(9)).toEqual([
      '   4  |1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1|',
      '      |                         Payload Data                          |',
      '      |                           (as sent)                           |',
      '      +---------------------------------------------------------------+',
    ]);
  });

  test('a 64-bit length spans three rows; an empty control frame is one row', () => {
    const big = text(bitDiagram(frame({ opcode: 2, payload: Buffer.alloc(65536) }, { dir: 'server' })));
    expect(big[3]).toBe('   0  |1|0|0|0|0 0 1 0|0|1 1 1 1 1 1 1|0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0|');
    expect(big[5]).toBe('      |I|S|S|S| = 0x2 |A|    = 127    |            = 65536            |');
    // 65536 = 00 00 00 00 00 01 00 00: bytes 4-7 of the header are 00 00 00 01.
    expect(big[9]).toBe('   4  |0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1|');
    expect(big[10]).toBe('      |              Extended payload length (continued)              |');
    expect(big[12]).toBe('   8  |0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0|0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0|');
    expect(big[13]).toBe('      |          (continued)          |         Payload Data          |'); // not a cut name
    const ping = text(bitDiagram(frame({ opcode: 9 }, { dir: 'server' })));
    expect(ping).toEqual([
      '      0                   1                   2                   3',
      '      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1',
      '      +-+-+-+-+-------+-+-------------+',
      '   0  |1|0|0|0|1 0 0 1|0|0 0 0 0 0 0 0|',
      '      |F|R|R|R|opcode |M| Payload len |',
      '      |I|S|S|S| = 0x9 |A|     = 0     |',
      '      |N|V|V|V| ping  |S|    bytes    |',
      '      | |1|2|3|       |K|             |',
      '      +-+-+-+-+-------+-+-------------+',
    ]);
  });
});

describe('fieldTable', () => {
  test('name, bit positions, value and meaning of every field', () => {
    expect(text(fieldTable(rfcMaskedHello()))).toEqual([
      'field                         bits    value        meaning',
      'FIN                           0       1            final frame of the message',
      'RSV1                          1       0            no extension meaning',
      'RSV2                          2       0            no extension meaning',
      'RSV3                          3       0            no extension meaning',
      'opcode                        4-7     0x1          text (data frame)',
      'MASK                          8       1            payload masked',
      'Payload len                   9-15    5            the payload length',
      'Masking-key                   16-47   37 fa 21 3d  XOR key for the payload (§5.3)',
    ]);
  });

  test('a fragment with RSV1 and a 64-bit length', () => {
    const f = frame({ opcode: 1, fin: false, rsv1: true, payload: Buffer.alloc(70000) }, { dir: 'server' });
    expect(text(fieldTable(f)).slice(1, 3)).toEqual([
      'FIN                           0       0            more fragments follow',
      'RSV1                          1       1            set: compressed (permessage-deflate, RFC 7692 §6)',
    ]);
    expect(text(fieldTable(f))[7]).toBe('Payload len                   9-15    127          a 64-bit length follows');
    expect(text(fieldTable(f))[8]).toBe('Extended payload length (64)  16-79   70000        the payload length');
  });
});

describe('lengthFormLines (why this length form, §5.2)', () => {
  test('7, 16 and 64-bit forms', () => {
    expect(text(lengthFormLines(rfcMaskedHello()))).toEqual(['Length: 7-bit form. 5 ≤ 125, so Payload len holds the length itself.']);
    expect(text(lengthFormLines(frame({ opcode: 2, payload: Buffer.alloc(256) }, { dir: 'server' })))).toEqual([
      'Length: 16-bit form. Payload len = 126, then 256 in 2 bytes (for 126..65535).',
    ]);
    expect(text(lengthFormLines(frame({ opcode: 2, payload: Buffer.alloc(65536) }, { dir: 'server' })))).toEqual([
      'Length: 64-bit form. Payload len = 127, then 65536 in 8 bytes (above 65535; top bit 0).',
    ]);
  });

  test('a non-minimal form is called out in red', () => {
    const lines = lengthFormLines(frame({ opcode: 1, payload: 'tiny', lengthForm: 16 }, { dir: 'server' }));
    expect(text(lines)).toEqual([
      'Length: 16-bit form. Payload len = 126, then 4 in 2 bytes (for 126..65535).',
      '  NOT minimal: 4 fits the 7-bit form; §5.2 requires the minimal number of bytes.',
    ]);
    expect(lines[1][0].fg).toBe('red');
  });
});

describe('xorLines (unmasking, §5.3)', () => {
  test('the §5.7 example byte by byte: masked ⊕ key[i mod 4] = clear', () => {
    expect(text(xorLines(rfcMaskedHello()))).toEqual([
      'Masking-key 37 fa 21 3d: clear[i] = masked[i] ⊕ key[i mod 4] (§5.3)',
      '  [0]  7f 01111111 ⊕ 37 00110111 = 48 01001000 \'H\'',
      '  [1]  9f 10011111 ⊕ fa 11111010 = 65 01100101 \'e\'',
      '  [2]  4d 01001101 ⊕ 21 00100001 = 6c 01101100 \'l\'',
      '  [3]  51 01010001 ⊕ 3d 00111101 = 6c 01101100 \'l\'',
      '  [4]  58 01011000 ⊕ 37 00110111 = 6f 01101111 \'o\'',
    ]);
  });

  test('only the first bytes, then how many more; non-printable bytes have no character', () => {
    const lines = text(xorLines(frame({ opcode: 2, payload: Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) }), 3));
    expect(lines).toEqual([
      'Masking-key 37 fa 21 3d: clear[i] = masked[i] ⊕ key[i mod 4] (§5.3)',
      '  [0]  37 00110111 ⊕ 37 00110111 = 00 00000000',
      '  [1]  fb 11111011 ⊕ fa 11111010 = 01 00000001',
      '  [2]  23 00100011 ⊕ 21 00100001 = 02 00000010',
      '  ... 7 more bytes unmasked the same way',
    ]);
  });

  test('unmasked frames: fine from a server, a violation from a client', () => {
    expect(text(xorLines(frame({ opcode: 1, payload: 'x' }, { dir: 'server' })))).toEqual([
      'Not masked (MASK = 0): the payload is sent as is. A server must not mask (§5.1).',
    ]);
    expect(text(xorLines(frame({ opcode: 1, payload: 'x', mask: null }, { dir: 'client' })))).toEqual([
      'Not masked (MASK = 0): the payload is sent as is. A client must always mask (§5.1)!',
    ]);
  });

  test('empty masked payload', () => {
    expect(text(xorLines(frame({ opcode: 9 }, { dir: 'client' })))).toEqual([
      'Masking-key 37 fa 21 3d: clear[i] = masked[i] ⊕ key[i mod 4] (§5.3)',
      '  (empty payload: nothing to unmask)',
    ]);
  });
});
