import { decodeFrames, headerFields, ConnectionDecoder, type FrameEvent, type MessageEvent, type WsEvent } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';

const frames = (events: WsEvent[]) => events.filter((e): e is FrameEvent => e.event === 'frame');
const messages = (events: WsEvent[]) => events.filter((e): e is MessageEvent => e.event === 'message');
const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RFC 6455 §5.7 examples decode to exactly the RFC fields', () => {
  it('a single-frame unmasked text message', () => {
    const events = decodeFrames(h('81 05 48 65 6c 6c 6f'), { from: 'server' });
    expect(events).toEqual([
      {
        event: 'frame', ts: 0, conn: 0, dir: 'server', index: 0, offset: 0, header: '8105',
        fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 1, opcodeName: 'text',
        masked: false, maskKey: null, payloadLength: 5, lengthForm: 7, payload: '48656c6c6f',
        payloadTruncated: false, violations: [],
      },
      {
        event: 'message', ts: 0, conn: 0, dir: 'server', opcode: 1, opcodeName: 'text', frames: 1,
        length: 5, compressed: false, text: 'Hello', truncated: false, violations: [],
      },
    ]);
  });
  it('a single-frame masked text message', () => {
    const events = decodeFrames(h('81 85 37 fa 21 3d 7f 9f 4d 51 58'), { from: 'client' });
    expect(frames(events)[0]).toMatchObject({
      header: '818537fa213d', fin: true, opcode: 1, masked: true, maskKey: '37fa213d',
      payloadLength: 5, lengthForm: 7, payload: '48656c6c6f', violations: [],
    });
    expect(messages(events)[0]).toMatchObject({ text: 'Hello', frames: 1, length: 5 });
  });
  it('a fragmented unmasked text message', () => {
    const events = decodeFrames(h('01 03 48 65 6c 80 02 6c 6f'), { from: 'server' });
    expect(frames(events).map((f) => [f.index, f.offset, f.fin, f.opcode, f.opcodeName, f.payload])).toEqual([
      [0, 0, false, 1, 'text', '48656c'],
      [1, 5, true, 0, 'continuation', '6c6f'],
    ]);
    expect(messages(events)).toEqual([expect.objectContaining({ opcode: 1, frames: 2, length: 5, text: 'Hello', violations: [] })]);
    expect(events.map((e) => e.event)).toEqual(['frame', 'frame', 'message']);
  });
  it('an unmasked ping and a masked pong with the same body', () => {
    const ping = decodeFrames(h('89 05 48 65 6c 6c 6f'), { from: 'server' });
    const pong = decodeFrames(h('8a 85 37 fa 21 3d 7f 9f 4d 51 58'), { from: 'client' });
    expect(ping).toHaveLength(1); // control frames make no message
    expect(frames(ping)[0]).toMatchObject({ opcode: 9, opcodeName: 'ping', payload: '48656c6c6f', masked: false });
    expect(frames(pong)[0]).toMatchObject({ opcode: 10, opcodeName: 'pong', payload: '48656c6c6f', masked: true, maskKey: '37fa213d' });
  });
  it('256 bytes of binary in a single unmasked frame: the 16-bit form', () => {
    const payload = Buffer.alloc(256, 0xab);
    const events = decodeFrames(Buffer.concat([h('82 7e 01 00'), payload]), { from: 'server' });
    expect(frames(events)[0]).toMatchObject({ header: '827e0100', payloadLength: 256, lengthForm: 16, payload: payload.toString('hex'), violations: [] });
    expect(messages(events)[0]).toMatchObject({ opcode: 2, data: payload.toString('hex'), length: 256 });
  });
  it('64 KiB of binary in a single unmasked frame: the 64-bit form', () => {
    const payload = Buffer.alloc(65536, 0x5a);
    const events = decodeFrames(Buffer.concat([h('82 7f 00 00 00 00 00 01 00 00'), payload]), { from: 'server' });
    expect(frames(events)[0]).toMatchObject({ header: '827f0000000000010000', payloadLength: 65536, lengthForm: 64, payloadTruncated: false, violations: [] });
    expect(frames(events)[0].payload).toBe(payload.toString('hex'));
  });
  it('the header of an event gives every field its bit position', () => {
    const f = frames(decodeFrames(h('81 85 37 fa 21 3d 7f 9f 4d 51 58'), { from: 'client' }))[0];
    expect(headerFields(Buffer.from(f.header, 'hex')).map((x) => [x.key, x.bitOffset, x.bitLength, x.value])).toEqual([
      ['fin', 0, 1, 1], ['rsv1', 1, 1, 0], ['rsv2', 2, 1, 0], ['rsv3', 3, 1, 0], ['opcode', 4, 4, 1],
      ['mask', 8, 1, 1], ['payloadLen', 9, 7, 5], ['maskingKey', 16, 32, '37fa213d'],
    ]);
  });
});

