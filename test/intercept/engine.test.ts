/**
 * The intercept stage alone (sans-IO): bytes of both sides in, bytes out, exact.
 */
import { ConnectionDecoder, computeAccept, type FrameEvent, type MessageEvent, type WsEvent } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';
import { Interceptor, type Decider, type InterceptEvent } from '../../src/intercept/engine';
import { MessageDeflater } from '../../src/intercept/deflate';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const MASK = Buffer.from('37fa213d', 'hex');

function request(extensions?: string): Buffer {
  return Buffer.from(
    `GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n` +
      (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
      '\r\n',
    'latin1',
  );
}

function response(extensions?: string): Buffer {
  return Buffer.from(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAccept(KEY)}\r\n` +
      (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
      '\r\n',
    'latin1',
  );
}

interface Harness {
  stage: Interceptor;
  out: { client: Buffer[]; server: Buffer[] };
  events: (WsEvent | InterceptEvent)[];
  sent(dir: 'client' | 'server'): Buffer;
  errors(): string[];
  intercepts(): InterceptEvent[];
}

function harness(deciders: Decider[], opts: { extensions?: string; maxHeld?: number } = {}): Harness {
  const out = { client: [] as Buffer[], server: [] as Buffer[] };
  const events: (WsEvent | InterceptEvent)[] = [];
  const stage = new Interceptor({
    conn: 1,
    deciders,
    write: (dir, bytes) => out[dir].push(Buffer.from(bytes)),
    publish: (e) => events.push(e),
    now: () => 0,
    maxHeld: opts.maxHeld,
    randomKey: () => Buffer.from('01020304', 'hex'),
  });
  stage.push('client', request(opts.extensions));
  stage.push('server', response(opts.extensions));
  return {
    stage,
    out,
    events,
    sent: (dir) => Buffer.concat(out[dir]),
    errors: () => events.filter((e) => e.event === 'error').map((e) => (e as { message: string }).message),
    intercepts: () => events.filter((e): e is InterceptEvent => e.event === 'intercept'),
  };
}

/** The frame and message events a receiver decodes from what went out (handshake included). */
function received(h: Harness): WsEvent[] {
  const events: WsEvent[] = [];
  const d = new ConnectionDecoder({ conn: 1, onEvent: (e) => events.push(e) });
  d.push('client', h.sent('client'), 1);
  d.push('server', h.sent('server'), 2);
  d.finish(3);
  return events.filter((e) => e.event === 'frame' || e.event === 'message' || e.event === 'error');
}

const hello = buildFrame({ opcode: 1, mask: MASK, payload: 'Hello' });
const ping = buildFrame({ opcode: 9, mask: MASK, payload: 'hi' });
const serverText = buildFrame({ opcode: 1, payload: '{"name":"Hello"}' });

describe('Interceptor: forwarding', () => {
  it('is byte-exact when every hook forwards, in every chunking', () => {
    const stream = Buffer.concat([hello, ping, buildFrame({ opcode: 1, fin: false, mask: MASK, payload: 'a' }), buildFrame({ opcode: 0, mask: MASK, payload: 'b' })]);
    for (const size of [1, 3, 7, stream.length]) {
      const seen: number[] = [];
      const h = harness([{ by: 'script', onFrame: (f) => void seen.push(f.index), onMessage: () => undefined }]);
      for (let i = 0; i < stream.length; i += size) h.stage.push('client', stream.subarray(i, i + size));
      h.stage.push('server', serverText);
      expect(h.sent('client').toString('hex')).toBe(Buffer.concat([request(), stream]).toString('hex'));
      expect(h.sent('server').toString('hex')).toBe(Buffer.concat([response(), serverText]).toString('hex'));
      expect(seen).toEqual([0, 1, 2, 3, 0]);
      expect(h.events).toEqual([]);
    }
  });

  it('gives onFrame the frame event with the whole unmasked payload', () => {
    const frames: { opcodeName: string; maskKey: string | null; payload: string; text: string }[] = [];
    const h = harness([{ by: 'script', onFrame: (f) => void frames.push({ opcodeName: f.opcodeName, maskKey: f.maskKey, payload: f.payload, text: f.payloadBytes.toString() }) }]);
    h.stage.push('client', hello);
    expect(frames).toEqual([{ opcodeName: 'text', maskKey: '37fa213d', payload: Buffer.from('Hello').toString('hex'), text: 'Hello' }]);
  });
});

describe('Interceptor: replace, drop, inject, close', () => {
  it('replaces a client text, re-masked with the original key, and says so', () => {
    const h = harness([{ by: 'script', onFrame: (f) => (f.opcode === 1 ? { opcode: 'text', payload: 'EVE' } : undefined) }]);
    h.stage.push('client', Buffer.concat([hello, ping]));
    // 81 83 37fa213d + "EVE" masked with 37fa213d (RFC 6455 §5.3), then the ping as it was.
    expect(h.sent('client').subarray(request().length).toString('hex')).toBe('818337fa213d72ac64' + ping.toString('hex'));
    const [event] = h.intercepts();
    expect(event).toMatchObject({ conn: 1, dir: 'client', index: 0, action: 'replace', by: 'script', hook: 'onFrame', original: { index: 0, payload: '48656c6c6f' } });
    expect(event.sent).toHaveLength(1);
    expect(event.sent[0]).toMatchObject({ index: 0, opcodeName: 'text', masked: true, maskKey: '37fa213d', payload: '455645' });
    expect(event.explain).toBe('script onFrame replaced client text frame #0 with a text frame (3 bytes, masked 37fa213d)');
  });

  it('keeps the original key for the first of several replacing frames only, fresh keys for the rest (RFC 6455 §5.3)', () => {
    const h = harness([{ by: 'script', onFrame: (f) => (f.opcode === 1 ? [{ opcode: 'text', payload: 'A' }, { opcode: 'text', payload: 'B' }] : undefined) }]);
    h.stage.push('client', hello);
    const [event] = h.intercepts();
    expect(event.sent.map((s: { maskKey: string | null }) => s.maskKey)).toEqual(['37fa213d', '01020304']);
    // 81 81 37fa213d ('A' ^ 37) then 81 81 01020304 ('B' ^ 01).
    expect(h.sent('client').subarray(request().length).toString('hex')).toBe('818137fa213d76' + '81810102030443');
  });

  it('uses the spec masking key, or none when mask is false, and breaks the header when asked', () => {
    const h = harness([
      {
        by: 'script',
        onFrame: (f) =>
          f.index === 0
            ? { opcode: 1, payload: 'x', maskKey: 'aabbccdd' }
            : f.index === 1
              ? { opcode: 1, payload: 'y', mask: false, rsv1: true }
              : [{ opcode: 9, payload: 'p', mask: false, lengthForm: 16 }, { opcode: 1, payload: 'z', mask: false, declaredLength: 0 }],
      },
    ]);
    h.stage.push('client', Buffer.concat([hello, hello, hello]));
    expect(h.sent('client').subarray(request().length).toString('hex')).toBe('8181aabbccdd' + (0x78 ^ 0xaa).toString(16) + 'c10179' + '897e000170' + '81007a');
    const rules = received(h).flatMap((e) => ('violations' in e ? (e as FrameEvent).violations.map((v) => v.rule) : []));
    expect(rules).toEqual(expect.arrayContaining(['rsv-without-extension', 'unmasked-client-frame', 'non-minimal-length']));
  });

  it('drops pings so that no pong is asked for', () => {
    const h = harness([{ by: 'script', onFrame: (f) => (f.opcode === 9 ? 'drop' : undefined) }]);
    h.stage.push('client', Buffer.concat([ping, hello]));
    expect(h.sent('client').subarray(request().length).toString('hex')).toBe(hello.toString('hex'));
    expect(h.intercepts()).toMatchObject([{ action: 'drop', dir: 'client', index: 1 - 1, sent: [], explain: 'script onFrame dropped client ping frame #0' }]);
  });

  it('injects a server frame with api.send and closes both sides with api.close', () => {
    const h = harness([
      {
        by: 'script',
        onFrame: (f, api) => {
          if (f.payloadBytes.toString() === 'Hello') api.send('server', { opcode: 1, payload: 'injected' });
          else api.close(4000, 'bye');
        },
      },
    ]);
    h.stage.push('client', hello);
    expect(h.sent('server').subarray(response().length).toString('hex')).toBe('8108' + Buffer.from('injected').toString('hex'));
    h.stage.push('client', ping);
    h.stage.push('server', serverText); // after the close: dropped
    h.stage.push('client', hello);
    const fromServer = h.sent('server').subarray(response().length).toString('hex');
    expect(fromServer).toBe('8108' + Buffer.from('injected').toString('hex') + '8805' + '0fa0' + Buffer.from('bye').toString('hex'));
    // The client's close to the server is masked (a fresh key: 01020304 in this test).
    const fromClient = h.sent('client').subarray(request().length);
    expect(fromClient.toString('hex')).toBe(hello.toString('hex') + buildFrame({ opcode: 8, mask: Buffer.from('01020304', 'hex'), payload: Buffer.from('0fa0627965', 'hex') }).toString('hex'));
    expect(h.intercepts().map((e) => [e.action, e.dir, e.sent.length])).toEqual([
      ['inject', 'server', 1],
      ['close', 'client', 1],
      ['close', 'server', 1],
    ]);
  });
});

describe('Interceptor: bad hooks', () => {
  it('reports a hook that throws, naming it, and forwards the frame unchanged', () => {
    const h = harness([{ by: 'script', onFrame: () => { throw new Error('boom'); } }]);
    h.stage.push('client', hello);
    expect(h.sent('client').subarray(request().length)).toEqual(hello);
    expect(h.errors()).toEqual(['script onFrame threw for client frame #0: boom; it went on unchanged']);
  });

  it.each([
    [42, 'returned number 42'],
    ['nope', 'returned "nope"'],
    [[], 'returned an empty array'],
    [{ opcode: 99 }, 'returned a bad frame spec: opcode must be 0-15'],
    [{ opcode: 1, payload: 5 }, 'returned a bad frame spec: payload must be a string or a Buffer'],
    [{ opcode: 1, maskKey: 'xyz' }, 'returned a bad frame spec: maskKey must be 4 bytes'],
    [{ opcode: 1, colour: 'red' }, 'returned a bad frame spec: unknown frame spec field "colour"'],
  ])('reports a hook that returns %j and forwards the frame unchanged', (value, message) => {
    const h = harness([{ by: 'script', onFrame: () => value }]);
    h.stage.push('client', hello);
    expect(h.sent('client').subarray(request().length)).toEqual(hello);
    expect(h.errors()).toHaveLength(1);
    expect(h.errors()[0]).toContain(`script onFrame ${message}`);
    expect(h.errors()[0]).toMatch(/for client frame #0; it went on unchanged$/);
  });

  it('a rejected promise is reported like a throw', async () => {
    const h = harness([{ by: 'script', onFrame: async () => { throw new Error('late boom'); } }]);
    h.stage.push('client', hello);
    await new Promise((r) => setImmediate(r));
    expect(h.sent('client').subarray(request().length)).toEqual(hello);
    expect(h.errors()).toEqual(['script onFrame threw for client frame #0: late boom; it went on unchanged']);
  });
});

describe('Interceptor: slow hooks and holding', () => {
  it('a slow hook holds only its own direction, in order, and pauses its reader past the limit', async () => {
    let release: () => void = () => undefined;
    const resumed: string[] = [];
    const h = harness([{ by: 'script', onFrame: (f) => (f.dir === 'client' && f.index === 0 ? new Promise<undefined>((r) => (release = () => r(undefined))) : undefined) }]);
    (h.stage as unknown as { o: { resume: (d: string) => void } }).o.resume = (d) => resumed.push(d);
    h.stage.push('client', hello);
    h.stage.push('client', ping);
    h.stage.push('server', serverText);
    expect(h.sent('client')).toEqual(request());
    expect(h.sent('server').subarray(response().length)).toEqual(serverText);
    // Held bytes count: past the limit the reader pauses.
    const big = buildFrame({ opcode: 2, mask: MASK, payload: Buffer.alloc(1024 * 1024 + 10) });
    expect(h.stage.full('client')).toBe(false);
    h.stage.push('client', big);
    expect(h.stage.held('client')).toBeGreaterThan(1024 * 1024);
    expect(h.stage.full('client')).toBe(true);
    release();
    await new Promise((r) => setImmediate(r));
    // (Buffer.equals: jest's toEqual compares a MiB byte by byte, slowly.)
    expect(h.sent('client').subarray(request().length).equals(Buffer.concat([hello, ping, big]))).toBe(true);
    expect(h.stage.held('client')).toBe(0);
    expect(resumed).toEqual(['client']);
  });

  it('reports a hook that never answered when the connection ends, and frees what it held', () => {
    const h = harness([{ by: 'script', onFrame: () => new Promise(() => undefined) }]);
    h.stage.push('client', Buffer.concat([hello, ping]));
    h.stage.finish();
    expect(h.errors()).toEqual(['script onFrame for client frame #0 had not answered when the connection ended; 2 held client frames were never sent']);
    expect(h.stage.held('client')).toBe(0);
  });

  it('streams a frame larger than maxHeld through unseen, and says so', () => {
    const seen: number[] = [];
    const h = harness([{ by: 'script', onFrame: (f) => void seen.push(f.index) }], { maxHeld: 1000 });
    const big = buildFrame({ opcode: 2, mask: MASK, payload: Buffer.alloc(5000, 7) });
    for (let i = 0; i < big.length; i += 512) h.stage.push('client', big.subarray(i, i + 512));
    h.stage.push('client', hello);
    expect(h.sent('client').subarray(request().length)).toEqual(Buffer.concat([big, hello]));
    expect(seen).toEqual([1]);
    expect(h.errors()).toEqual(['a client frame of 5008 bytes is larger than the 1000 bytes held for hooks: forwarded unchanged, unseen by them']);
  });
});

describe('Interceptor: onMessage', () => {
  it('holds a fragmented message (control frames in between go on at once) and replaces it whole', () => {
    const messages: string[] = [];
    const h = harness([
      {
        by: 'script',
        onMessage: (m) => {
          messages.push(m.bytes.toString());
          return { opcode: 1, payload: m.bytes.toString().toUpperCase() };
        },
      },
    ]);
    const a = buildFrame({ opcode: 1, fin: false, mask: MASK, payload: 'Hello, ' });
    const b = buildFrame({ opcode: 0, mask: MASK, payload: 'world' });
    h.stage.push('client', Buffer.concat([a, ping, b]));
    expect(messages).toEqual(['Hello, world']);
    const expected = Buffer.concat([ping, buildFrame({ opcode: 1, mask: MASK, payload: 'HELLO, WORLD' })]);
    expect(h.sent('client').subarray(request().length).toString('hex')).toBe(expected.toString('hex'));
    expect(h.intercepts()).toMatchObject([{ action: 'replace', hook: 'onMessage', index: 0, frames: 2 }]);
  });
});

describe('Interceptor: permessage-deflate with context takeover (RFC 7692 §7.2.2)', () => {
  /** A sender with context takeover: each message deflated against the ones before. */
  function contextSender(): (text: string) => Buffer {
    const deflater = new MessageDeflater(false);
    return (text) => buildFrame({ opcode: 1, rsv1: true, mask: MASK, payload: deflater.deflate(Buffer.from(text)) });
  }

  it('re-encodes the direction once a compressed message was changed, so later messages still inflate', () => {
    const send = contextSender();
    const texts = ['the same words again and again', 'the same words again and again!', 'the same words again, and again', 'again and again the same words'];
    const h = harness([{ by: 'script', onMessage: (m) => (m.bytes.toString().endsWith('!') ? { opcode: 1, payload: 'changed: ' + m.bytes.toString(), compress: true } : undefined) }], {
      extensions: 'permessage-deflate',
    });
    for (const t of texts) h.stage.push('client', send(t));
    const got = received(h).filter((e): e is MessageEvent => e.event === 'message').map((e) => e.text);
    expect(got).toEqual([texts[0], 'changed: ' + texts[1], texts[2], texts[3]]);
    expect(received(h).filter((e) => e.event === 'error')).toEqual([]);
    expect(h.intercepts().map((e) => [e.action, e.by])).toEqual([
      ['replace', 'script'],
      ['reencode', 'proxy'],
    ]);
    expect(h.intercepts()[1].explain).toMatch(/from here on the proxy inflates and deflates again every compressed client message/);
  });

  it('the same stream without the stage breaks: the check above can fail', () => {
    // Replacing message 2 by hand, without re-encoding message 3, makes it fail to inflate.
    const send = contextSender();
    const m1 = send('the same words again and again');
    send('the same words again and again!');
    const m3 = send('the same words again, and again');
    const replaced = buildFrame({ opcode: 1, mask: MASK, payload: 'plain' });
    const events: WsEvent[] = [];
    const d = new ConnectionDecoder({ conn: 1, onEvent: (e) => events.push(e) });
    d.push('client', request('permessage-deflate'), 1);
    d.push('server', response('permessage-deflate'), 2);
    d.push('client', Buffer.concat([m1, replaced, m3]), 3);
    const texts = events.filter((e): e is MessageEvent => e.event === 'message').map((e) => e.text);
    expect(texts[2]).not.toBe('the same words again, and again');
  });

  it('stays byte-exact while nothing changes', () => {
    const send = contextSender();
    const frames = ['one one one', 'one one one two', 'two two one'].map(send);
    const h = harness([{ by: 'script', onMessage: () => undefined }], { extensions: 'permessage-deflate' });
    for (const f of frames) h.stage.push('client', f);
    expect(h.sent('client').subarray(request('permessage-deflate').length)).toEqual(Buffer.concat(frames));
  });
});
