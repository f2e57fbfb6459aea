/**
 * Escaping and styled text: whatever comes off the wire reaches the terminal as visible
 * characters only, and blessed tag syntax is shown, never interpreted.
 */
import { clipLine, clipText, escapeTags, fit, padLine, plain, seg, toMarkup, visible, width, wordWrap, wrapText } from '../../src/tui/text';

describe('visible()', () => {
  test('ESC, newline, tab, CR, NUL, DEL, C1 controls become escapes', () => {
    expect(visible('\x1b[31mRED')).toBe('\\x1b[31mRED');
    expect(visible('a\nb\tc\rd\x00e\x7ff\x9bg')).toBe('a\\nb\\tc\\rd\\x00e\\x7ff\\x9bg');
  });
  test('bidi overrides and line separators (Trojan Source) become escapes; other Unicode stays', () => {
    expect(visible('abc\u202edcba\u2028x\ufeff')).toBe('abc\\u202edcba\\u2028x\\ufeff');
    expect(visible('a\u200bb\u00adc\u2060d')).toBe('a\\u200bb\\xadc\\u2060d');
    expect(visible('Hello很厉害!!!! é €')).toBe('Hello很厉害!!!! é €');
  });
});

describe('toMarkup()', () => {
  test('the hostile payload is shown literally: no ESC byte, no blessed tag left', () => {
    const markup = toMarkup([seg('\x1b[31mRED{red-fg}X')], true);
    expect(markup).toBe('\\x1b[31mRED{open}red-fg{close}X');
    expect(markup).not.toContain('\x1b');
  });
  test('colours are tags around escaped text; bold and inverse survive NO_COLOR, colours do not', () => {
    const line = [seg('a{b}', 'red', { bold: true }), seg(' plain '), seg('sel', 'cyan', { inverse: true })];
    expect(toMarkup(line, true)).toBe('{red-fg}{bold}a{open}b{close}{/} plain {cyan-fg}{inverse}sel{/}');
    expect(toMarkup(line, false)).toBe('{bold}a{open}b{close}{/} plain {inverse}sel{/}');
  });
  test('escapeTags is blessed.escape', () => {
    expect(escapeTags('{/}{bold}')).toBe('{open}/{close}{open}bold{close}');
  });
});

describe('widths and clipping', () => {
  test('CJK characters are two columns wide, as blessed draws them', () => {
    expect(width('很厉害')).toBe(6);
    expect(width('abc')).toBe(3);
    expect(clipText('ab很厉害', 5)).toBe('ab很');
    expect(fit('很x', 6)).toBe('很x   ');
    expect(fit('42', 5, 'right')).toBe('   42');
  });
  test('clipLine cuts across segments and measures text after escaping', () => {
    expect(plain(clipLine([seg('abc'), seg('\x1bdef')], 6))).toBe('abc\\x1');
    expect(clipLine([seg('abc', 'red'), seg('def', 'cyan')], 4)).toEqual([seg('abc', 'red'), seg('d', 'cyan')]);
    expect(plain(padLine([seg('ab')], 5))).toBe('ab   ');
  });
  test('wrapText hard-wraps by columns', () => {
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrapText('很厉害很', 4)).toEqual(['很厉', '害很']);
  });
  test('wordWrap breaks at spaces, cuts only words longer than a line', () => {
    expect(wordWrap('the quick brown fox', 10)).toEqual(['the quick', 'brown fox']);
    expect(wordWrap('a abcdefghijkl b', 5)).toEqual(['a', 'abcde', 'fghij', 'kl b']);
    expect(wordWrap('a  b   c', 4)).toEqual(['a  b', 'c']); // runs of spaces kept inside a line
  });
});