describe('payload preview, caps and bounded memory', () => {
  const key = Buffer.from('a1b2c3d4', 'hex');
  it('caps the preview at maxPayload, counts the full length, unmasks correctly across word boundaries', () => {
    const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    const events = decodeFrames(buildFrame({ opcode: 2, payload, mask: key }), { from: 'client', maxPayload: 101 });
    expect(frames(events)[0]).toMatchObject({ payloadLength: 1000, payloadTruncated: true, payload: payload.subarray(0, 101).toString('hex') });
    expect(messages(events)[0]).toMatchObject({ length: 1000, truncated: true, data: payload.subarray(0, 101).toString('hex') });
  });
  it('unmasks long masked payloads exactly, at any split', () => {
    const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) & 0xff));
    const frame = buildFrame({ opcode: 2, payload, mask: key });
    for (const split of [1, 7, 8, 9, 13, 100, 4097]) {
      const events: WsEvent[] = [];
      const d = new ConnectionDecoder({ conn: 0, start: 'frames', onEvent: (e) => events.push(e) });
      d.push('client', frame.subarray(0, split), 0);
      d.push('client', frame.subarray(split), 0);
      expect(frames(events)[0].payload).toBe(payload.toString('hex'));
    }
  });
  it('small frames: exact hex and text for ASCII, non-ASCII, and lengths around the small-frame limit', () => {
    for (const text of ['', 'a', 'héllo wörld', '😀'.repeat(16), 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), 'é'.repeat(40)]) {
      const payload = Buffer.from(text);
      const frame = buildFrame({ opcode: 1, payload, mask: Buffer.from('a1b2c3d4', 'hex') });
      const events = decodeFrames(frame, { from: 'client' });
      expect(frames(events)[0]).toMatchObject({ header: frame.subarray(0, frame.length - payload.length).toString('hex'), maskKey: 'a1b2c3d4', payload: payload.toString('hex') });
      expect(messages(events)[0]).toMatchObject({ text, length: payload.length, violations: [] });
    }
  });
  it('a text message cut at the cap is cut on a character boundary', () => {
    const text = 'é'.repeat(10); // 20 bytes
    const events = decodeFrames(buildFrame({ opcode: 1, payload: text }), { from: 'server', maxPayload: 5 });
    expect(messages(events)[0]).toMatchObject({ text: 'éé', length: 20, truncated: true, violations: [] });
  });
  it('a frame claiming 2^63-1 bytes costs no more memory than the cap', () => {
    const events: WsEvent[] = [];
    const d = new ConnectionDecoder({ conn: 0, start: 'frames', maxPayload: 1024, onEvent: (e) => events.push(e) });
    d.push('server', h('82 7f 7f ff ff ff ff ff ff ff'), 0);
    const chunk = Buffer.alloc(1 << 20, 0x11);
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 64; i++) d.push('server', chunk, i); // 64 MiB of payload
    const grown = process.memoryUsage().heapUsed - before;
    expect(grown).toBeLessThan(16 * 1024 * 1024);
    expect(events).toEqual([]);
    d.finish(1);
    expect(events).toEqual([expect.objectContaining({ event: 'error', message: expect.stringContaining('67108864 of 9223372036854775807 bytes') })]);
  });
  it('a text message of many fragments is validated incrementally and previewed up to the cap', () => {
    const parts = ['Grüß', 'e aus ', 'Köln ', '€ 😀'];
    const bytes = Buffer.concat(parts.map((p) => Buffer.from(p)));
    // Split the UTF-8 bytes at awkward places (inside ü, €, 😀) across 6 fragments.
    const cuts = [0, 3, 9, 15, 19, 22, bytes.length];
    const wire = Buffer.concat(cuts.slice(0, -1).map((c, i) => buildFrame({ opcode: i === 0 ? 1 : 0, fin: i === cuts.length - 2, payload: bytes.subarray(c, cuts[i + 1]) })));
    const events = decodeFrames(wire, { from: 'server', maxPayload: 8 });
    expect(messages(events)).toEqual([expect.objectContaining({ frames: 6, length: bytes.length, text: 'Grüße ', truncated: true, violations: [] })]);
  });
});

