/** The store: bounded (frames, payload, connections, capture bytes), grouping, filters. */
import { describeFilter, isEmptyFilter, matchesFilter, parseFilter, Store, type FrameFilter } from '../../src/tui/store';
import { frame, handshake, message, open, T0 } from './fixtures';

function feed(store: Store, conn: number, count: number, payload = 'x') {
  for (let i = 0; i < count; i++) store.add(frame({ opcode: 1, payload }, { conn, dir: i % 2 ? 'server' : 'client', index: i }));
}

describe('bounds', () => {
  test('at most maxFrames frames: the oldest go first and are counted', () => {
    const store = new Store({ maxFrames: 100 });
    store.add(open(1));
    feed(store, 1, 250);
    expect(store.frameCount).toBe(100);
    expect(store.droppedFrames).toBe(150);
    expect(store.totalFrames).toBe(250);
    const conn = store.conns.get(1)!;
    const list = store.frames(conn);
    expect(list.length).toBe(100);
    expect(list.at(0).n).toBe(150);
    expect(list.at(99).n).toBe(249);
    expect(list.indexOfN(200)).toBe(50);
    expect(list.indexOfN(3)).toBe(0); // dropped: the nearest kept one
  });

  test('the default is 100,000 frames and stays bounded under a long run (memory does not grow)', () => {
    const store = new Store();
    expect(store.maxFrames).toBe(100_000);
    store.add(open(1));
    const ev = frame({ opcode: 1, payload: 'hello' }, { conn: 1 });
    for (let i = 0; i < 250_000; i++) store.add({ ...ev, index: i });
    expect(store.frameCount).toBe(100_000);
    expect(store.droppedFrames).toBe(150_000);
    // The backing array is compacted: it never holds much more than the live frames.
    expect(store.conns.get(1)!.frames.length).toBeLessThan(200_001);
  });

  test('the payload budget drops old frames too (a few huge frames cannot exhaust memory)', () => {
    const store = new Store({ maxPayloadChars: 10_000 });
    store.add(open(1));
    for (let i = 0; i < 10; i++) store.add(frame({ opcode: 2, payload: Buffer.alloc(2000) }, { conn: 1, dir: 'server', index: i }));
    expect(store.payloadChars).toBeLessThanOrEqual(10_000);
    expect(store.frameCount).toBe(2); // 4000 hex chars + header each
    expect(store.droppedFrames).toBe(8);
  });

  test('at most maxConnections: the oldest closed one is dropped with its frames', () => {
    const store = new Store({ maxConnections: 2 });
    for (const id of [1, 2]) {
      store.add(open(id));
      feed(store, id, 3);
    }
    store.add({ event: 'end', ts: T0, conn: 2, reason: 'closed', bytes: { client: 10, server: 20 } });
    store.add(open(3));
    expect([...store.conns.keys()]).toEqual([1, 3]);
    expect(store.frameCount).toBe(3);
    expect(store.droppedConnections).toBe(1);
    feed(store, 3, 2);
    expect(store.frameCount).toBe(5);
  });

  test('capture bytes are bounded; a connection whose start was dropped is left out of a save', () => {
    const store = new Store({ maxCaptureBytes: 1000 });
    store.add(open(1));
    store.addData(1, 'client', T0, Buffer.alloc(800));
    store.add(open(2));
    store.addData(2, 'client', T0 + 1, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    store.addData(1, 'server', T0 + 2, Buffer.alloc(300)); // pushes conn 1's first chunk out
    const saved = store.captureText();
    expect(saved.connections).toBe(1);
    expect(saved.skipped).toBe(1);
    const lines = saved.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ format: 'wsscope-capture', version: 1 });
    expect(lines[1]).toEqual(open(2));
    expect(lines[2]).toEqual({ event: 'data', conn: 2, dir: 'client', ts: T0 + 1, bytes: Buffer.from('GET / HTTP/1.1\r\n\r\n').toString('hex') });
    expect(lines.length).toBe(3);
  });

  test('a chunk that is a view into a larger buffer is copied: the buffer reused afterwards does not change the capture', () => {
    const store = new Store();
    store.add(open(1));
    const reused = Buffer.alloc(100, 0x01);
    store.addData(1, 'client', T0, reused.subarray(10, 20));
    const owned = Buffer.from([0xaa, 0xbb]);
    store.addData(1, 'server', T0 + 1, owned);
    reused.fill(0x02);
    const lines = store.captureText().text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.event === 'data').map((l) => l.bytes)).toEqual(['01'.repeat(10), 'aabb']);
  });

  test('small chunks (copied into shared slabs) and large ones (kept as they are) come back exact, across slab ends and after the bound dropped older ones', () => {
    let seed = 7;
    const chunkOf = (i: number) => {
      // Sizes 1 to 2047 (copied into a slab) and now and then 2048 to 8048 (kept), random bytes.
      const size = i % 50 === 49 ? 2048 + (i % 7) * 1000 : 1 + ((i * 389) % 2047);
      const chunk = Buffer.allocUnsafeSlow(size);
      for (let k = 0; k < size; k++) chunk[k] = seed = (seed * 1103515245 + 12345) & 0xff;
      return chunk;
    };
    const store = new Store({ maxCaptureBytes: 300_000 });
    store.add(open(1));
    for (let i = 0; i < 400; i++) store.addData(1, 'client', T0 + i, chunkOf(i)); // ~400 KB: its start is dropped
    store.add(open(2));
    const kept: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const chunk = chunkOf(i);
      store.addData(2, i % 2 ? 'server' : 'client', T0 + 1000 + i, chunk);
      kept.push(Buffer.from(chunk));
      chunk.fill(0); // the sender reuses its buffer: a small chunk was copied (a large one is a socket's own, never reused)
      if (chunk.length >= 2048) kept[i].copy(chunk);
    }
    const saved = store.captureText();
    expect(saved.connections).toBe(1);
    expect(saved.skipped).toBe(1);
    const data = saved.text.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.event === 'data');
    expect(data.map((l) => Buffer.from(l.bytes, 'hex'))).toEqual(kept);
    expect(data.map((l) => [l.conn, l.dir, l.ts])).toEqual(kept.map((_, i) => [2, i % 2 ? 'server' : 'client', T0 + 1000 + i]));
  });

  test('capture text holds open, data and end lines in arrival order (the capture format)', () => {
    const store = new Store();
    store.add(open(1));
    store.addData(1, 'client', T0 + 1, Buffer.from([0x81, 0x80]));
    store.add({ event: 'end', ts: T0 + 2, conn: 1, reason: 'closed', bytes: { client: 2, server: 0 } });
    expect(store.captureText().text).toBe(
      [
        '{"format":"wsscope-capture","version":1}',
        JSON.stringify(open(1)),
        `{"event":"data","conn":1,"dir":"client","ts":${T0 + 1},"bytes":"8180"}`,
        `{"event":"end","ts":${T0 + 2},"conn":1,"reason":"closed","bytes":{"client":2,"server":0}}`,
        '',
      ].join('\n'),
    );
  });
});

