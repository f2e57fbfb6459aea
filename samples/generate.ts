/**
 * Generates the sample library: capture files (docs/design.md "Capture files") built byte by
 * byte, and samples/README.md listing them. Run it after changing a sample:
 *
 *   npx ts-node --transpile-only samples/generate.ts
 *   UPDATE_GOLDEN=1 npx jest test/samples.test.ts      # then review `git diff samples/`
 *
 * Everything is deterministic (fixed timestamps, fixed masking keys, zlib's output for a
 * given input), so running it twice gives the same files; test/samples.test.ts checks that
 * the committed captures are what this script generates.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { encode as msgpackEncode } from '@msgpack/msgpack';
import { encode as cborEncode } from 'cbor-x';
import { dataLines, headerLine } from '../src/capture';
import { buildFrame, type FrameSpec } from '../src/decoder/build';
import type { Direction } from '../src/decoder/events';
import { computeAccept } from '../src/decoder/handshake';

export interface Sample {
  name: string;
  /** One line for samples/README.md. */
  description: string;
  /** The capture file's content. */
  capture: string;
  /**
   * Holds zlib output: another zlib build (e.g. a newer Node's) may compress to other
   * (equally valid) bytes, so the test does not require these to be regenerated identically.
   */
  zlib?: boolean;
}

/** Every capture starts at 2026-01-01T00:00:00Z; each record is 1 ms after the previous one. */
const BASE_TS = Date.UTC(2026, 0, 1);
/** RFC 6455 §1.3's example key, whose accept value is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=. */
const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

type Headers = [string, string][];

/** One connection's capture, record by record. */
class Capture {
  private readonly lines = [headerLine()];
  private ts = BASE_TS;
  private readonly sent = { client: 0, server: 0 };
  /** Masking keys for client frames: the RFC's 37 fa 21 3d first, then a fixed sequence. */
  private maskIndex = 0;

  constructor(
    readonly conn = 1,
    client = '127.0.0.1:50000',
    target = 'ws://127.0.0.1:8080/json',
  ) {
    this.lines.push(JSON.stringify({ event: 'open', ts: this.tick(), conn, client, target }));
  }

  private tick(): number {
    const ts = this.ts;
    this.ts += 1;
    return ts;
  }

  nextMask(): Buffer {
    const i = this.maskIndex++;
    if (i === 0) return Buffer.from('37fa213d', 'hex');
    const key = Buffer.alloc(4);
    for (let j = 0; j < 4; j++) key[j] = (i * 73 + j * 151 + 17) & 0xff;
    return key;
  }

  /** Raw bytes from one side, as one chunk. */
  data(dir: Direction, bytes: Buffer | string): this {
    const chunk = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    this.sent[dir] += chunk.length;
    this.lines.push(...dataLines(this.conn, dir, this.tick(), chunk));
    return this;
  }

  /** A client frame, masked with the next key unless the spec says `mask: null`. */
  client(spec: FrameSpec): this {
    return this.data('client', buildFrame({ ...spec, mask: spec.mask === undefined ? this.nextMask() : spec.mask }));
  }

  /** A server frame, unmasked unless the spec gives a key. */
  server(spec: FrameSpec): this {
    return this.data('server', buildFrame(spec));
  }

  end(reason: string): string {
    this.lines.push(JSON.stringify({ event: 'end', ts: this.tick(), conn: this.conn, reason, bytes: { ...this.sent } }));
    return this.lines.join('\n') + '\n';
  }
}

