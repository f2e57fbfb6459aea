/**
 * Large single-frame binary payloads kept as the wire bytes (views of the relayed chunks,
 * still masked) and unmasked only as far as someone reads them (issue #13): the events
 * must be exactly those of the copying path, at every chunking, and the bytes right.
 */
import { ConnectionDecoder, type FrameEvent, type MessageEvent, type WsEvent } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';
import { LazyHex, WireBytes, hexFieldPrefix, lazyHexBytes } from '../../src/decoder/strings';

const KEY = Buffer.from('0badf00d', 'hex');
const payloadOf = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));
const masked = (clear: Buffer, key: Buffer) => Buffer.from(clear.map((b, i) => b ^ key[i & 3]));

function decode(chunks: Buffer[], immutableChunks: boolean, from: 'client' | 'server' = 'client', opts: { maxPayload?: number } = {}): WsEvent[] {
  const events: WsEvent[] = [];
  const d = new ConnectionDecoder({ conn: 1, start: 'frames', immutableChunks, maxPayload: opts.maxPayload, onEvent: (e) => events.push(e) });
  for (const c of chunks) d.push(from, c, 1);
  d.finish(2);
  return events;
}

/**
 * Each chunk in an ArrayBuffer of its own, as a socket read gives it (allocUnsafeSlow:
 * never from Buffer's pool, which Buffer.from may use, depending on the Node version).
 */
const owned = (bytes: Buffer) => {
  const out = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(out);
  return out;
};
const split = (wire: Buffer, cuts: number[]) => [0, ...cuts, wire.length].slice(0, -1).map((c, i, all) => owned(wire.subarray(c, [...all.slice(1), wire.length][i])));

describe('WireBytes', () => {
  const clear = payloadOf(103);
  test('clear(n): the first n unmasked bytes, for every way the payload is split in parts', () => {
    const wire = masked(clear, KEY);
    for (let a = 0; a <= wire.length; a += 7) {
      for (let b = a; b <= wire.length; b += 11) {
        const parts = [wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)];
        const w = new WireBytes(parts, Uint8Array.from(KEY), wire.length);
        expect(w.clear()).toEqual(clear);
        for (const n of [0, 1, 3, 4, 5, a, b, 102, 500]) expect(w.clear(n)).toEqual(clear.subarray(0, Math.min(n, 103)));
      }
    }
  });
  test('unmasked wire bytes are copied as they are, and the parts are never written to', () => {
    const parts = [Buffer.from(clear.subarray(0, 50)), Buffer.from(clear.subarray(50))];
    const before = Buffer.concat(parts);
    const out = new WireBytes(parts, null, 103).clear();
    expect(out).toEqual(clear);
    out.fill(0);
    expect(Buffer.concat(parts)).toEqual(before);
  });
});

describe('LazyHex over wire bytes', () => {
  const clear = payloadOf(5000);
  const wire = masked(clear, KEY);
  test('prefix(n) unmasks only what is asked and makes no hex; value is the hex of the clear bytes', () => {
    const w = new WireBytes([wire.subarray(0, 1234), wire.subarray(1234)], Uint8Array.from(KEY), 5000);
    const lazy = new LazyHex(w);
    const spy = jest.spyOn(w, 'clear');
    expect(lazy.prefix(16)).toEqual(clear.subarray(0, 16));
    expect(spy).toHaveBeenLastCalledWith(16);
    expect(lazy.pendingBytes).toEqual(clear); // unmasks once, all of it
    expect(lazy.pendingBytes).toBe(lazy.pendingBytes);
    expect(spy).toHaveBeenCalledTimes(2);
    expect(lazy.value).toBe(clear.toString('hex'));
    expect(lazy.pendingBytes).toBeNull();
    expect(lazy.prefix(3)).toEqual(clear.subarray(0, 3));
  });
});

