import { isUtf8 } from 'node:buffer';
import { Utf8Validator, utf8CompletePrefix } from '../../src/decoder/utf8';
import { prng } from './helpers';

function validate(bytes: Buffer, cuts: number[]): { valid: boolean; errorAt: number } {
  const v = new Utf8Validator();
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    v.push(bytes, from, cut);
    from = cut;
  }
  const valid = v.end();
  return { valid, errorAt: v.errorAt };
}

describe('the streaming UTF-8 validator (RFC 3629, RFC 6455 §8.1)', () => {
  it.each([
    ['ascii', '48656c6c6f', true],
    ['2, 3 and 4-byte characters', 'c3a9e282acf09f9880', true],
    ['overlong 2-byte NUL', 'c080', false],
    ['overlong 3-byte', 'e08080', false],
    ['a UTF-16 surrogate U+D800', 'eda080', false],
    ['above U+10FFFF', 'f4908080', false],
    ['a lone continuation byte', '80', false],
    ['F5 lead byte', 'f5808080', false],
    ['truncated at the end', 'e282', false],
    ['the largest code point U+10FFFF', 'f48fbfbf', true],
  ])('%s: valid=%s at every split', (_name, hex, valid) => {
    const bytes = Buffer.from(hex, 'hex');
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) expect(validate(bytes, [i, j]).valid).toBe(valid);
    }
  });
  it('reports the position of the first invalid byte', () => {
    expect(validate(Buffer.from('61 62 c3 a9 ff 61'.replace(/ /g, ''), 'hex'), [3]).errorAt).toBe(4);
    expect(validate(Buffer.from('e282', 'hex'), [1]).errorAt).toBe(2);
  });
  it('agrees with Node on 20,000 seeded random strings split at random points', () => {
    const rand = prng(8);
    const alphabet = [0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x90, 0x8f];
    for (let n = 0; n < 20000; n++) {
      const len = Math.floor(rand() * 12);
      const bytes = Buffer.from(Array.from({ length: len }, () => (rand() < 0.7 ? alphabet[Math.floor(rand() * alphabet.length)] : Math.floor(rand() * 256))));
      const cuts = Array.from({ length: Math.floor(rand() * 4) }, () => Math.floor(rand() * (len + 1))).sort((a, b) => a - b);
      expect(validate(bytes, cuts).valid).toBe(isUtf8(bytes));
    }
  });
  it('finds the longest prefix that ends on a character boundary', () => {
    expect(utf8CompletePrefix(Buffer.from('61c3', 'hex'))).toBe(1);
    expect(utf8CompletePrefix(Buffer.from('61c3a9', 'hex'))).toBe(3);
    expect(utf8CompletePrefix(Buffer.from('f09f98', 'hex'))).toBe(0);
  });
});