function head(startLine: string, headers: Headers): string {
  return `${startLine}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
}

interface HandshakeSpec {
  /** Changes the request headers (default: a complete valid request for /json). */
  request?: (headers: Headers) => Headers;
  requestLine?: string;
  /** Changes the response headers (default: a valid 101 for the request's key). */
  response?: (headers: Headers) => Headers;
  statusLine?: string;
  key?: string;
  /** Changes the request's raw text (for what headers cannot express). */
  requestText?: (text: string) => string;
}

function requestHeaders(key: string): Headers {
  return [
    ['Host', '127.0.0.1:8080'],
    ['User-Agent', 'wsscope-samples'],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ];
}

/** A handshake like gorilla/websocket's: the 101 carries exactly these three headers. */
function handshake(capture: Capture, spec: HandshakeSpec = {}): Capture {
  const key = spec.key ?? RFC_KEY;
  const request = (spec.request ?? ((h) => h))(requestHeaders(key));
  const response = (spec.response ?? ((h) => h))([
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', computeAccept(key)],
  ]);
  const requestText = head(spec.requestLine ?? 'GET /json HTTP/1.1', request);
  capture.data('client', spec.requestText ? spec.requestText(requestText) : requestText);
  capture.data('server', head(spec.statusLine ?? 'HTTP/1.1 101 Switching Protocols', response));
  return capture;
}

const add = (name: string, value: string) => (h: Headers): Headers => [...h, [name, value]];
const without = (name: string) => (h: Headers): Headers => h.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
const replace = (name: string, value: string) => (h: Headers): Headers => h.map(([n, v]) => [n, n.toLowerCase() === name.toLowerCase() ? value : v]);

const close = (code: number, reason = '') => {
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code);
  body.write(reason, 2);
  return body;
};

/** What the seed's Go server sends for a text message p (encoding/json, then json.Encoder's newline). */
function goUserJson(p: string): string {
  const esc = (s: string) => JSON.stringify(s).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return `{"name":${esc(p)},"age":18,"description":${esc(p + '很厉害!!!!')}}\n`;
}

// ---------------------------------------------------------------------------------------
// permessage-deflate (RFC 7692 §7.2.1): DEFLATE with a sync flush, minus its last 4 bytes
// (00 00 ff ff), one compressor per direction, kept between messages unless
// *_no_context_takeover was negotiated.

class Compressor {
  private stream: zlib.DeflateRaw | null = null;

  constructor(private readonly contextTakeover: boolean) {}

  async compress(data: Buffer | string): Promise<Buffer> {
    const input = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!this.contextTakeover) return strip(zlib.deflateRawSync(input, { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
    this.stream ??= zlib.createDeflateRaw();
    const stream = this.stream;
    const parts: Buffer[] = [];
    const onData = (part: Buffer) => parts.push(part);
    stream.on('data', onData);
    stream.write(input);
    await new Promise<void>((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    stream.off('data', onData);
    return strip(Buffer.concat(parts));
  }

  close(): void {
    this.stream?.close();
  }
}

function strip(deflated: Buffer): Buffer {
  const tail = deflated.subarray(deflated.length - 4).toString('hex');
  if (tail !== '0000ffff') throw new Error(`a sync flush ends with 00 00 ff ff, got ${tail}`);
  return deflated.subarray(0, deflated.length - 4);
}

// ---------------------------------------------------------------------------------------
// The samples

/** Bytes 0, 1, ..., 255, 0, 1, ... : a payload whose every byte says where it is. */
const counting = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i & 0xff));

async function rfcExamples(): Promise<Sample[]> {
  // RFC 6455 §1.2/§1.3: the opening handshake example (with its key and accept value).
  const c = new Capture(1, '192.0.2.10:50000', 'ws://server.example.com/chat');
  handshake(c, {
    requestLine: 'GET /chat HTTP/1.1',
    request: () => [
      ['Host', 'server.example.com'],
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', RFC_KEY],
      ['Origin', 'http://example.com'],
      ['Sec-WebSocket-Protocol', 'chat, superchat'],
      ['Sec-WebSocket-Version', '13'],
    ],
    response: (h) => [...h, ['Sec-WebSocket-Protocol', 'chat']],
  });
  // §5.7, in order: "A single-frame masked text message" from the client (mask 37 fa 21 3d).
  c.client({ opcode: 1, payload: 'Hello' });
  // "A single-frame unmasked text message" and "A fragmented unmasked text message" from the server.
  c.server({ opcode: 1, payload: 'Hello' });
  c.server({ opcode: 1, fin: false, payload: 'Hel' });
  c.server({ opcode: 0, payload: 'lo' });
  // "Unmasked Ping request and masked Ping response": the server pings, the client pongs.
  c.server({ opcode: 9, payload: 'Hello' });
  c.client({ opcode: 10, payload: 'Hello', mask: Buffer.from('37fa213d', 'hex') });
  // "256 bytes binary message in a single unmasked frame" and "64KiB binary message in a
  // single unmasked frame" (the RFC does not give their content: here, counting bytes).
  c.server({ opcode: 2, payload: counting(256) });
  c.server({ opcode: 2, payload: counting(65536) });
  return [
    {
      name: 'rfc6455-examples',
      description:
        'RFC 6455 §1.2 handshake example (key dGhlIHNhbXBsZSBub25jZQ==, subprotocol chat), then every frame example of §5.7: masked and unmasked "Hello", "Hel"+"lo" fragments, ping/pong, 256 B and 64 KiB binary',
      capture: c.end('server closed'),
    },
  ];
}

function userJsonSession(): Sample {
  const c = new Capture(1, '127.0.0.1:50000', 'ws://127.0.0.1:8080/json');
  handshake(c, { key: 'AAECAwQFBgcICQoLDA0ODw==', request: (h) => [...h, ['Origin', 'http://127.0.0.1:9000']] });
  for (const name of ['Ann', '<Tom & Jerry>']) {
    c.client({ opcode: 1, payload: name });
    c.server({ opcode: 1, payload: goUserJson(name) });
  }
  c.client({ opcode: 2, payload: Buffer.from('00010203', 'hex') }); // binary: no answer (the seed ignores it)
  c.client({ opcode: 8, payload: close(1000) });
  c.server({ opcode: 8, payload: close(1000) }); // gorilla's default close handler echoes the code, no reason
  return {
    name: 'user-json-session',
    description:
      'a session with the built-in backend (the seed\'s Go server): "Ann" and `<Tom & Jerry>` answered with User JSON as Go\'s encoding/json writes it (\\u003c escapes, trailing newline), a binary message with no answer, close 1000 echoed',
    capture: c.end('server closed'),
  };
}

function fragmentation(): Sample {
  const c = handshake(new Capture());
  // A text message in three fragments from the client, with a ping between the first two
  // and a pong answering it between the last two (§5.4: control frames MAY be injected).
  c.client({ opcode: 1, fin: false, payload: 'The quick ' });
  c.client({ opcode: 9, payload: 'are you there?' });
  c.server({ opcode: 10, payload: 'are you there?' });
  c.client({ opcode: 0, fin: false, payload: 'brown fox ' });
  c.client({ opcode: 0, payload: 'jumps' });
  // A binary message in two fragments from the server with a ping in between; and a text
  // fragment boundary that cuts a UTF-8 character in two (é = c3 a9), which is allowed.
  c.server({ opcode: 2, fin: false, payload: Buffer.from('0102', 'hex') });
  c.server({ opcode: 9, payload: '' });
  c.client({ opcode: 10, payload: '' });
  c.server({ opcode: 0, payload: Buffer.from('0304', 'hex') });
  c.server({ opcode: 1, fin: false, payload: Buffer.from('caf' + '\xc3', 'latin1') });
  c.server({ opcode: 0, payload: Buffer.from('\xa9!', 'latin1') });
  return {
    name: 'fragmentation',
    description:
      'fragmented messages with control frames between the fragments: a 3-fragment text with a ping and its pong in between, a 2-fragment binary with a ping, a text cut inside a UTF-8 character',
    capture: c.end('client closed'),
  };
}

function lengthForms(): Sample {
  const c = handshake(new Capture());
  // §5.2: 125 is the largest 7-bit length, 126 the smallest in 16 bits, 65535 the largest
  // in 16 bits, 65536 the smallest in 64 bits.
  for (const n of [125, 126, 65535, 65536]) c.client({ opcode: 2, payload: counting(n) });
  for (const n of [0, 125, 126]) c.server({ opcode: 1, payload: 'x'.repeat(n) });
  return {
    name: 'length-forms',
    description: 'the three payload length forms at their edges: 125 (7-bit), 126 and 65535 (16-bit), 65536 (64-bit) from the client; 0, 125, 126 from the server',
    capture: c.end('client closed'),
  };
}

function closeHandshakes(): Sample[] {
  const client = handshake(new Capture());
  client.client({ opcode: 1, payload: 'bye now' });
  client.client({ opcode: 8, payload: close(1000, 'done') });
  client.server({ opcode: 8, payload: close(1000, 'done') });
  const server = handshake(new Capture());
  server.server({ opcode: 1, payload: 'shutting down' });
  server.server({ opcode: 8, payload: close(1001, 'server going away') });
  server.client({ opcode: 8, payload: close(1001) });
  const empty = handshake(new Capture());
  empty.client({ opcode: 8, payload: '' });
  empty.server({ opcode: 8, payload: '' });
  return [
    {
      name: 'close-client-first',
      description: 'the client starts the closing handshake (1000 "done"), the server echoes it and closes the TCP connection (§7.1.1)',
      capture: client.end('server closed'),
    },
    {
      name: 'close-server-first',
      description: 'the server starts the closing handshake (1001 "server going away"), the client answers 1001 with no reason',
      capture: server.end('server closed'),
    },
    {
      name: 'close-empty',
      description: 'close frames with an empty body (no status code: allowed, §5.5.1) on both sides',
      capture: empty.end('server closed'),
    },
  ];
}

async function deflateSession(contextTakeover: boolean): Promise<Sample> {
  const params = contextTakeover ? 'permessage-deflate' : 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';
  const c = handshake(new Capture(), {
    request: add('Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'),
    response: add('Sec-WebSocket-Extensions', params),
  });
  const client = new Compressor(contextTakeover);
  const server = new Compressor(contextTakeover);
  for (const text of ['Hello', 'Hello', 'Hello, Hello, Hello!']) {
    c.client({ opcode: 1, rsv1: true, payload: await client.compress(text) });
    c.server({ opcode: 1, rsv1: true, payload: await server.compress(goUserJson(text)) });
  }
  // A compressed message in two fragments: RSV1 only on the first (RFC 7692 §6.1).
  const compressed = await client.compress('fragmented and compressed');
  const cut = compressed.length >> 1;
  c.client({ opcode: 1, rsv1: true, fin: false, payload: compressed.subarray(0, cut) });
  c.client({ opcode: 0, payload: compressed.subarray(cut) });
  // Not every message must be compressed: RSV1 clear means this one is not.
  c.client({ opcode: 1, payload: 'plain' });
  client.close();
  server.close();
  return contextTakeover
    ? {
        name: 'deflate-context-takeover',
        description:
          'permessage-deflate with context takeover: the second "Hello" is a back-reference into the first (a shorter payload), a compressed message in two fragments, an uncompressed one',
        capture: c.end('client closed'),
        zlib: true,
      }
    : {
        name: 'deflate-no-context-takeover',
        description: 'permessage-deflate with server_ and client_no_context_takeover: every message is compressed on its own, so both "Hello"s are the same bytes',
        capture: c.end('client closed'),
        zlib: true,
      };
}

/** One capture per rule of src/decoder/constants.ts: a valid context, then what breaks it. */
async function violations(): Promise<Sample[]> {
  const samples: Sample[] = [];
  const rule = (id: string, description: string, build: (c: Capture) => void | Promise<void>, spec?: HandshakeSpec) => async () => {
    const c = new Capture();
    handshake(c, spec);
    await build(c);
    samples.push({ name: `violation-${id}`, description, capture: c.end('server closed'), zlib: id === 'rsv1-on-continuation-frame' });
  };
  const hello = (c: Capture) => {
    c.client({ opcode: 1, payload: 'Hello' });
  };
  const deflate: HandshakeSpec = {
    request: add('Sec-WebSocket-Extensions', 'permessage-deflate'),
    response: add('Sec-WebSocket-Extensions', 'permessage-deflate'),
  };
  const steps = [
    // The opening handshake (§4).
    rule('malformed-http', 'a request header line without a colon', hello, {
      requestText: (text) => text.replace(/\r\n\r\n$/, '\r\nX-No-Colon-Here\r\n\r\n'),
    }),
    rule('bad-method', 'the upgrade request is a POST', hello, { requestLine: 'POST /json HTTP/1.1' }),
    rule('missing-host', 'the upgrade request has no Host header', hello, { request: without('Host') }),
    rule('missing-upgrade', 'the upgrade request has no Upgrade header', hello, { request: without('Upgrade') }),
    rule('missing-connection', 'the upgrade request says Connection: keep-alive', hello, { request: replace('Connection', 'keep-alive') }),
    rule('bad-key', 'Sec-WebSocket-Key is the base64 of 8 bytes, not 16', hello, { key: 'AAECAwQFBgc=' }),
    rule('bad-version', 'Sec-WebSocket-Version: 8 (a draft), not 13', hello, { request: replace('Sec-WebSocket-Version', '8') }),
    rule('bad-status', 'the server refuses the upgrade with 403 Forbidden', () => {}, {
      statusLine: 'HTTP/1.1 403 Forbidden',
      response: () => [['Content-Length', '0']],
    }),
    rule('response-missing-upgrade', 'the 101 response has no Upgrade header', hello, { response: without('Upgrade') }),
    rule('response-missing-connection', 'the 101 response has no Connection header', hello, { response: without('Connection') }),
    rule('bad-accept', 'Sec-WebSocket-Accept is not base64(SHA-1(key + GUID))', hello, { response: replace('Sec-WebSocket-Accept', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=') }),
    rule('unrequested-extension', 'the server accepts permessage-deflate that the client never offered', hello, { response: add('Sec-WebSocket-Extensions', 'permessage-deflate') }),
    rule('unrequested-protocol', 'the server picks subprotocol "chat" that the client never offered', hello, { response: add('Sec-WebSocket-Protocol', 'chat') }),
    rule('bad-deflate-params', 'the server accepts permessage-deflate with server_max_window_bits=7 (must be 8-15)', hello, {
      request: add('Sec-WebSocket-Extensions', 'permessage-deflate'),
      response: add('Sec-WebSocket-Extensions', 'permessage-deflate; server_max_window_bits=7'),
    }),
    // Framing (§5.1, §5.2).
    rule('unmasked-client-frame', 'the client sends "Hello" unmasked (81 05 ...)', (c) => {
      c.client({ opcode: 1, payload: 'Hello', mask: null });
    }),
    rule('masked-server-frame', 'the server sends "Hello" masked (81 85 ...)', (c) => {
      c.server({ opcode: 1, payload: 'Hello', mask: Buffer.from('37fa213d', 'hex') });
    }),
    rule('rsv-without-extension', 'RSV1 set with no extension negotiated', (c) => {
      c.client({ opcode: 1, rsv1: true, payload: 'Hello' });
    }),
    rule('reserved-opcode', 'opcode 0x3 (reserved for further non-control frames)', (c) => {
      c.client({ opcode: 3, payload: 'Hello' });
    }),
    rule('non-minimal-length', '"Hi" with its length in the 16-bit form (7e 00 02)', (c) => {
      c.client({ opcode: 1, payload: 'Hi', lengthForm: 16 });
    }),
    rule('length-msb-set', 'a 64-bit length with its most significant bit set: the stream cannot be followed past it', (c) => {
      c.client({ opcode: 1, payload: 'ok' });
      c.data('client', Buffer.from('82ff8000000000000005' + '37fa213d' + '0102030405', 'hex'));
    }),
    // Fragmentation (§5.4).
    rule('unexpected-continuation', 'a continuation frame with no fragmented message open', (c) => {
      c.client({ opcode: 0, payload: 'lo' });
    }),
    rule('interleaved-data-frame', 'a new text frame while a fragmented text message is still open', (c) => {
      c.client({ opcode: 1, fin: false, payload: 'Hel' });
      c.client({ opcode: 1, payload: 'Hello' });
    }),
    rule('fragmented-control-frame', 'a ping with FIN clear', (c) => {
      c.client({ opcode: 9, fin: false, payload: 'ping' });
    }),
    // Control frames (§5.5), close (§5.5.1, §7.4).
    rule('control-frame-too-long', 'a ping with a 126-byte payload (control frames carry at most 125)', (c) => {
      c.client({ opcode: 9, payload: 'p'.repeat(126) });
    }),
    rule('close-payload-length-1', 'a close frame with a 1-byte body', (c) => {
      c.client({ opcode: 8, payload: Buffer.from('03', 'hex') });
    }),
    rule('invalid-close-code', 'a close frame with code 1005 (must never be sent)', (c) => {
      c.client({ opcode: 8, payload: close(1005) });
    }),
    rule('invalid-close-reason-utf8', 'a close frame whose reason is not UTF-8 (ff fe)', (c) => {
      c.client({ opcode: 8, payload: Buffer.concat([close(1000), Buffer.from('fffe', 'hex')]) });
    }),
    rule('data-after-close', 'the client sends a text message after its close frame', (c) => {
      c.client({ opcode: 8, payload: close(1000) });
      c.client({ opcode: 1, payload: 'one more thing' });
    }),
    // UTF-8 (§8.1).
    rule('invalid-utf8', 'a text message that is not UTF-8: c3 28 (a lead byte without its continuation)', (c) => {
      c.client({ opcode: 1, fin: false, payload: Buffer.from('6f6bc3', 'hex') });
      c.client({ opcode: 0, payload: Buffer.from('28', 'hex') });
    }),
    // permessage-deflate (RFC 7692).
    rule('rsv1-on-control-frame', 'permessage-deflate negotiated, and a ping with RSV1 set', (c) => {
      c.client({ opcode: 9, rsv1: true, payload: '' });
    }, deflate),
    rule('rsv1-on-continuation-frame', 'permessage-deflate negotiated, and RSV1 set on a continuation frame', async (c) => {
      const compressed = await new Compressor(false).compress('Hello, fragments');
      c.client({ opcode: 1, rsv1: true, fin: false, payload: compressed.subarray(0, 4) });
      c.client({ opcode: 0, rsv1: true, payload: compressed.subarray(4) });
    }, deflate),
    rule('inflate-failed', 'permessage-deflate negotiated, and a compressed message that is not DEFLATE data (block type 11)', (c) => {
      c.client({ opcode: 1, rsv1: true, payload: Buffer.from('ffffffff', 'hex') });
    }, deflate),
  ];
  for (const step of steps) await step();
  return samples;
}

// ---------------------------------------------------------------------------------------
// Application protocols inside the messages (src/protocols): one session per protocol.

/** A connection to `path` whose handshake offers and accepts `subprotocol` (when given). */
function appConnection(path: string, subprotocol?: { offer: string; accept: string }): Capture {
  const c = new Capture(1, '127.0.0.1:50000', `ws://127.0.0.1:8080${path}`);
  return handshake(c, {
    requestLine: `GET ${path} HTTP/1.1`,
    request: subprotocol ? add('Sec-WebSocket-Protocol', subprotocol.offer) : undefined,
    response: subprotocol ? add('Sec-WebSocket-Protocol', subprotocol.accept) : undefined,
  });
}