describe('connections and messages', () => {
  test('state follows the events: handshaking, open, closing, closed; bytes from raw chunks', () => {
    const store = new Store();
    store.add(open(1));
    const c = store.conns.get(1)!;
    expect(c.state).toBe('handshaking');
    store.add(handshake(1));
    expect(c.state).toBe('open');
    store.addData(1, 'client', T0, Buffer.alloc(7));
    expect(c.bytesBy).toEqual({ client: 7, server: 0 });
    store.add(frame({ opcode: 8, payload: Buffer.from([3, 0xe8]) }, { conn: 1 }));
    expect(c.state).toBe('closing');
    expect(c.framesBy).toEqual({ client: 1, server: 0 });
    store.add({ event: 'end', ts: T0, conn: 1, reason: 'closed', bytes: { client: 100, server: 50 } });
    expect(c.state).toBe('closed');
    expect(c.bytesBy).toEqual({ client: 100, server: 50 });
  });

  test('HTTP pass-through connections are marked as such', () => {
    const store = new Store();
    store.add(open(1));
    store.add({ event: 'http', ts: T0, conn: 1, request: { method: 'GET', target: '/', version: 'HTTP/1.1', headers: [] }, response: { status: 200, reason: 'OK', headers: [] } });
    expect(store.conns.get(1)!.state).toBe('http');
    store.add({ event: 'end', ts: T0, conn: 1, reason: 'closed', bytes: { client: 10, server: 20 } });
    expect(store.conns.get(1)!.state).toBe('closed');
    expect(store.conns.get(1)!.passThrough).toBe(true); // still marked once closed
  });

  test('fragments form one group (first, inside for a control frame between, middle, last) and the message attaches to it', () => {
    const store = new Store();
    store.add(open(1));
    store.add(frame({ opcode: 1, fin: false, payload: 'a' }, { conn: 1 }));
    store.add(frame({ opcode: 9, payload: 'p' }, { conn: 1 }));
    store.add(frame({ opcode: 1, payload: 'server message' }, { conn: 1, dir: 'server' }));
    store.add(frame({ opcode: 0, fin: false, payload: 'b' }, { conn: 1 }));
    store.add(frame({ opcode: 0, payload: 'c' }, { conn: 1 }));
    store.add(message(1, 'client', 'abc', 3));
    store.add(frame({ opcode: 0, payload: 'stray' }, { conn: 1 }));
    const list = store.frames(store.conns.get(1)!);
    const rows = Array.from({ length: list.length }, (_, i) => list.at(i));
    expect(rows.map((r) => r.groupPos)).toEqual(['first', 'inside', 'only', 'middle', 'last', 'orphan']);
    expect(rows.map((r) => r.groupIndex)).toEqual([1, 0, 1, 2, 3, 0]);
    expect(rows[0].group).toBe(rows[4].group);
    expect(rows[0].group!.message!.text).toBe('abc');
    expect(rows[2].group!.message).toBeUndefined();
  });
});