describe('large payload previews (hex computed on first read)', () => {
  const payload = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 13) & 0xff));
  const events = decodeFrames(buildFrame({ opcode: 2, payload, mask: Buffer.from('0badf00d', 'hex') }), { from: 'client' });
  const [frame, message] = [frames(events)[0], messages(events)[0]];
  const expected = payload.subarray(0, 65536).toString('hex');
  it('read as plain strings: property access, JSON, spread, Object.keys order', () => {
    expect(frame.payload).toBe(expected);
    expect(message.data).toBe(expected);
    expect(JSON.parse(JSON.stringify(frame)).payload).toBe(expected);
    expect({ ...message }.data).toBe(expected);
    expect(Object.keys(frame).indexOf('payload')).toBe(Object.keys(frame).indexOf('lengthForm') + 1);
    expect(frame).toMatchObject({ payloadLength: 70000, payloadTruncated: true });
  });
  it('can still be assigned', () => {
    const copy = decodeFrames(buildFrame({ opcode: 2, payload: Buffer.alloc(5000) }), { from: 'server' })[0] as FrameEvent;
    copy.payload = 'ff';
    expect(copy.payload).toBe('ff');
  });
  it('a fragmented binary message keeps its own copy of the first 64 KiB', () => {
    const parts = [payload.subarray(0, 30000), payload.subarray(30000)];
    const wire = Buffer.concat([buildFrame({ opcode: 2, fin: false, payload: parts[0] }), buildFrame({ opcode: 0, payload: parts[1] })]);
    expect(messages(decodeFrames(wire, { from: 'server' }))[0]).toMatchObject({ frames: 2, length: 70000, truncated: true, data: expected });
  });
});

describe('close frames', () => {
  it('reports the code, its name and the reason', () => {
    const f = frames(decodeFrames(buildFrame({ opcode: 8, payload: Buffer.concat([h('03e9'), Buffer.from('going')]) }), { from: 'server' }))[0];
    expect(f).toMatchObject({ closeCode: 1001, closeCodeName: 'Going Away', closeReason: 'going', violations: [] });
  });
  it('names the registered ranges of §7.4.2', () => {
    const name = (code: number) => frames(decodeFrames(buildFrame({ opcode: 8, payload: Buffer.from([code >> 8, code & 0xff]) }), { from: 'server' }))[0].closeCodeName;
    expect(name(3001)).toBe('registered (3000-3999)');
    expect(name(4321)).toBe('private use (4000-4999)');
    expect(name(999)).toBe('not used (0-999)');
    expect(name(2000)).toBe('reserved for the protocol (1000-2999)');
  });
  it('an empty close has no code', () => {
    const f = frames(decodeFrames(h('8800'), { from: 'server' }))[0];
    expect(f.closeCode).toBeUndefined();
    expect(f.violations).toEqual([]);
  });
});

describe('following the stream after violations, and stopping when it cannot be followed', () => {
  it('goes on after a reserved opcode and an unmasked client frame', () => {
    const wire = Buffer.concat([h('830548656c6c6f'), h('810548656c6c6f')]);
    const events = decodeFrames(wire, { from: 'server' });
    expect(frames(events).map((f) => [f.index, f.offset, f.violations.map((v) => v.rule)])).toEqual([
      [0, 0, ['reserved-opcode']],
      [1, 7, []],
    ]);
    expect(messages(events)).toHaveLength(1);
    // The same unmasked bytes sent by the client: each frame is flagged, and decoding goes on.
    const asClient = decodeFrames(wire, { from: 'client' });
    expect(frames(asClient).map((f) => f.violations.map((v) => v.rule))).toEqual([['unmasked-client-frame', 'reserved-opcode'], ['unmasked-client-frame']]);
    expect(messages(asClient)).toHaveLength(1);
  });
  it('stops a direction once after a 64-bit length with its MSB set, and ignores what follows', () => {
    const events = decodeFrames(Buffer.concat([h('810548656c6c6f'), h('827f8000000000000005'), h('810548656c6c6f')]), { from: 'server' });
    expect(events.map((e) => e.event)).toEqual(['frame', 'message', 'frame', 'error']);
    expect(frames(events)[1]).toMatchObject({ index: 1, offset: 7, lengthForm: 64, violations: [expect.objectContaining({ rule: 'length-msb-set' })] });
  });
  it('drops an interleaved message but decodes the new one', () => {
    const events = decodeFrames(h('010348656c 8102 6869'), { from: 'server' });
    expect(messages(events)).toEqual([expect.objectContaining({ text: 'hi', frames: 1 })]);
  });
  it('reports a partial header, a partial payload and an open message at finish', () => {
    expect(decodeFrames(h('827e01'), { from: 'server' })).toEqual([expect.objectContaining({ event: 'error', message: expect.stringContaining('inside the header of frame 0 (offset 0): 3 of 4 bytes') })]);
    expect(decodeFrames(h('8105 4865'), { from: 'server' })).toEqual([expect.objectContaining({ event: 'error', message: expect.stringContaining('2 of 5 bytes') })]);
    const open = decodeFrames(h('0103 48656c'), { from: 'server' });
    expect(open.map((e) => e.event)).toEqual(['frame', 'error']);
    expect(open[1]).toMatchObject({ message: expect.stringContaining('fragmented text message') });
  });
});