function protocolSamples(): Sample[] {
  const text = (c: Capture, dir: Direction, payload: string) => (dir === 'client' ? c.client({ opcode: 1, payload }) : c.server({ opcode: 1, payload }));

  const sio = appConnection('/socket.io/?EIO=4&transport=websocket');
  text(sio, 'server', '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
  text(sio, 'client', '40');
  text(sio, 'server', '40{"sid":"wZX3oN0bSVIhsaknAAAI"}');
  text(sio, 'client', '421["chat","hi"]');
  text(sio, 'server', '431["got hi"]');
  text(sio, 'server', '42["news",{"title":"hello"}]');
  text(sio, 'server', '2');
  text(sio, 'client', '3');
  text(sio, 'client', '451-2["upload","f.bin",{"_placeholder":true,"num":0}]');
  sio.client({ opcode: 2, payload: Buffer.from('0102030405', 'hex') });
  text(sio, 'server', '432[5]');
  text(sio, 'client', '40/admin,');
  text(sio, 'server', '40/admin,{"sid":"aXbYcZ0dEfGhIjKlAAAJ"}');
  text(sio, 'server', '42/admin,["hello",{"admin":true}]');
  text(sio, 'client', '41/admin,');

  const stompFrames = appConnection('/stomp', { offer: 'v12.stomp, v11.stomp, v10.stomp', accept: 'v12.stomp' });
  text(stompFrames, 'client', 'CONNECT\naccept-version:1.2,1.1,1.0\nhost:127.0.0.1\nheart-beat:10000,10000\n\n\0');
  text(stompFrames, 'server', 'CONNECTED\nversion:1.2\nheart-beat:10000,10000\nserver:sample-broker/1.0\n\n\0');
  text(stompFrames, 'client', 'SUBSCRIBE\nid:sub-0\ndestination:/topic/chat\n\n\0');
  text(stompFrames, 'client', 'SEND\ndestination:/topic/chat\ncontent-type:text/plain\nreceipt:r-1\ncontent-length:5\n\nhello\0');
  text(stompFrames, 'server', 'RECEIPT\nreceipt-id:r-1\n\n\0');
  text(stompFrames, 'server', 'MESSAGE\ndestination:/topic/chat\nsubscription:sub-0\nmessage-id:m-0\nnote:a\\cb\\nc\ncontent-length:5\n\nhello\0');
  text(stompFrames, 'client', '\n');
  text(stompFrames, 'server', '\n');
  // One SEND in two messages, then two frames in one message.
  text(stompFrames, 'client', 'SEND\ndestination:/topic/chat\n');
  text(stompFrames, 'client', '\nsplit\0');
  text(stompFrames, 'server', 'MESSAGE\ndestination:/topic/chat\nsubscription:sub-0\nmessage-id:m-1\n\nsplit\0MESSAGE\ndestination:/topic/chat\nsubscription:sub-0\nmessage-id:m-2\n\nagain\0');
  text(stompFrames, 'client', 'DISCONNECT\nreceipt:r-2\n\n\0');
  text(stompFrames, 'server', 'RECEIPT\nreceipt-id:r-2\n\n\0');

  const sockjs = appConnection('/stomp/123/x1b2c3d4/websocket');
  text(sockjs, 'server', 'o');
  text(sockjs, 'client', JSON.stringify(['CONNECT\naccept-version:1.2,1.1,1.0\nheart-beat:0,0\n\n\0']));
  text(sockjs, 'server', 'a' + JSON.stringify(['CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0']));
  text(sockjs, 'client', JSON.stringify(['SUBSCRIBE\nid:sub-0\ndestination:/topic/chat\n\n\0']));
  text(sockjs, 'server', 'h');
  text(sockjs, 'server', 'a' + JSON.stringify(['MESSAGE\ndestination:/topic/chat\nsubscription:sub-0\nmessage-id:1\n\none\0', 'MESSAGE\ndestination:/topic/chat\nsubscription:sub-0\nmessage-id:2\n\ntwo\0']));
  text(sockjs, 'server', 'c[3000,"Go away!"]');

  const gql = appConnection('/graphql', { offer: 'graphql-transport-ws', accept: 'graphql-transport-ws' });
  text(gql, 'client', '{"type":"connection_init","payload":{"token":"secret"}}');
  text(gql, 'server', '{"type":"connection_ack"}');
  text(gql, 'client', '{"id":"1","type":"subscribe","payload":{"query":"subscription OnGreeting($lang: String) { greetings(lang: $lang) }","variables":{"lang":"fr"}}}');
  text(gql, 'server', '{"id":"1","type":"next","payload":{"data":{"greetings":"Bonjour"}}}');
  text(gql, 'server', '{"id":"1","type":"next","payload":{"data":{"greetings":"Salut"}}}');
  text(gql, 'client', '{"type":"ping"}');
  text(gql, 'server', '{"type":"pong"}');
  text(gql, 'server', '{"id":"1","type":"complete"}');

  const legacy = appConnection('/subscriptions', { offer: 'graphql-ws', accept: 'graphql-ws' });
  text(legacy, 'client', '{"type":"connection_init","payload":{}}');
  text(legacy, 'server', '{"type":"connection_ack"}');
  text(legacy, 'server', '{"type":"ka"}');
  text(legacy, 'client', '{"id":"1","type":"start","payload":{"query":"subscription { newMessage { text } }","variables":{}}}');
  text(legacy, 'server', '{"id":"1","type":"data","payload":{"data":{"newMessage":{"text":"hi"}}}}');
  text(legacy, 'client', '{"id":"1","type":"stop"}');
  text(legacy, 'server', '{"id":"1","type":"complete"}');

  const cable = appConnection('/cable', { offer: 'actioncable-v1-json, actioncable-unsupported', accept: 'actioncable-v1-json' });
  const chat = JSON.stringify({ channel: 'ChatChannel', room: 'lobby' });
  text(cable, 'server', '{"type":"welcome"}');
  text(cable, 'client', JSON.stringify({ command: 'subscribe', identifier: chat }));
  text(cable, 'server', JSON.stringify({ identifier: chat, type: 'confirm_subscription' }));
  text(cable, 'server', '{"type":"ping","message":1767225600}');
  text(cable, 'client', JSON.stringify({ command: 'message', identifier: chat, data: JSON.stringify({ action: 'speak', message: 'hello' }) }));
  text(cable, 'server', JSON.stringify({ identifier: chat, message: { user: 'ann', message: 'hello' } }));
  text(cable, 'server', '{"type":"disconnect","reason":"server_restart","reconnect":true}');

  const rpc = appConnection('/rpc');
  text(rpc, 'client', '{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}');
  text(rpc, 'client', '{"jsonrpc":"2.0","method":"update","params":[1,2,3,4,5]}');
  text(rpc, 'server', '{"jsonrpc":"2.0","result":19,"id":1}');
  text(rpc, 'client', '[{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"2"},{"jsonrpc":"2.0","method":"foobar","id":"3"}]');
  text(rpc, 'server', '[{"jsonrpc":"2.0","result":7,"id":"2"},{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"3"}]');

  const bad = appConnection('/socket.io/?EIO=4&transport=websocket');
  text(bad, 'server', '0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}');
  text(bad, 'client', '42["chat"');
  text(bad, 'client', '42{"not":"an array"}');
  text(bad, 'client', '43["no id"]');
  text(bad, 'client', '9');
  text(bad, 'client', '2');
  text(bad, 'client', '451-["x",{"_placeholder":true,"num":0}]');
  text(bad, 'client', '42["y"]');

  return [
    {
      name: 'app-socketio',
      description:
        'Socket.IO v5 over Engine.IO v4 (path /socket.io/?EIO=4): the open packet, CONNECT, an event with ack 1 and its ACK (linked), a ping/pong heartbeat, a binary event whose attachment is the next (binary) message, a second namespace /admin',
      capture: sio.end('client closed'),
    },
    {
      name: 'app-stomp',
      description:
        'STOMP 1.2 (subprotocol v12.stomp): CONNECT/CONNECTED with heart-beats, SUBSCRIBE, SEND with a receipt and its RECEIPT (linked), MESSAGE with an escaped header (\\c, \\n), heart-beat newlines, a SEND split over two messages and two MESSAGEs in one',
      capture: stompFrames.end('client closed'),
    },
    {
      name: 'app-sockjs-stomp',
      description: 'SockJS framing (path /stomp/123/x1b2c3d4/websocket): o, h, a[...] and c[3000,"Go away!"] with the STOMP frames inside recognised in turn (app.inner)',
      capture: sockjs.end('server closed'),
    },
    {
      name: 'app-graphql-transport-ws',
      description: 'GraphQL over WebSocket (graphql-ws library, subprotocol graphql-transport-ws): init/ack, a subscription with variables, two next items and complete (linked to the subscribe by id), ping/pong',
      capture: gql.end('client closed'),
    },
    {
      name: 'app-graphql-ws',
      description: 'the legacy subscriptions-transport-ws protocol (subprotocol graphql-ws): init/ack, ka keep-alive, start, data, stop, complete',
      capture: legacy.end('client closed'),
    },
    {
      name: 'app-actioncable',
      description: 'Rails Action Cable (subprotocol actioncable-v1-json): welcome, subscribe with its JSON-in-JSON identifier, confirm_subscription, ping, a speak action (JSON-in-JSON data), a broadcast, disconnect',
      capture: cable.end('server closed'),
    },
    {
      name: 'app-json-rpc',
      description: 'JSON-RPC 2.0 with no subprotocol (recognised from the first message): the specification\'s examples, a request and its result (linked by id), a notification, a batch answered by a batch with an error',
      capture: rpc.end('client closed'),
    },
    {
      name: 'app-malformed-socketio',
      description: 'malformed Socket.IO and Engine.IO packets: bad JSON, an EVENT that is not an array, an ACK without id, an unknown packet type, a ping from the wrong side, a binary event whose attachment never comes (app.violations with socket.io- and engine.io- rule ids)',
      capture: bad.end('client closed'),
    },
  ];
}

/** A handshake offering and accepting `protocol` for `path` (application-protocol samples). */
function appHandshake(c: Capture, protocol: string | null, path = '/json'): Capture {
  return handshake(c, {
    requestLine: `GET ${path} HTTP/1.1`,
    request: protocol ? add('Sec-WebSocket-Protocol', protocol) : undefined,
    response: protocol ? add('Sec-WebSocket-Protocol', protocol) : undefined,
  });
}

const hexBytes = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** An MQTT capture (subprotocol mqtt on /mqtt): one message per [direction, hex bytes], binary unless opcode 1 is given. */
function mqttCapture(messages: [Direction, string, 1?][]): Capture {
  const c = appHandshake(new Capture(1, '127.0.0.1:50000', 'ws://127.0.0.1:8080/mqtt'), 'mqtt', '/mqtt');
  for (const [dir, hex, opcode = 2] of messages) c[dir]({ opcode, payload: hexBytes(hex) });
  return c;
}

/** MQTT, WAMP, SignalR, MessagePack, CBOR and wrapped payloads (src/protocols). */
function binaryProtocolSamples(): Sample[] {
  const out: Sample[] = [];
  // MQTT 3.1.1 as mqtt.js and aedes write it: one packet in several messages.
  {
    const c = mqttCapture([]);
    const connect = hexBytes('10 1c 0004 4d515454 04 ce 000a 0002 6331 0001 77 0003 627965 0001 75 0001 70');
    const cuts = [0, 1, 2, 8, 9, 10, 12, 16, 22, connect.length];
    for (let k = 1; k < cuts.length; k++) c.client({ opcode: 2, payload: connect.subarray(cuts[k - 1], cuts[k]) });
    c.server({ opcode: 2, payload: hexBytes('20 02') });
    c.server({ opcode: 2, payload: hexBytes('00 00') });
    c.client({ opcode: 2, payload: hexBytes('82 0c 0001 0003 742f31 01 0001 23 00') });
    c.server({ opcode: 2, payload: hexBytes('90 04 0001 01 00') });
    c.client({ opcode: 2, payload: hexBytes('33 0c 0003 742f31 0007 68656c6c6f') });
    c.server({ opcode: 2, payload: hexBytes('40 02 0007') });
    c.client({ opcode: 2, payload: hexBytes('34 08 0003 742f31 0008 79') });
    c.server({ opcode: 2, payload: hexBytes('50 02 0008') });
    c.client({ opcode: 2, payload: hexBytes('62 02 0008') });
    // Several packets in one message: PUBCOMP and the broker's delivery of t/1.
    c.server({ opcode: 2, payload: hexBytes('70 02 0008  32 0c 0003 742f31 0001 68656c6c6f') });
    c.client({ opcode: 2, payload: hexBytes('40 02 0001  c0 00') });
    c.server({ opcode: 2, payload: hexBytes('d0 00') });
    c.client({ opcode: 2, payload: hexBytes('e0 00') });
    out.push({ name: 'mqtt-v311', capture: c.end('client closed'),
      description: 'MQTT 3.1.1 (subprotocol mqtt): a CONNECT in nine messages as mqtt.js writes it (user, password, will), CONNACK in two as aedes writes it, SUBSCRIBE/SUBACK, QoS 1 retained PUBLISH/PUBACK, the QoS 2 flow, two packets in one message, PINGREQ/PINGRESP, DISCONNECT' });
  }
  // MQTT 5.0: properties and reason codes (MQTT 5.0 §2.2.2, §2.4).
  out.push({ name: 'mqtt-v5', capture: mqttCapture([
    ['client', '10 1b 0004 4d515454 05 02 003c 0c 11 0000012c 26 0001 61 0001 62 0002 6331'],
    ['server', '20 09 00 00 06 21 0014 22 000a'],
    ['client', '82 0a 0002 02 0b 05 0003 742f23 2e'],
    ['server', '90 04 0002 00 02'],
    ['client', '32 18 0003 742f31 0009 0e 23 0005 0b 02 0b 03 26 0001 6b 0001 76 6869'],
    ['server', '40 03 0009 10'],
    ['client', 'f0 08 18 06 15 0003 616263'],
    ['server', 'e0 01 8e'],
  ]).end('server closed'),
  description: 'MQTT 5.0: CONNECT with Session Expiry and a User Property, CONNACK with Receive Maximum and Topic Alias Maximum, SUBSCRIBE with a Subscription Identifier and options, PUBLISH with a Topic Alias and User Property, PUBACK "No matching subscribers", AUTH, DISCONNECT "Session taken over"' });
  out.push({ name: 'mqtt-violations', capture: mqttCapture([
    ['client', '10 0c 0004 4d515458 04 03 003c 0000'],
    ['client', '30 05 0003 742f23'],
    ['client', 'c1 00'],
    ['client', '30 02 0101', 1],
    ['client', '30 ff ff ff ff 01'],
  ]).end('client closed'),
  description: 'malformed MQTT: protocol name "MQTX" with the reserved connect flag, a PUBLISH to t/# (wildcard), PINGREQ with flags 0001, a packet in a text message (and cut short), a Remaining Length of five bytes (the direction is not decoded further)' });
  // WAMP v2 in its three serialisations (the spec's examples, §7-§13).
  const wampMsgs: [Direction, unknown][] = [
    ['client', [1, 'realm1', { roles: { caller: {}, subscriber: {} } }]],
    ['server', [2, 9129137332, { roles: { dealer: {}, broker: {} } }]],
    ['client', [48, 7814135, {}, 'com.myapp.add2', [23, 7]]],
    ['server', [50, 7814135, {}, [30]]],
    ['client', [32, 713845233, {}, 'com.myapp.mytopic1']],
    ['server', [33, 713845233, 5512315355]],
    ['server', [36, 5512315355, 4429313566, {}, ['Hello, world!']]],
    ['client', [48, 7814136, {}, 'com.myapp.nothere', []]],
    ['server', [8, 48, 7814136, {}, 'wamp.error.no_such_procedure']],
    ['client', [6, {}, 'wamp.close.system_shutdown']],
  ];
  for (const [ser, encode] of [
    ['json', (v: unknown) => Buffer.from(JSON.stringify(v))],
    ['msgpack', (v: unknown) => Buffer.from(msgpackEncode(v))],
    ['cbor', (v: unknown) => Buffer.from(cborEncode(v))],
  ] as const) {
    const c = appHandshake(new Capture(1, '127.0.0.1:50000', 'ws://127.0.0.1:8080/ws'), `wamp.2.${ser}`, '/ws');
    for (const [dir, m] of wampMsgs) c[dir]({ opcode: ser === 'json' ? 1 : 2, payload: encode(m) });
    out.push({ name: `wamp-${ser}`, capture: c.end('client closed'),
      description: `WAMP v2 over ${ser === 'json' ? 'JSON (text)' : ser === 'msgpack' ? 'MessagePack (binary, @msgpack/msgpack)' : 'CBOR (binary, cbor-x)'} (subprotocol wamp.2.${ser}): HELLO/WELCOME, CALL/RESULT, SUBSCRIBE/SUBSCRIBED/EVENT, a CALL answered by ERROR, GOODBYE` });
  }
  // SignalR (HubProtocol.md): JSON records with 0x1e, and MessagePack with varint lengths.
  {
    const c = appHandshake(new Capture(1, '127.0.0.1:50000', 'ws://127.0.0.1:8080/chathub'), null, '/chathub?id=Q2v5JRUK3s_9QmUflR2ZVA');
    c.client({ opcode: 1, payload: '{"protocol":"json","version":1}\x1e' });
    c.server({ opcode: 1, payload: '{}\x1e' });
    c.client({ opcode: 1, payload: '{"type":1,"invocationId":"123","target":"Send","arguments":[42,"Test Message"]}\x1e' });
    c.server({ opcode: 1, payload: '{"type":2,"invocationId":"123","item":42}\x1e{"type":3,"invocationId":"123","result":42}\x1e{"type":6}\x1e' });
    c.client({ opcode: 1, payload: '{"type":4,"invocationId":"124","target":"Counter","argu' });
    c.client({ opcode: 1, payload: 'ments":[3]}\x1e' });
    c.server({ opcode: 1, payload: '{"type":3,"invocationId":"124","error":"It didn\'t work!"}\x1e' });
    c.server({ opcode: 1, payload: '{"type":7,"error":"Connection closed because of an error!","allowReconnect":true}\x1e' });
    out.push({ name: 'signalr-json', capture: c.end('server closed'),
      description: 'SignalR JSON hub protocol (detected by the ?id= connection token): handshake, Invocation, a StreamItem, Completion and Ping in one message, a StreamInvocation split across two messages, a Completion with an error, Close' });
  }
  {
    const framed = (v: unknown) => {
      const b = Buffer.from(msgpackEncode(v));
      return Buffer.concat([Buffer.from([b.length]), b]);
    };
    const c = appHandshake(new Capture(1, '127.0.0.1:50000', 'ws://127.0.0.1:8080/chathub'), null, '/chathub');
    c.client({ opcode: 1, payload: '{"protocol":"messagepack","version":1}\x1e' });
    c.server({ opcode: 1, payload: '{}\x1e' });
    c.client({ opcode: 2, payload: framed([1, {}, 'xyz', 'method', [42], []]) });
    c.server({ opcode: 2, payload: Buffer.concat([framed([2, {}, 'xyz', 42]), framed([3, {}, 'xyz', 3, 42])]) });
    c.client({ opcode: 2, payload: framed([6]) });
    c.server({ opcode: 2, payload: framed([7, null, false]) });
    out.push({ name: 'signalr-msgpack', capture: c.end('server closed'),
      description: 'SignalR MessagePack hub protocol (sniffed from the handshake): the JSON handshake, then an Invocation, a StreamItem and a Completion (NonVoid) in one message, Ping, Close' });
  }
  // Generic MessagePack and CBOR: claimed only because the subprotocol says so.
  for (const [enc, encode] of [['msgpack', (v: unknown) => Buffer.from(msgpackEncode(v))], ['cbor', (v: unknown) => Buffer.from(cborEncode(v))]] as const) {
    const c = appHandshake(new Capture(), enc, '/json');
    c.client({ opcode: 2, payload: encode({ op: 'subscribe', channels: ['ticker', 'trades'], id: 1 }) });
    c.server({ opcode: 2, payload: encode([1, 'ok', null, 2.5, true]) });
    c.server({ opcode: 2, payload: Buffer.concat([encode(7), encode(8)]) });
    c.server({ opcode: 2, payload: hexBytes('c1') });
    out.push({ name: `${enc}-values`, capture: c.end('client closed'),
      description: `generic ${enc === 'msgpack' ? 'MessagePack' : 'CBOR'} (subprotocol ${enc}): a map, an array, two values in one message (${enc}-trailing-bytes), a byte that is not ${enc === 'msgpack' ? 'MessagePack' : 'CBOR'} (${enc}-bad-encoding)` });
  }
  // Wrapped payloads: JSON-RPC compressed or base64-encoded, unwrapped then recognised.
  {
    const rpc = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'sum', params: [1, id] });
    const c = appHandshake(new Capture(), null, '/rpc');
    c.client({ opcode: 2, payload: zlib.gzipSync(rpc(1)) });
    c.server({ opcode: 2, payload: zlib.deflateSync(JSON.stringify({ jsonrpc: '2.0', id: 1, result: 2 })) });
    c.client({ opcode: 2, payload: zlib.deflateRawSync(rpc(2)) });
    c.client({ opcode: 2, payload: zlib.brotliCompressSync(rpc(3)) });
    c.client({ opcode: 1, payload: zlib.gzipSync(rpc(4)).toString('base64') });
    c.client({ opcode: 1, payload: Buffer.from(rpc(5)).toString('base64') });
    c.client({ opcode: 2, payload: zlib.gzipSync(Buffer.alloc(4 * 1024 * 1024)) });
    out.push({ name: 'wrapped-payloads', zlib: true, capture: c.end('client closed'),
      description: 'JSON-RPC in gzip, zlib, raw deflate, brotli, base64 of gzip and plain base64, each unwrapped and recognised (app.wrapping); a gzip bomb of 4 MiB of zeros stops at the 1 MiB unwrap limit' });
  }
  return out;
}

