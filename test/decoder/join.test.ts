/**
 * ConnectionDecoder.bytesToJoin / joinPoint: where an intercept stage joining mid-stream may
 * start (src/intercept): the first byte of a frame outside any fragmented message. For every
 * split point of a stream, after the bytes before it, the answers lead to exactly the next
 * such frame start, however the rest comes.
 */
import { ConnectionDecoder } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';

const KEY = Buffer.from('37fa213d', 'hex');
const frames = [
  buildFrame({ opcode: 1, mask: KEY, payload: 'whole' }), // 0: a message of its own
  buildFrame({ opcode: 1, fin: false, mask: KEY, payload: 'frag-' }), // 1: a fragmented message begins
  buildFrame({ opcode: 9, mask: KEY, payload: 'p' }), // 2: a ping inside it
  buildFrame({ opcode: 0, fin: false, mask: KEY, payload: Buffer.alloc(200, 0x61) }), // 3: 16-bit length
  buildFrame({ opcode: 0, mask: KEY, payload: 'end' }), // 4: the message ends
  buildFrame({ opcode: 2, mask: KEY, payload: Buffer.alloc(300), lengthForm: 64 }), // 5: the 64-bit length form
  buildFrame({ opcode: 8, mask: KEY, payload: Buffer.from([0x03, 0xe8]) }), // 6
];
const stream = Buffer.concat(frames);
const starts: number[] = [];
frames.reduce((at, f) => (starts.push(at), at + f.length), 0);
/** Where a stage may join: the starts of frames 0, 1, 5, 6 (2-4 are inside the message), and the end. */
const joinable = [starts[0], starts[1], starts[5], starts[6], stream.length];

function decoderAt(k: number): ConnectionDecoder {
  const d = new ConnectionDecoder({ conn: 1, start: 'frames', onEvent: () => undefined });
  if (k) d.push('client', stream.subarray(0, k), 0);
  return d;
}

describe('bytesToJoin', () => {
  it('at every split point, with the rest in pieces of any size, it leads to the next joinable frame start', () => {
    for (let k = 0; k <= stream.length; k++) {
      const expected = joinable.find((j) => j >= k)!;
      for (const piece of [1, 3, 14, 1000, stream.length]) {
        const d = decoderAt(k);
        let at = k;
        // Ask with the next piece; what is said to go by goes to the decoder (as the relay writes it).
        for (;;) {
          const next = stream.subarray(at, Math.min(stream.length, at + piece));
          const n = d.bytesToJoin('client', next);
          if (n === 0 || next.length === 0) break;
          const go = Math.min(n!, next.length);
          d.push('client', next.subarray(0, go), 0);
          at += go;
        }
        expect({ k, piece, at }).toEqual({ k, piece, at: expected });
      }
    }
  });

  it('joinPoint counts the frames and bytes before; null while not decoding frames', () => {
    const d = decoderAt(starts[5]);
    expect(d.joinPoint('client')).toEqual({ index: 5, offset: starts[5], windowUsed: false });
    const http = new ConnectionDecoder({ conn: 1, onEvent: () => undefined });
    expect(http.joinPoint('client')).toBeNull();
    expect(http.bytesToJoin('client', stream)).toBeNull();
  });

  it('windowUsed once a compressed message went by under context takeover (not without it)', () => {
    const compressed = buildFrame({ opcode: 1, mask: KEY, payload: 'Hello', compress: true });
    const takeover = new ConnectionDecoder({ conn: 1, start: 'frames', extensions: 'permessage-deflate', onEvent: () => undefined });
    expect(takeover.joinPoint('client')!.windowUsed).toBe(false);
    takeover.push('client', compressed, 0);
    expect(takeover.joinPoint('client')!.windowUsed).toBe(true);
    const none = new ConnectionDecoder({ conn: 1, start: 'frames', extensions: 'permessage-deflate; client_no_context_takeover', onEvent: () => undefined });
    none.push('client', compressed, 0);
    expect(none.joinPoint('client')!.windowUsed).toBe(false);
  });
});
