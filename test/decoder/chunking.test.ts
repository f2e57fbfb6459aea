import { constants, deflateRawSync } from 'node:zlib';
import { buildFrame } from '../../src/decoder/build';
import { ConnectionDecoder, type Direction, type WsEvent } from '../../src/decoder';
import { decodeChunks, prng, withoutTs } from './helpers';

/** A random connection: a handshake (maybe with permessage-deflate) and random frames both ways. */
function randomConnection(rand: () => number): { request: Buffer; response: Buffer; client: Buffer; server: Buffer } {
  const int = (n: number) => Math.floor(rand() * n);
  const deflate = rand() < 0.4;
  const request =
    'GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
    (deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : '') +
    '\r\n';
  const response =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
    (deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n' : '') +
    '\r\n';
  const side = (dir: Direction): Buffer => {
    const out: Buffer[] = [];
    const n = 1 + int(12);
    for (let i = 0; i < n; i++) {
      const mask = dir === 'client' ? (rand() < 0.9 ? Buffer.from([int(256), int(256), int(256), int(256)]) : null) : rand() < 0.1 ? Buffer.from('01020304', 'hex') : null;
      const size = [0, 1, 5, 125, 126, 200, 70000][int(7)];
      const text = Buffer.from('aé€😀'.repeat(size).slice(0, size));
      const kind = int(10);
      if (kind < 3) {
        out.push(buildFrame({ opcode: 1, payload: text, mask }));
      } else if (kind < 5) {
        // A fragmented message with a ping in the middle.
        const cut = int(text.length + 1);
        out.push(buildFrame({ opcode: 1, fin: false, payload: text.subarray(0, cut), mask }));
        out.push(buildFrame({ opcode: 9, payload: 'p', mask }));
        out.push(buildFrame({ opcode: 0, payload: text.subarray(cut), mask }));
      } else if (kind < 6 && deflate) {
        const compressed = deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH });
        out.push(buildFrame({ opcode: 1, rsv1: true, payload: compressed.subarray(0, compressed.length - 4), mask }));
      } else if (kind < 7) {
        out.push(buildFrame({ opcode: 2, payload: Buffer.from(Array.from({ length: size }, () => int(256))), mask, lengthForm: rand() < 0.2 ? 64 : undefined }));
      } else if (kind < 8) {
        // Something broken: a reserved opcode, RSV bits, bad UTF-8, a bad close code.
        const broken = [
          buildFrame({ opcode: 3, payload: 'x', mask }),
          buildFrame({ opcode: 1, rsv2: true, payload: 'x', mask }),
          buildFrame({ opcode: 1, payload: Buffer.from([0xc3, 0x28]), mask }),
          buildFrame({ opcode: 8, payload: Buffer.from([0x03, 0xed]), mask }),
          buildFrame({ opcode: 0, payload: 'stray', mask }),
        ];
        out.push(broken[int(broken.length)]);
      } else {
        out.push(buildFrame({ opcode: 9 + int(2), payload: text.subarray(0, 125), mask }));
      }
    }
    if (rand() < 0.3) out.push(buildFrame({ opcode: 1, payload: 'unfinished' }).subarray(0, 4));
    return Buffer.concat(out);
  };
  return { request: Buffer.from(request), response: Buffer.from(response), client: side('client'), server: side('server') };
}
type Conn = ReturnType<typeof randomConnection>;

