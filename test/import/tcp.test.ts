/**
 * TCP reassembly of one direction (src/import/tcp.ts): segments in, ordered bytes, FIN and
 * gaps out, with exact offsets.
 */
import { seqDiff, TcpReassembler, type StreamOutput } from '../../src/import/tcp';
import { prng } from '../decoder/helpers';

const ISN = 1000;
/** The sequence number of stream offset n (after a SYN at ISN). */
const seq = (n: number, isn = ISN) => (isn + 1 + n) >>> 0;
const bytes = (s: string) => Buffer.from(s);

function delivered(outs: StreamOutput[]): string {
  return outs
    .filter((o): o is Extract<StreamOutput, { kind: 'data' }> => o.kind === 'data')
    .map((o) => o.bytes.toString())
    .join('');
}

function fresh(cap?: number, isn = ISN): TcpReassembler {
  const r = new TcpReassembler(cap);
  r.syn(isn);
  return r;
}

describe('TcpReassembler', () => {
  test('in-order segments come out as they go in, with their offsets and ts', () => {
    const r = fresh();
    expect(r.segment(seq(0), bytes('hello '), false, 1)).toEqual([{ kind: 'data', offset: 0, bytes: bytes('hello '), ts: 1 }]);
    expect(r.segment(seq(6), bytes('world'), true, 2)).toEqual([
      { kind: 'data', offset: 6, bytes: bytes('world'), ts: 2 },
      { kind: 'fin', offset: 11, ts: 2 },
    ]);
    expect(r.offset).toBe(11);
    expect(r.finished).toBe(true);
    expect(r.end(3)).toEqual([]);
  });

  test('a retransmission of delivered bytes yields nothing; a partial one only its new bytes', () => {
    const r = fresh();
    r.segment(seq(0), bytes('abcdef'), false, 1);
    expect(r.segment(seq(0), bytes('abcdef'), false, 2)).toEqual([]);
    expect(r.segment(seq(2), bytes('cd'), false, 3)).toEqual([]);
    expect(r.segment(seq(4), bytes('efgh'), false, 4)).toEqual([{ kind: 'data', offset: 6, bytes: bytes('gh'), ts: 4 }]);
  });

  test('out-of-order segments wait for the hole and come out in order', () => {
    const r = fresh();
    expect(r.segment(seq(6), bytes('world'), false, 1)).toEqual([]);
    expect(r.segment(seq(11), bytes('!'), true, 2)).toEqual([]);
    const outs = r.segment(seq(0), bytes('hello '), false, 3);
    expect(outs).toEqual([
      { kind: 'data', offset: 0, bytes: bytes('hello '), ts: 3 },
      { kind: 'data', offset: 6, bytes: bytes('world'), ts: 1 },
      { kind: 'data', offset: 11, bytes: bytes('!'), ts: 2 },
      { kind: 'fin', offset: 12, ts: 2 },
    ]);
  });

  test('overlapping segments: each byte once, the first copy to reach the front kept', () => {
    const r = fresh();
    r.segment(seq(4), bytes('EFGH'), false, 1); // waits
    r.segment(seq(2), bytes('CDEF'), false, 2); // waits, overlaps the one above
    const outs = r.segment(seq(0), bytes('abc'), false, 3); // fills the hole, overlaps too
    expect(delivered(outs)).toBe('abcDEFGH');
    expect(outs.map((o) => o.kind === 'data' && o.offset)).toEqual([0, 3, 6]);
  });

  test('a segment inside a waiting one, and a duplicate waiting one, change nothing', () => {
    const r = fresh();
    r.segment(seq(3), bytes('defghi'), false, 1);
    r.segment(seq(4), bytes('ef'), false, 2);
    r.segment(seq(3), bytes('defghi'), false, 3);
    expect(delivered(r.segment(seq(0), bytes('abc'), false, 4))).toBe('abcdefghi');
  });

  test('every order and duplication of the segments gives the same stream', () => {
    const text = 'The quick brown fox jumps over the lazy dog, 0123456789 times.';
    const rand = prng(12);
    for (let round = 0; round < 200; round++) {
      const cuts = new Set<number>([0, text.length]);
      while (cuts.size < 8) cuts.add(1 + Math.floor(rand() * (text.length - 1)));
      const points = [...cuts].sort((a, b) => a - b);
      const segs: [number, string][] = [];
      for (let i = 0; i + 1 < points.length; i++) segs.push([points[i], text.slice(points[i], points[i + 1])]);
      // Retransmissions and overlapping re-segmentations of random ranges.
      for (let i = 0; i < 4; i++) {
        const a = Math.floor(rand() * text.length);
        const b = Math.min(text.length, a + 1 + Math.floor(rand() * 15));
        segs.push([a, text.slice(a, b)]);
      }
      for (let i = segs.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [segs[i], segs[j]] = [segs[j], segs[i]];
      }
      const isn = Math.floor(rand() * 2 ** 32); // wrapping sequence numbers included
      const r = fresh(undefined, isn);
      let out = '';
      let expectOffset = 0;
      for (const [offset, s] of segs) {
        for (const o of r.segment(seq(offset, isn), bytes(s), false, 1)) {
          expect(o.kind).toBe('data');
          if (o.kind === 'data') {
            expect(o.offset).toBe(expectOffset);
            expectOffset += o.bytes.length;
            out += o.bytes.toString();
          }
        }
      }
      expect(out).toBe(text);
      expect(r.end(2)).toEqual([]);
    }
  });

  test('sequence numbers wrap past 2^32', () => {
    const isn = 0xfffffffd;
    const r = fresh(undefined, isn);
    expect(seq(0, isn)).toBe(0xfffffffe);
    expect(delivered(r.segment(seq(0, isn), bytes('abcd'), false, 1))).toBe('abcd'); // crosses 0
    expect(delivered(r.segment(seq(4, isn), bytes('ef'), false, 2))).toBe('ef');
    expect(seqDiff(2, 0xfffffffe)).toBe(4);
  });

  test('the peer acknowledging unseen bytes is a gap: the hole, exactly, then the direction stops', () => {
    const r = fresh();
    r.segment(seq(0), bytes('abc'), false, 1);
    r.segment(seq(10), bytes('klm'), false, 2); // 3..10 never seen
    expect(r.ack(seq(3), 3)).toEqual([]); // acknowledges only what was seen
    expect(r.ack(seq(13), 4)).toEqual([{ kind: 'gap', offset: 3, length: 7, ts: 4, why: 'the peer acknowledged bytes the capture does not contain' }]);
    expect(r.stopped).toBe(true);
    expect(r.segment(seq(3), bytes('defghij'), false, 5)).toEqual([]); // too late: stopped
    expect(r.end(6)).toEqual([]);
  });

  test('an ACK of the FIN is not an ACK of missing data', () => {
    const r = fresh();
    r.segment(seq(0), bytes('abc'), true, 1);
    expect(r.ack(seq(4), 2)).toEqual([]);
    expect(r.stopped).toBe(false);
  });

  test('an ACK beyond the last bytes seen, with nothing waiting, is a gap of the acknowledged length', () => {
    const r = fresh();
    r.segment(seq(0), bytes('abc'), false, 1);
    expect(r.ack(seq(8), 2)).toEqual([{ kind: 'gap', offset: 3, length: 5, ts: 2, why: 'the peer acknowledged bytes the capture does not contain' }]);
  });

  test('the end with a hole before waiting bytes, or before the FIN, is a gap', () => {
    const a = fresh();
    a.segment(seq(0), bytes('ab'), false, 1);
    a.segment(seq(5), bytes('fg'), false, 2);
    expect(a.end(9)).toEqual([{ kind: 'gap', offset: 2, length: 3, ts: 9, why: 'the capture ended before they were seen' }]);
    const b = fresh();
    b.segment(seq(0), bytes('ab'), false, 1);
    b.segment(seq(4), Buffer.alloc(0), true, 2); // FIN at 4: bytes 2..4 missing
    expect(b.end(9)).toEqual([{ kind: 'gap', offset: 2, length: 2, ts: 9, why: 'the capture ended before they were seen' }]);
  });

  test('more than the cap waiting behind a hole is a gap (memory stays bounded)', () => {
    const r = fresh(100);
    r.segment(seq(0), bytes('a'), false, 1);
    for (let i = 0; i < 10; i++) expect(r.segment(seq(10 + i * 10), Buffer.alloc(10, 0x41), false, 2 + i)).toEqual([]);
    const outs = r.segment(seq(110), Buffer.alloc(10, 0x41), false, 20);
    expect(outs).toEqual([{ kind: 'gap', offset: 1, length: 9, ts: 20, why: 'more than 100 bytes of later segments waited for it' }]);
    expect(r.stopped).toBe(true);
  });

  test('without a SYN the first segment starts the stream', () => {
    const r = new TcpReassembler();
    expect(delivered(r.segment(777, bytes('xy'), false, 1))).toBe('xy');
    expect(delivered(r.segment(779, bytes('z'), false, 2))).toBe('z');
  });
});
