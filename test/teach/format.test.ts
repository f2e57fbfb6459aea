/**
 * What send and demo print for decoded frames: one line per frame, long runs of
 * continuation frames summed up, fragments of a text message shown as text, compressed
 * payloads as hex, and the rules broken spelled out.
 */
import { ConnectionDecoder } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';
import { EventPrinter } from '../../src/teach/format';

/** Decodes server frames (unmasked, as servers send) and prints them. */
function print(frames: Buffer[], extensions?: string): string[] {
  const lines: string[] = [];
  const printer = new EventPrinter((l) => lines.push(l));
  const decoder = new ConnectionDecoder({ conn: 1, start: 'frames', extensions, onEvent: (e) => printer.print(e) });
  decoder.push('server', Buffer.concat(frames), 0);
  decoder.finish(0);
  return lines;
}

describe('EventPrinter', () => {
  it('shows two continuation frames of a long run, sums up the rest, then shows the last', () => {
    const frames = [buildFrame({ opcode: 1, fin: false, payload: 'a0' })];
    for (let i = 1; i <= 5; i++) frames.push(buildFrame({ opcode: 0, fin: false, payload: `a${i}` }));
    frames.push(buildFrame({ opcode: 0, payload: 'end' }));
    expect(print(frames)).toEqual([
      '← server frame #0 text no-FIN unmasked len=2/7-bit "a0"',
      '← server frame #1 continuation no-FIN unmasked len=2/7-bit "a1"',
      '← server frame #2 continuation no-FIN unmasked len=2/7-bit "a2"',
      '  … 3 more continuation frames like these',
      '← server frame #6 continuation FIN unmasked len=3/7-bit "end"',
      '← server message text (7 frames) 15 bytes "a0a1a2a3a4a5end"',
    ]);
  });

  it("shows a binary message's fragments as hex, and a one-frame message only once", () => {
    expect(print([buildFrame({ opcode: 2, fin: false, payload: 'ab' }), buildFrame({ opcode: 0, payload: 'cd' }), buildFrame({ opcode: 1, payload: 'x' })])).toEqual([
      '← server frame #0 binary no-FIN unmasked len=2/7-bit 6162',
      '← server frame #1 continuation FIN unmasked len=2/7-bit 6364',
      '← server message binary (2 frames) 4 bytes 61626364',
      '← server frame #2 text FIN unmasked len=1/7-bit "x"',
    ]);
  });

  it('shows compressed payloads as hex and the inflated message as text (RFC 7692 §7.2.3.1)', () => {
    const frame = Buffer.from('c107f248cdc9c90700', 'hex');
    expect(print([frame], 'permessage-deflate')).toEqual([
      '← server frame #0 text FIN RSV1 unmasked len=7/7-bit f248cdc9c90700',
      '← server message text (1 frame, deflated) 5 bytes "Hello"',
    ]);
  });

  it('spells out the rules a frame breaks', () => {
    expect(print([buildFrame({ opcode: 9, fin: false, payload: 'x' })])).toEqual([
      '← server frame #0 ping no-FIN unmasked len=1/7-bit "x" ! fragmented-control-frame',
      '    ! fragmented-control-frame (RFC 6455 §5.4): ping frame with FIN = 0',
    ]);
  });
});
