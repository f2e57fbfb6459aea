/**
 * The reply bytes: what Go's json.NewEncoder(w).Encode(User{...}) writes, worked out by hand
 * from encode.go's rules (see src/backend/gojson.ts). Expected values are literals, never
 * computed with the code under test.
 */
import { encodeUserReply, goJsonString, goRuneLength } from '../../src/backend/gojson';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('encodeUserReply (Go 1.21-era encoding/json, escapeHTML on)', () => {
  const cases: [string, Buffer, string][] = [
    ['plain ASCII', Buffer.from('Tom'), '{"name":"Tom","age":18,"description":"Tom很厉害!!!!"}\n'],
    ['empty', Buffer.alloc(0), '{"name":"","age":18,"description":"很厉害!!!!"}\n'],
    [
      'HTML-sensitive characters and quotes',
      Buffer.from('<b>Tom & "Jerry"</b>'),
      '{"name":"\\u003cb\\u003eTom \\u0026 \\"Jerry\\"\\u003c/b\\u003e","age":18,' +
        '"description":"\\u003cb\\u003eTom \\u0026 \\"Jerry\\"\\u003c/b\\u003e很厉害!!!!"}\n',
    ],
    [
      'control characters, backslash, DEL',
      hex('00 01 08 09 0a 0b 0c 0d 1b 1f 5c 7f'),
      '{"name":"\\u0000\\u0001\\u0008\\t\\n\\u000b\\u000c\\r\\u001b\\u001f\\\\\x7f","age":18,' +
        '"description":"\\u0000\\u0001\\u0008\\t\\n\\u000b\\u000c\\r\\u001b\\u001f\\\\\x7f很厉害!!!!"}\n',
    ],
    ['Chinese', Buffer.from('张三'), '{"name":"张三","age":18,"description":"张三很厉害!!!!"}\n'],
    ['emoji (4-byte UTF-8)', Buffer.from('😀'), '{"name":"😀","age":18,"description":"😀很厉害!!!!"}\n'],
    [
      'U+2028 and U+2029',
      Buffer.from('a\u2028b\u2029c'),
      '{"name":"a\\u2028b\\u2029c","age":18,"description":"a\\u2028b\\u2029c很厉害!!!!"}\n',
    ],
    [
      // ff: never valid; c3 28: lead byte without continuation; e4 b8 at the end of the
      // name: truncated 3-byte sequence, one \ufffd PER BYTE (utf8.DecodeRune returns size 1).
      // In the description e4 b8 is followed by 很 (e5 be 88): still two replacements.
      'invalid UTF-8',
      hex('ff 41 c3 28 e4 b8'),
      '{"name":"\\ufffdA\\ufffd(\\ufffd\\ufffd","age":18,"description":"\\ufffdA\\ufffd(\\ufffd\\ufffd很厉害!!!!"}\n',
    ],
    [
      // ed a0 80 is a UTF-16 surrogate (U+D800) in UTF-8 form: 3 replacements; c0 80 is an
      // overlong NUL: 2; a real U+FFFD (ef bf bd) is valid and stays raw.
      'surrogates, overlong forms, a literal U+FFFD',
      hex('ed a0 80 c0 80 ef bf bd'),
      '{"name":"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\ufffd","age":18,' +
        '"description":"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\ufffd很厉害!!!!"}\n',
    ],
  ];

  test.each(cases)('%s', (_name, input, expected) => {
    expect(encodeUserReply(input).toString('hex')).toBe(Buffer.from(expected, 'utf8').toString('hex'));
  });

  test('70 KiB message: 71,679 "a" and one "<"', () => {
    const input = Buffer.from('a'.repeat(71679) + '<');
    const out = encodeUserReply(input);
    const expected = '{"name":"' + 'a'.repeat(71679) + '\\u003c","age":18,"description":"' + 'a'.repeat(71679) + '\\u003c很厉害!!!!"}\n';
    expect(out.length).toBe(143421); // 9 + 71685 + 26 + 71698 + 3
    expect(out.equals(Buffer.from(expected, 'utf8'))).toBe(true);
  });

  test('Go 1.22 writes \\b and \\f instead of \\u0008 and \\u000c; the rest is unchanged', () => {
    expect(goJsonString(hex('08 0c 01'), 'go1.22').toString()).toBe('"\\b\\f\\u0001"');
    expect(goJsonString(hex('08 0c 01'), 'go1.21').toString()).toBe('"\\u0008\\u000c\\u0001"');
  });
});

describe('goRuneLength (unicode/utf8.DecodeRune validity)', () => {
  test.each([
    ['41', 1],
    ['c2 80', 2],
    ['c1 bf', 0], // overlong
    ['e0 9f bf', 0], // overlong 3-byte
    ['e0 a0 80', 3],
    ['ed 9f bf', 3], // U+D7FF
    ['ed a0 80', 0], // surrogate
    ['f0 8f bf bf', 0], // overlong 4-byte
    ['f0 90 80 80', 4],
    ['f4 8f bf bf', 4], // U+10FFFF
    ['f4 90 80 80', 0], // above U+10FFFF
    ['f5 80 80 80', 0],
    ['e4 b8', 0], // truncated
    ['80', 0], // lone continuation byte
  ])('%s -> %i', (bytes, length) => {
    expect(goRuneLength(hex(bytes), 0)).toBe(length);
  });
});