function split(buf: Buffer, sizes: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = Math.max(1, sizes());
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** The request, the response, the client's frames, the server's frames, each split by `sizes`. */
function decodeSplit(conn: Conn, sizes: () => number): WsEvent[] {
  const chunks: ['client' | 'server', Buffer][] = [];
  const add = (dir: 'client' | 'server', buf: Buffer) => {
    for (const c of split(buf, sizes)) chunks.push([dir, c]);
  };
  add('client', conn.request);
  add('server', conn.response);
  add('client', conn.client);
  add('server', conn.server);
  return decodeChunks(chunks, { maxPayload: 300 });
}

describe('the same events whatever the chunking', () => {
  it('over 60 seeded random connections: all at once, random splits, one byte at a time', () => {
    const rand = prng(20261129);
    for (let n = 0; n < 60; n++) {
      const conn = randomConnection(rand);
      const whole = withoutTs(decodeSplit(conn, () => Infinity));
      expect(whole.length).toBeGreaterThan(1);
      expect(whole.filter((e) => (e as WsEvent).event === 'error' && (e as { message: string }).message.includes('internal'))).toEqual([]);
      const r = prng(n);
      expect(withoutTs(decodeSplit(conn, () => 1 + Math.floor(r() * 40)))).toEqual(whole);
      expect(withoutTs(decodeSplit(conn, () => 1 + Math.floor(r() * 5000)))).toEqual(whole);
      if (n < 10) expect(withoutTs(decodeSplit(conn, () => 1))).toEqual(whole);
    }
  }, 120_000);
  // Decoders share state across connections (the header slab, the preview scratch of
  // frames.ts): interleaving many connections chunk by chunk, or feeding one from
  // another's event listener, must give each the events it gives alone.
  it('the same events for connections decoded interleaved, and fed from inside another decoder\'s listener', () => {
    const rand = prng(20261204);
    const conns = Array.from({ length: 12 }, () => randomConnection(rand));
    const alone = conns.map((c) => withoutTs(decodeSplit(c, () => Infinity)));
    const r = prng(7);
    const queues = conns.map((c) => {
      const q: ['client' | 'server', Buffer][] = [];
      for (const [dir, buf] of [['client', c.request], ['server', c.response], ['client', c.client], ['server', c.server]] as const) {
        for (let i = 0; i < buf.length; ) {
          const n = 1 + Math.floor(r() * 300);
          q.push([dir, buf.subarray(i, i + n)]);
          i += n;
        }
      }
      return q;
    });
    const events: WsEvent[][] = conns.map(() => []);
    const decoders: ConnectionDecoder[] = [];
    // Every event of connection i first feeds the next chunk of connection i + 1 (if any).
    const feedNext = (i: number) => {
      const j = i + 1;
      const next = j < conns.length ? queues[j].shift() : undefined;
      if (next) decoders[j].push(next[0], next[1], 0);
    };
    for (let i = 0; i < conns.length; i++) {
      decoders.push(new ConnectionDecoder({ conn: 1, maxPayload: 300, onEvent: (e) => (feedNext(i), events[i].push(e)) }));
    }
    for (let busy = true; busy; ) {
      busy = false;
      for (let i = 0; i < conns.length; i++) {
        const next = queues[i].shift();
        if (!next) continue;
        busy = true;
        decoders[i].push(next[0], next[1], 0);
      }
    }
    for (const d of decoders) d.finish(0);
    for (let i = 0; i < conns.length; i++) expect(withoutTs(events[i])).toEqual(alone[i]);
  });
  it('a close frame spanning several writes', () => {
    const frame = buildFrame({ opcode: 8, payload: Buffer.concat([Buffer.from('03e8', 'hex'), Buffer.from('bye')]), mask: Buffer.from('00112233', 'hex') });
    const whole = withoutTs(decodeChunks([['client', frame]], { start: 'frames' }));
    for (let i = 1; i < frame.length; i++) {
      expect(withoutTs(decodeChunks([['client', frame.subarray(0, i)], ['client', frame.subarray(i)]], { start: 'frames' }))).toEqual(whole);
    }
    expect(whole[0]).toMatchObject({ closeCode: 1000, closeReason: 'bye' });
  });
});

describe('small frames that arrive together (decoded as a run, their strings made at once)', () => {
  const rand = prng(20261204);
  const int = (n: number) => Math.floor(rand() * n);
  /** Small frames of every kind (text ASCII or not, binary, control, close, empty, unmasked), some fragmented. */
  const smallFrames = (count: number, from: 'client' | 'server'): Buffer =>
    Buffer.concat(
      Array.from({ length: count }, (_, i) => {
        const mask = from === 'client' && int(10) > 0 ? Buffer.from([int(256), int(256), int(256), int(256)]) : false;
        const size = int(66);
        const text = Buffer.from((int(2) ? 'ab"\\\n\u0001' : 'aé€😀').repeat(size)).subarray(0, size);
        const kind = int(6);
        if (kind === 0) return buildFrame({ opcode: 2, payload: Buffer.from(Array.from({ length: size }, () => int(256))), mask });
        if (kind === 1) return buildFrame({ opcode: 8, payload: Buffer.concat([Buffer.from([3, 0xe8 + int(3)]), text.subarray(0, 20)]), mask });
        if (kind === 2) return buildFrame({ opcode: 9, payload: text.subarray(0, int(3) ? size : 0), mask });
        if (kind === 3) return buildFrame({ opcode: i % 2 ? 0 : 1, fin: int(2) === 0, payload: text, mask });
        return buildFrame({ opcode: 1, payload: text, mask });
      }),
    );
  const json = (events: WsEvent[]) => events.map((e) => JSON.stringify({ ...e, ts: 0 }));

  it('give the events (keys in the same order) of the same frames read one byte at a time', () => {
    for (let n = 0; n < 20; n++) {
      const from = n % 2 ? 'server' : 'client';
      const bytes = smallFrames(1 + int(60), from);
      for (const maxPayload of [undefined, 10]) {
        const whole = json(decodeChunks([[from, bytes]], { start: 'frames', maxPayload }));
        const bytewise = json(decodeChunks([...bytes].map((b) => [from, Buffer.from([b])]), { start: 'frames', maxPayload }));
        expect(whole).toEqual(bytewise);
      }
    }
  });

  it('while a listener decodes other bytes with another decoder', () => {
    const a = smallFrames(200, 'client');
    const b = smallFrames(200, 'client');
    const alone = (bytes: Buffer) => json(decodeChunks([['client', bytes]], { start: 'frames' }));
    const bEvents: WsEvent[] = [];
    const other = new ConnectionDecoder({ conn: 1, start: 'frames', onEvent: (e) => bEvents.push(e) });
    let at = 0;
    const aEvents: WsEvent[] = [];
    const d = new ConnectionDecoder({
      conn: 1,
      start: 'frames',
      onEvent: (e) => {
        aEvents.push(e);
        // Inside a run of a's frames: push a few of b's, which may themselves form a run.
        if (e.event === 'frame' && at < b.length) other.push('client', b.subarray(at, (at += 1 + int(80))), 1);
      },
    });
    d.push('client', a, 1);
    if (at < b.length) other.push('client', b.subarray(at), 1);
    d.finish(2);
    other.finish(2);
    expect(json(aEvents)).toEqual(alone(a));
    expect(json(bEvents)).toEqual(alone(b));
  });
});