describe('a large binary frame through a proxy (immutableChunks)', () => {
  const clear = payloadOf(9000);
  const frameBytes = buildFrame({ opcode: 2, payload: clear, mask: KEY });
  // A small frame after it, so a chunk holds the end of one frame and the next.
  const wire = Buffer.concat([frameBytes, buildFrame({ opcode: 1, payload: 'next', mask: KEY })]);
  const reference = JSON.stringify(decode([wire], false));

  test('the same events as the copying decoder, at every chunking into two and three', () => {
    for (let a = 1; a < wire.length; a += 97) {
      expect(JSON.stringify(decode(split(wire, [a]), true))).toBe(reference);
      const b = Math.min(wire.length - 1, a + 4500);
      if (b > a) expect(JSON.stringify(decode(split(wire, [a, b]), true))).toBe(reference);
    }
    for (const a of [1, 2, 6, 7, 8, 14, frameBytes.length - 1, frameBytes.length, frameBytes.length + 1]) {
      expect(JSON.stringify(decode(split(wire, [a]), true))).toBe(reference);
    }
  });

  test('server frames (unmasked) and frames over the preview cap read the same too', () => {
    const server = Buffer.concat([buildFrame({ opcode: 2, payload: clear }), buildFrame({ opcode: 2, payload: clear.subarray(0, 4096) })]);
    const expected = JSON.stringify(decode([server], false, 'server'));
    expect(JSON.stringify(decode(split(server, [3000, 9010, 11000]), true, 'server'))).toBe(expected);
    // Over the cap the frame is not a whole message: the copying path as before.
    expect(JSON.stringify(decode(split(wire, [5000]), true, 'client', { maxPayload: 8192 }))).toBe(JSON.stringify(decode([wire], false, 'client', { maxPayload: 8192 })));
  });

  test('a preview reads the first bytes without making the hex; frame and message share one value', () => {
    const events = decode(split(wire, [4000]), true);
    const frame = events.find((e) => e.event === 'frame') as FrameEvent;
    const message = events.find((e) => e.event === 'message') as MessageEvent;
    expect(hexFieldPrefix(frame, 'payload', 24)).toEqual(clear.subarray(0, 24));
    expect(lazyHexBytes(frame, 'payload')).not.toBeNull(); // the hex string was not made
    expect(message.data).toBe(clear.toString('hex'));
    expect(lazyHexBytes(frame, 'payload')).toBeNull(); // made once, for both
    expect(frame.payload).toBe(message.data);
    expect(hexFieldPrefix(frame, 'payload', 5)).toEqual(clear.subarray(0, 5));
  });

  test('a chunk that is a small view of a large buffer is copied, not kept alive', () => {
    const big = Buffer.alloc(1 << 20);
    wire.copy(big, 1000);
    const chunk = big.subarray(1000, 1000 + wire.length);
    const events = decode([chunk.subarray(0, 7000), chunk.subarray(7000)], true);
    big.fill(0xee); // had the decoder kept views of `big`, the payload would change
    expect(JSON.stringify(events)).toBe(reference);
  });

  test('owned chunks are kept as they are, not copied (so the caller must not change them)', () => {
    const chunks = split(wire, [5000]);
    const events = decode(chunks, true);
    const at = 100 - (frameBytes.length - clear.length); // payload byte at chunk byte 100
    chunks[0][100] ^= 0xff; // breaks the contract on purpose: shows the bytes were not copied
    expect((events[0] as FrameEvent).payload.slice(2 * at, 2 * at + 2)).toBe(Buffer.from([clear[at] ^ 0xff]).toString('hex'));
  });

  test('without immutableChunks a caller may reuse its buffer after push', () => {
    const buf = Buffer.from(wire);
    const events: WsEvent[] = [];
    const d = new ConnectionDecoder({ conn: 1, start: 'frames', onEvent: (e) => events.push(e) });
    d.push('client', buf, 1);
    buf.fill(0);
    d.finish(2);
    expect(JSON.stringify(events)).toBe(reference);
  });
});

describe('hexFieldPrefix on plain fields', () => {
  test('the first n bytes of a hex string; missing field is empty', () => {
    expect(hexFieldPrefix({ payload: '0001feff' }, 'payload', 3)).toEqual(Buffer.from([0, 1, 0xfe]));
    expect(hexFieldPrefix({ payload: '0001' }, 'payload', 30)).toEqual(Buffer.from([0, 1]));
    expect(hexFieldPrefix({}, 'data', 4)).toEqual(Buffer.alloc(0));
  });
  test('an assigned value wins over the lazy one', () => {
    const events = decode([buildFrame({ opcode: 2, payload: payloadOf(5000), mask: KEY })], true);
    const frame = events[0] as FrameEvent;
    frame.payload = 'abcd';
    expect(hexFieldPrefix(frame, 'payload', 8)).toEqual(Buffer.from([0xab, 0xcd]));
  });
});