describe('filters (f)', () => {
  const ok = (text: string) => parseFilter(text) as FrameFilter;
  test('words: directions, opcodes, groups of opcodes, numbers, violations', () => {
    expect(ok('client text')).toEqual({ dirs: ['client'], opcodes: [1], violations: false });
    expect(ok('  S  ping pong ')).toEqual({ dirs: ['server'], opcodes: [9, 10], violations: false });
    expect(ok('control data !')).toEqual({ dirs: [], opcodes: [0, 1, 2, 8, 9, 10], violations: true });
    expect(ok('0x3 11')).toEqual({ dirs: [], opcodes: [3, 11], violations: false });
    expect(isEmptyFilter(ok(''))).toBe(true);
    expect(parseFilter('texts')).toEqual({
      error: 'unknown filter word "texts": use client, server, text, binary, close, ping, pong, cont, data, control, 0x3, !, app, a protocol (stomp), event:NAME, topic:T, type:T, id:N',
    });
  });

  test('describeFilter reads back what was typed', () => {
    expect(describeFilter(ok('violations close client'))).toBe('client close !');
    expect(describeFilter(ok('data'))).toBe('cont text binary');
  });

  test('kinds combine with AND, words of one kind with OR; the filtered list pages like the full one', () => {
    const store = new Store();
    store.add(open(1));
    store.add(frame({ opcode: 1, payload: 'a' }, { conn: 1, dir: 'client' }));
    store.add(frame({ opcode: 9 }, { conn: 1, dir: 'client' }));
    store.add(frame({ opcode: 1, payload: 'b' }, { conn: 1, dir: 'server' }));
    store.add(frame({ opcode: 2, payload: 'c' }, { conn: 1, dir: 'server', violations: [{ rule: 'x', message: 'y' }] }));
    const conn = store.conns.get(1)!;
    const names = (f: FrameFilter) => {
      const list = store.frames(conn, f);
      return Array.from({ length: list.length }, (_, i) => `${list.at(i).ev.dir}:${list.at(i).ev.opcode}`);
    };
    expect(names(ok('server'))).toEqual(['server:1', 'server:2']);
    expect(names(ok('text'))).toEqual(['client:1', 'server:1']);
    expect(names(ok('client ping'))).toEqual(['client:9']);
    expect(names(ok('!'))).toEqual(['server:2']);
    expect(names(ok('client server text binary'))).toEqual(['client:1', 'server:1', 'server:2']);
    const list = store.frames(conn, ok('server'));
    expect(list.indexOfN(0)).toBe(0);
    expect(list.indexOfN(3)).toBe(1);
    expect(list.indexOfN(4)).toBe(-1);
    expect(matchesFilter(list.at(0), ok('client'))).toBe(false);
  });
});

test('a filtered list is extended as frames arrive and forgets dropped ones', () => {
  const store = new Store({ maxFrames: 6 });
  store.add(open(1));
  const conn = store.conns.get(1)!;
  const server = parseFilter('server') as FrameFilter;
  const names = () => {
    const list = store.frames(conn, server);
    return Array.from({ length: list.length }, (_, i) => Buffer.from(list.at(i).ev.payload, 'hex').toString());
  };
  for (let i = 0; i < 4; i++) store.add(frame({ opcode: 1, payload: `m${i}` }, { conn: 1, dir: i % 2 ? 'server' : 'client' }));
  expect(names()).toEqual(['m1', 'm3']);
  for (let i = 4; i < 8; i++) store.add(frame({ opcode: 1, payload: `m${i}` }, { conn: 1, dir: i % 2 ? 'server' : 'client' }));
  // m0 and m1 were dropped (6 frames kept); m5 and m7 arrived.
  expect(names()).toEqual(['m3', 'm5', 'm7']);
  expect(store.frames(conn, server).indexOfN(5)).toBe(1);
});

test('adding frames and messages never reads their payload (the decoder computes large hex lazily)', () => {
  const store = new Store();
  store.add(open(1));
  let reads = 0;
  const ev = frame({ opcode: 2, payload: Buffer.alloc(8192) }, { conn: 1, dir: 'server' });
  const hex = ev.payload;
  Object.defineProperty(ev, 'payload', { enumerable: true, get: () => (reads++, hex) });
  store.add(ev);
  const msg = { event: 'message' as const, ts: T0, conn: 1, dir: 'server' as const, opcode: 2, opcodeName: 'binary', frames: 1, length: 8192, compressed: false, violations: [] };
  Object.defineProperty(msg, 'data', { enumerable: true, get: () => (reads++, hex) });
  store.add(msg);
  expect(reads).toBe(0);
  expect(store.payloadChars).toBe(2 * 8192 + 8 + 2 * 8192); // frame (header 82 7e 20 00) + message
});
