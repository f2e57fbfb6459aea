/**
 * gorilla/websocket 1.5's messageWriter with WriteBufferSize 1024 (write buffer 1024 + 14):
 * how one Write of n bytes followed by Close becomes frames. Expected headers are literal hex.
 */
import { controlFrame, formatCloseMessage, gorillaMessageFrames, OP_CLOSE, OP_PONG, OP_TEXT } from '../../src/backend/frames';

/** Each frame as "header-hex/payload-length". */
function shape(n: number): string[] {
  const frames = gorillaMessageFrames(OP_TEXT, Buffer.alloc(n, 0x61));
  return frames.map((f) => {
    const len7 = f[1] & 0x7f;
    const headerLength = len7 === 127 ? 10 : len7 === 126 ? 4 : 2;
    return `${f.subarray(0, headerLength).toString('hex')}/${f.length - headerLength}`;
  });
}

describe('gorilla frame split (server, WriteBufferSize 1024)', () => {
  test.each([
    [1, ['8101/1']],
    [125, ['817d/125']],
    [126, ['817e007e/126']], // 16-bit length form from 126 (RFC 6455 §5.2)
    [1024, ['817e0400/1024']], // a full buffer is flushed by Close: one final frame
    [1025, ['017e0400/1024', '8001/1']], // text FIN=0, then continuation FIN=1
    [2048, ['017e0400/1024', '807e0400/1024']],
    [2049, ['017e0400/1024', '007e0400/1024', '8001/1']],
    [2076, ['017e0400/1024', '007e0400/1024', '801c/28']], // 2076 = 2 * 1038: still buffered
    [2077, ['017e081d/2077', '8000/0']], // > 2 * 1038: one big non-final frame, then an empty final one
    [65535, ['017effff/65535', '8000/0']],
    [65536, ['017f0000000000010000/65536', '8000/0']], // 64-bit form from 65536
  ])('%i bytes', (n, expected) => {
    expect(shape(n)).toEqual(expected);
  });

  test('the payload bytes are the message, in order, unmasked', () => {
    const message = Buffer.from(Array.from({ length: 1500 }, (_, i) => i & 0xff));
    const frames = gorillaMessageFrames(OP_TEXT, message);
    expect(Buffer.concat([frames[0].subarray(4), frames[1].subarray(4)]).equals(message)).toBe(true);
  });

  test('compressed: RSV1 on the first frame only, 1024-byte frames', () => {
    // the payload given is taken as already deflated
    const frames = gorillaMessageFrames(OP_TEXT, Buffer.alloc(1500, 1), { compressed: true });
    expect(frames.map((f) => f.subarray(0, 4).toString('hex'))).toEqual(['417e0400', '807e01dc']); // 476 = 0x01dc
  });
});

describe('control frames', () => {
  test('pong echoing a ping payload', () => {
    expect(controlFrame(OP_PONG, Buffer.from('hi')).toString('hex')).toBe('8a026869');
  });
  test('FormatCloseMessage: code and text; 1005 gives an empty payload', () => {
    expect(controlFrame(OP_CLOSE, formatCloseMessage(1000)).toString('hex')).toBe('880203e8');
    expect(controlFrame(OP_CLOSE, formatCloseMessage(1005)).toString('hex')).toBe('8800');
    expect(controlFrame(OP_CLOSE, formatCloseMessage(1002, 'incorrect mask flag')).toString('hex')).toBe(
      '8815' + '03ea' + Buffer.from('incorrect mask flag').toString('hex'),
    );
  });
});