/** Every sample, in README order. */
export async function buildSamples(): Promise<Sample[]> {
  return [
    ...(await rfcExamples()),
    userJsonSession(),
    fragmentation(),
    lengthForms(),
    ...closeHandshakes(),
    await deflateSession(true),
    await deflateSession(false),
    ...(await violations()),
    ...protocolSamples(),
    ...binaryProtocolSamples(),
  ];
}

export const CAPTURE_SUFFIX = '.capture.ndjson';

/**
 * Captures recorded live rather than generated: kept as committed (this script never
 * rewrites them) and listed in the README after the generated ones.
 */
export const RECORDED: { name: string; description: string }[] = [
  {
    name: 'user-json-recorded',
    description:
      'recorded through the real proxy and built-in backend (`wsscope proxy --backend --save`) with the Python websockets 10.4 client: its permessage-deflate offer declined, "Ann" and `<Tom & Jerry>` answered with User JSON, a binary message, a ping answered by a pong, close 1000 "bye" echoed as 1000; real timestamps and masking keys',
  },
];

export function readme(samples: Sample[]): string {
  return `# samples

Captures in the wsscope capture format (docs/design.md, "Capture files": NDJSON, a first
line \`{"format":"wsscope-capture","version":1}\`, then \`open\`, \`data\` and \`end\` lines),
each with its golden decoded output:

- \`NAME${CAPTURE_SUFFIX}\`: the capture; \`wsscope decode samples/NAME${CAPTURE_SUFFIX}\` explains it,
  \`wsscope replay\` opens it as if live;
- \`NAME.golden.txt\`: \`wsscope decode --max-payload 1024 FILE\` (the explanation);
- \`NAME.golden.ndjson\`: \`wsscope decode --max-payload 1024 --ui json FILE\` (the events).

The goldens keep at most 1024 payload bytes per frame and message, so that the 64 KiB
frames do not bloat them (the explanation also shows how a cut payload looks).

The captures are generated byte by byte by \`samples/generate.ts\` (fixed timestamps from
2026-01-01T00:00:00Z, fixed masking keys, zlib for permessage-deflate), so they can be
rebuilt, except those recorded live (listed in \`RECORDED\` in the script: kept as
recorded); \`test/samples.test.ts\` checks that the committed captures are what the script
generates, replays every capture through \`decode\` and compares the output with the
goldens byte for byte. It fails on a sample without goldens and on a rule of
\`src/decoder/constants.ts\` without a \`violation-RULE\` sample that reports it.

To change a sample or add one:

\`\`\`sh
npx ts-node --transpile-only samples/generate.ts      # rewrites the captures and this README
UPDATE_GOLDEN=1 npx jest test/samples.test.ts         # rewrites the goldens
git diff samples/                                     # review every changed line
\`\`\`

| sample | what it shows |
|---|---|
${[...samples, ...RECORDED].map((s) => `| \`${s.name}\` | ${s.description.replace(/\|/g, '\\|')} |`).join('\n')}

Captures from other tools (pcap, pcapng, HAR), with their goldens, are in \`import/\`
(see \`import/README.md\`).
`;
}

async function main(): Promise<void> {
  const dir = __dirname;
  const samples = await buildSamples();
  for (const sample of samples) fs.writeFileSync(path.join(dir, sample.name + CAPTURE_SUFFIX), sample.capture);
  fs.writeFileSync(path.join(dir, 'README.md'), readme(samples));
  const known = new Set([...samples, ...RECORDED].map((s) => s.name + CAPTURE_SUFFIX));
  const stale = fs.readdirSync(dir).filter((f) => f.endsWith(CAPTURE_SUFFIX) && !known.has(f));
  process.stdout.write(`wrote ${samples.length} captures and README.md to ${dir}\n`);
  if (stale.length) process.stdout.write(`not generated by this script (delete them if obsolete): ${stale.join(', ')}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`generate: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
