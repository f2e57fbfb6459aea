/** The read side (gorilla's advanceFrame/ReadMessage) as a sans-IO machine: bytes in, actions out. */
import { deflateRawSync, constants as zlibConstants } from 'zlib';
import { buildFrame } from '../../src/decoder/build';
import { GorillaReader, ReaderAction } from '../../src/backend/reader';

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const frame = (opcode: number, payload: Buffer | string = '', extra: Partial<Parameters<typeof buildFrame>[0]> = {}): Buffer =>
  buildFrame({ opcode, payload, mask: MASK, ...extra });

function run(bytes: Buffer, options = { maxMessageSize: 1 << 20, deflate: false }, chunkSize = 0): ReaderAction[] {
  const reader = new GorillaReader(options);
  if (!chunkSize) return reader.push(bytes);
  const actions: ReaderAction[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) actions.push(...reader.push(bytes.subarray(i, i + chunkSize)));
  return actions;
}

const failure = (reason: string) => ({ kind: 'fail', error: `websocket: ${reason}`, closeCode: 1002, closeReason: reason });

describe('GorillaReader', () => {
  const stream = Buffer.concat([
    frame(0x1, 'Hel', { fin: false }),
    frame(0x9, 'ping!'),
    frame(0x0, 'lo'),
    frame(0x2, Buffer.from([1, 2, 3])),
    frame(0xa, 'pong'),
    frame(0x1, 'x'.repeat(300)),
  ]);
  const expected = [
    { kind: 'ping', payload: Buffer.from('ping!') },
    { kind: 'message', opcode: 1, payload: Buffer.from('Hello'), compressed: false },
    { kind: 'message', opcode: 2, payload: Buffer.from([1, 2, 3]), compressed: false },
    { kind: 'pong', payload: Buffer.from('pong') },
    { kind: 'message', opcode: 1, payload: Buffer.from('x'.repeat(300)), compressed: false },
  ];

  test('messages, fragments and control frames in between', () => {
    expect(run(stream)).toEqual(expected);
  });

  test.each([1, 2, 3, 7, 64])('the same actions whatever the chunking (%i-byte chunks)', (size) => {
    expect(run(stream, undefined, size)).toEqual(expected);
  });

  test('invalid UTF-8 in a text message is passed on, not refused (gorilla does not validate)', () => {
    expect(run(frame(0x1, Buffer.from([0xff, 0xfe])))).toEqual([
      { kind: 'message', opcode: 1, payload: Buffer.from([0xff, 0xfe]), compressed: false },
    ]);
  });

  test.each([
    ['unmasked client frame', buildFrame({ opcode: 1, payload: 'hi' }), 'incorrect mask flag'],
    ['RSV2', frame(0x1, 'hi', { rsv2: true }), 'unexpected reserved bits 0x20'],
    ['RSV1 without permessage-deflate', frame(0x1, 'hi', { rsv1: true }), 'unexpected reserved bits 0x40'],
    ['ping of 126 bytes', frame(0x9, 'p'.repeat(126)), 'control frame length > 125'],
    ['fragmented ping', frame(0x9, 'p', { fin: false }), 'control frame not final'],
    ['continuation outside a message', frame(0x0, 'x'), 'continuation after final message frame'],
    ['new message inside a message', Buffer.concat([frame(0x1, 'a', { fin: false }), frame(0x1, 'b')]), 'message start before final message frame'],
    ['reserved opcode', frame(0x3, 'x'), 'unknown opcode 3'],
    ['close code 1005 on the wire', frame(0x8, Buffer.from([0x03, 0xed])), 'invalid close code'],
    ['close reason not UTF-8', frame(0x8, Buffer.from([0x03, 0xe8, 0xff])), 'invalid utf8 payload in close frame'],
  ])('%s: protocol error, close 1002', (_name, bytes, reason) => {
    expect(run(bytes)).toEqual([failure(reason)]);
  });

  test('a 1 GiB claim is refused with 1009 from the header alone', () => {
    const header = frame(0x2, '', { declaredLength: 1 << 30 });
    expect(run(header)).toEqual([{ kind: 'fail', error: 'websocket: read limit exceeded', closeCode: 1009, closeReason: '' }]);
  });

  test('the limit counts the whole message across fragments', () => {
    const bytes = Buffer.concat([frame(0x1, 'a'.repeat(600), { fin: false }), frame(0x0, 'b'.repeat(600))]);
    expect(run(bytes, { maxMessageSize: 1000, deflate: false })).toEqual([
      { kind: 'fail', error: 'websocket: read limit exceeded', closeCode: 1009, closeReason: '' },
    ]);
  });

  test('a 64-bit length with the most significant bit set ends the connection without a close frame', () => {
    const bytes = Buffer.from('827f8000000000000000', 'hex');
    expect(run(bytes)).toEqual([{ kind: 'fail', error: 'websocket: read limit exceeded', closeCode: null, closeReason: '' }]);
  });

  test('close: code and reason; a 1-byte payload counts as no status (1005); later bytes ignored', () => {
    expect(run(Buffer.concat([frame(0x8, Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65])), frame(0x1, 'after')]))).toEqual([
      { kind: 'close', code: 1000, reason: 'bye' },
    ]);
    expect(run(frame(0x8, Buffer.from([0x03])))).toEqual([{ kind: 'close', code: 1005, reason: '' }]);
    expect(run(frame(0x8))).toEqual([{ kind: 'close', code: 1005, reason: '' }]);
  });

  describe('permessage-deflate', () => {
    const deflate = (text: Buffer): Buffer => {
      const out = deflateRawSync(text, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      return out.subarray(0, out.length - 4); // RFC 7692 §7.2.1: drop 00 00 ff ff
    };
    test('RSV1 on the first frame: the message is inflated', () => {
      const z = deflate(Buffer.from('Hello Hello Hello'));
      const bytes = Buffer.concat([frame(0x1, z.subarray(0, 3), { rsv1: true, fin: false }), frame(0x0, z.subarray(3))]);
      expect(run(bytes, { maxMessageSize: 1000, deflate: true })).toEqual([
        { kind: 'message', opcode: 1, payload: Buffer.from('Hello Hello Hello'), compressed: true },
      ]);
    });
    test('a deflate bomb is stopped at the limit (1009)', () => {
      const z = deflate(Buffer.alloc(1 << 20));
      expect(z.length).toBeLessThan(2000);
      const actions = run(frame(0x1, z, { rsv1: true }), { maxMessageSize: 100_000, deflate: true });
      expect(actions).toEqual([{ kind: 'fail', error: 'websocket: read limit exceeded (inflated)', closeCode: 1009, closeReason: '' }]);
    });
    test('corrupt deflate data ends the connection without a close frame (as ReadMessage errors do)', () => {
      const actions = run(frame(0x1, Buffer.from([0xff, 0xff, 0xff]), { rsv1: true }), { maxMessageSize: 1000, deflate: true });
      expect(actions).toHaveLength(1);
      expect(actions[0]).toMatchObject({ kind: 'fail', closeCode: null });
    });
  });
});

describe('garbage in', () => {
  // A small deterministic PRNG (LCG) so a failure can be replayed.
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }

  test('500 random streams: never throws, same actions whatever the chunking, at most one terminal action', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const random = rng(seed);
      const length = Math.floor(random() * 400);
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
      // Half the streams start with a valid masked frame, so parsing goes past the first header.
      const stream = seed % 2 ? Buffer.concat([frame(0x1, 'ok'), bytes]) : bytes;
      for (const deflate of [false, true]) {
        const whole = run(stream, { maxMessageSize: 1 << 16, deflate });
        const split = run(stream, { maxMessageSize: 1 << 16, deflate }, 1 + (seed % 5));
        expect(split).toEqual(whole);
        const terminal = whole.filter((a) => a.kind === 'close' || a.kind === 'fail');
        expect(terminal.length).toBeLessThanOrEqual(1);
        if (terminal.length) expect(whole[whole.length - 1]).toBe(terminal[0]);
      }
    }
  });
});
