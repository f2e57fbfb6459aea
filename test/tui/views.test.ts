/** The panes and detail views as exact strings (no terminal). */
import { Store } from '../../src/tui/store';
import { allLines, plain, toMarkup, type Doc, type Line } from '../../src/tui/text';
import { acceptSteps, connectionRow, frameRow, framesHeader, handshakeView, payloadView, preview, HEX_PREVIEW_BYTES, violationsView } from '../../src/tui/views';
import { ConnectionDecoder, type WsEvent } from '../../src/decoder';
import { buildFrame } from '../../src/decoder/build';
import { lazyHexBytes } from '../../src/decoder/strings';
import { spacedHex } from '../../src/explain/payload';
import { frame, handshake, message, open, T0 } from './fixtures';

const text = (lines: Line[] | Doc) => allLines(lines).map(plain);

function storeWith(...events: Parameters<Store['add']>[0][]) {
  const store = new Store();
  store.add(open(1));
  for (const e of events) store.add(e);
  const conn = store.conns.get(1)!;
  const list = store.frames(conn);
  return { store, conn, rows: Array.from({ length: list.length }, (_, i) => list.at(i)) };
}

describe('frames pane rows', () => {
  test('time, direction arrow, opcode, FIN, RSV, MASK, length, preview; the selection marked without colour', () => {
    const { rows } = storeWith(
      frame({ opcode: 1, payload: 'Hello' }, { conn: 1, ts: T0 + 5 }),
      frame({ opcode: 1, payload: '{"name":"Hello"}\n' }, { conn: 1, dir: 'server', ts: T0 + 1234 }),
    );
    expect(plain(framesHeader())).toBe('    time         dir      opcode FIN RSV MASK    length  payload');
    expect(plain(frameRow(rows[0], false))).toBe('    12:00:00.005 C ──▶ S  text    1  000  1          5  Hello');
    expect(plain(frameRow(rows[1], true))).toBe('▶   12:00:01.234 C ◀── S  text    1  000  0         17  {"name":"Hello"}\\n');
    expect(frameRow(rows[1], true).every((s) => s.inverse)).toBe(true);
    // Direction colours differ at a glance.
    expect(frameRow(rows[0], false)[5].t).toBe('C ──▶ S');
    expect(frameRow(rows[0], false)[5].fg).not.toBe(frameRow(rows[1], false)[5].fg);
  });

  test('a fragmented message is grouped ┌ │ ├ └; a violation gets a ! marker', () => {
    const { rows } = storeWith(
      frame({ opcode: 1, fin: false, payload: 'one ' }, { conn: 1 }),
      frame({ opcode: 9, payload: 'ping' }, { conn: 1 }),
      frame({ opcode: 0, fin: false, payload: 'two ' }, { conn: 1 }),
      frame({ opcode: 0, payload: 'three' }, { conn: 1, violations: [{ rule: 'invalid-utf8', message: 'bad' }] }),
    );
    expect(text(rows.map((r) => frameRow(r, false))).map((l) => l.slice(0, 4) + l.slice(26))).toEqual([
      '  ┌ text    0  000  1          4  one ',
      '  │ ping    1  000  1          4  ping',
      '  ├ cont    0  000  1          4  two ',
      ' !└ cont    1  000  1          5  three',
    ]);
  });

  test('previews: close code and reason, binary as hex, compressed messages show the inflated text', () => {
    const { rows } = storeWith(
      frame({ opcode: 8, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]) }, { conn: 1 }),
      frame({ opcode: 2, payload: Buffer.from([0, 1, 0xfe]) }, { conn: 1 }),
      frame({ opcode: 1, rsv1: true, payload: Buffer.from('f248cdc9c90700', 'hex') }, { conn: 1, dir: 'server' }),
      message(1, 'server', 'Hello', 1, T0, true),
    );
    expect(rows.map(preview)).toEqual(['1000 Normal Closure "bye"', '00 01 fe', '⇲ Hello']);
  });

  test('an inflated binary message previews as spaced hex, like any binary payload', () => {
    const { rows } = storeWith(
      frame({ opcode: 2, rsv1: true, payload: Buffer.from('6260640200', 'hex') }, { conn: 1, dir: 'server' }),
      { ...message(1, 'server', '', 1, T0, true), opcode: 2, opcodeName: 'binary', length: 3, text: undefined, data: '0001fe' },
    );
    expect(preview(rows[0])).toBe('⇲ 00 01 fe');
  });

  test('a large binary payload previews its first bytes without making its hex (issue #13)', () => {
    const payload = Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 7) & 0xff));
    const events: WsEvent[] = [];
    const d = new ConnectionDecoder({ conn: 1, start: 'frames', immutableChunks: true, onEvent: (e) => events.push(e) });
    d.push('client', buildFrame({ opcode: 2, payload, mask: Buffer.from('01020304', 'hex') }), T0);
    const { rows } = storeWith(...(events as Parameters<Store['add']>[0][]));
    expect(preview(rows[0])).toBe(spacedHex(payload.subarray(0, HEX_PREVIEW_BYTES)));
    expect(lazyHexBytes(rows[0].ev, 'payload')).not.toBeNull();
  });

  test('the hostile payload stays text in the row markup: no ESC, no live tag', () => {
    const { rows } = storeWith(frame({ opcode: 1, payload: '\x1b[31mRED{red-fg}X' }, { conn: 1 }));
    const markup = toMarkup(frameRow(rows[0], false), true);
    expect(markup).toContain('\\x1b[31mRED{open}red-fg{close}X');
    expect(markup).not.toContain('\x1b');
    expect(markup).not.toContain('{red-fg}X');
  });
});

describe('connections pane rows', () => {
  test('client, state, frames each way, target; narrow and wide forms', () => {
    const { conn } = storeWith(handshake(1), frame({ opcode: 1, payload: 'a' }, { conn: 1 }));
    expect(plain(connectionRow(conn, false, 78))).toBe('     1 127.0.0.1:50001       open        ▶1     ◀0     ws://127.0.0.1:8080/json');
    expect(plain(connectionRow(conn, true, 120))).toBe('▶    1 127.0.0.1:50001       open        1 fr 0 B         0 fr 0 B         ws://127.0.0.1:8080/json');
  });
});

describe('handshake view', () => {
  test('the accept key step by step (RFC 6455 §1.3 example) and whether it matches', () => {
    expect(text(acceptSteps(handshake(1)))).toEqual([
      'Sec-WebSocket-Accept, step by step (RFC 6455 §4.2.2):',
      '  1. key (from the request)   dGhlIHNhbXBsZSBub25jZQ==',
      '  2. key + GUID               dGhlIHNhbXBsZSBub25jZQ==',
      '                              + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11',
      '  3. SHA-1 of that (20 bytes) b37a4f2cc0624f1690f64606cf385945b2bec4ea',
      '  4. base64 of the hash       s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      '  5. the server sent          s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  ✓ matches',
    ]);
    expect(text(acceptSteps(handshake(1, T0, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')))[6]).toBe(
      '  5. the server sent          AAAAAAAAAAAAAAAAAAAAAAAAAAA=  ✗ does NOT match: the client must fail the connection',
    );
  });

  test('request and response as sent, header values made visible', () => {
    const hs = handshake(1);
    hs.request.headers.push(['X-Evil', '\x1b]0;pwned\x07']);
    hs.extensions = 'permessage-deflate';
    const { conn } = storeWith(hs);
    const lines = text(handshakeView(conn));
    expect(lines.slice(0, 10)).toEqual([
      'conn 1  127.0.0.1:50001 → ws://127.0.0.1:8080/json  open',
      '',
      'Request (client → server), as sent:',
      '  GET /json HTTP/1.1',
      '  Host: 127.0.0.1:9000',
      '  Upgrade: websocket',
      '  Connection: Upgrade',
      '  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      '  Sec-WebSocket-Version: 13',
      '  X-Evil: \\x1b]0;pwned\\x07',
    ]);
    expect(lines).toContain('Extensions:  permessage-deflate');
    expect(lines).toContain('Subprotocol: none');
  });

  test('long header lines wrap instead of being cut (80 columns)', () => {
    const hs = handshake(1);
    hs.request.headers.push(['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits; server_no_context_takeover, x-webkit-deflate-frame']);
    const { conn } = storeWith(hs);
    const lines = text(handshakeView(conn, 60));
    const i = lines.indexOf('  Sec-WebSocket-Extensions: permessage-deflate;');
    expect(lines.slice(i, i + 3)).toEqual([
      '  Sec-WebSocket-Extensions: permessage-deflate;',
      '    client_max_window_bits; server_no_context_takeover,',
      '    x-webkit-deflate-frame',
    ]);
  });
});

test('handshake view of a connection that never completed its handshake', () => {
  const { store, conn } = storeWith();
  expect(text(handshakeView(conn)).slice(2)).toEqual(['Waiting for the opening handshake (RFC 6455 §4).']);
  store.add({ event: 'error', ts: T0, conn: 1, message: 'upstream ws://127.0.0.1:9/json: connection refused (ECONNREFUSED)' });
  store.add({ event: 'end', ts: T0, conn: 1, reason: 'upstream error', bytes: { client: 0, server: 0 } });
  expect(text(handshakeView(conn)).slice(2)).toEqual([
    'The connection closed without a complete opening handshake (RFC 6455 §4).',
    '  upstream ws://127.0.0.1:9/json: connection refused (ECONNREFUSED)',
  ]);
});

describe('payload view', () => {
  test('a fragment shows its own bytes and the reassembled message', () => {
    const { rows } = storeWith(
      frame({ opcode: 1, fin: false, payload: 'Hel' }, { conn: 1, index: 0 }),
      frame({ opcode: 0, payload: 'lo' }, { conn: 1, index: 1 }),
      message(1, 'client', 'Hello', 2),
    );
    expect(text(payloadView(rows[0], 80)).slice(2)).toEqual([
      "This frame's payload: text, 3 bytes",
      '  Hel',
      '',
      'This frame is frame 1 of the 2 frames of a text message (§5.4). The reassembled message: 5 bytes in 2 frames',
      '  Hello',
    ]);
  });

  test('a compressed message: the compressed bytes as sent next to the inflated text', () => {
    const { rows } = storeWith(
      frame({ opcode: 1, rsv1: true, payload: Buffer.from('f248cdc9c90700', 'hex') }, { conn: 1, dir: 'server' }),
      message(1, 'server', 'Hello', 1, T0, true),
    );
    expect(text(payloadView(rows[0], 80)).slice(2)).toEqual([
      "This frame's payload as sent: 7 bytes compressed with permessage-deflate (RFC 7692)",
      '  000000  f2 48 cd c9 c9 07 00                             .H.....',
      '',
      'This frame is a one-frame message. The inflated message: 5 bytes in 1 frame',
      '  Hello',
    ]);
  });

  test('JSON is indented, binary is a hex dump, close shows code and reason', () => {
    const { rows } = storeWith(
      // A raw ESC is not valid JSON (it is shown as text); the \u001b escape is, and stays as sent.
      frame({ opcode: 1, payload: '{"a":[1,2],"b":"\\u001b"}' }, { conn: 1 }),
      frame({ opcode: 2, payload: Buffer.from('0001ff', 'hex') }, { conn: 1 }),
      frame({ opcode: 8, payload: Buffer.concat([Buffer.from([0x03, 0xe9]), Buffer.from('gone')]) }, { conn: 1 }),
    );
    expect(text(payloadView(rows[0], 80)).slice(2)).toEqual([
      "This frame's payload: JSON, 24 bytes",
      '  {',
      '    "a": [',
      '      1,',
      '      2',
      '    ],',
      '    "b": "\\u001b"',
      '  }',
    ]);
    expect(text(payloadView(rows[1], 80)).slice(2)).toEqual(["This frame's payload: bytes, 3 bytes", '  000000  00 01 ff                                         ...']);
    expect(text(payloadView(rows[2], 80)).slice(2)).toEqual(['Close frame: status code 1001 (Going Away), RFC 6455 §7.4', '  reason: "gone"']);
  });
});

describe('violations view', () => {
  test('rule id, RFC section, the RFC sentence (from the decoder\'s RULES table) and what was seen', () => {
    const { rows, conn } = storeWith(
      frame({ opcode: 1, payload: 'tiny', lengthForm: 16 }, { conn: 1, dir: 'server', violations: [{ rule: 'non-minimal-length', message: 'length 4 in the 16-bit form', section: 'RFC 6455 §5.2' }] }),
      frame({ opcode: 1, payload: 'ok' }, { conn: 1 }),
    );
    const lines = text(violationsView(rows[0], conn, 100));
    expect(lines.slice(2)).toEqual([
      '! non-minimal-length  RFC 6455 §5.2',
      '    seen: length 4 in the 16-bit form',
      '    RFC:  "Note that in all cases, the minimal number of bytes MUST be used to encode the length,',
      "          for example, the length of a 124-byte-long string can't be encoded as the sequence 126, 0,",
      '          124."',
      '',
    ]);
    expect(text(violationsView(rows[1], conn, 100))[2]).toBe('This frame breaks no rule the decoder checks.');
  });
  test("our note on a rule is shown apart from the RFC's quoted words, marked as ours", () => {
    const { rows, conn } = storeWith(
      frame({ opcode: 8, payload: Buffer.from([0x03, 0xed]) }, { conn: 1, dir: 'server', violations: [{ rule: 'invalid-close-code', message: 'close code 1005', section: 'RFC 6455 §7.4' }] }),
    );
    const lines = text(violationsView(rows[0], conn, 200));
    expect(lines.slice(3, 6)).toEqual([
      '    seen: close code 1005',
      '    RFC:  "1005 is a reserved value and MUST NOT be set as a status code in a Close control frame by an endpoint."',
      '    note: (ours) §7.4.1 says the same of 1006 and 1015, and 1004 is reserved; §7.4.2: status codes in the range 0-999 are not used, 1000-2999 are reserved for this protocol and its extensions.',
    ]);
  });
});

describe('how a connection came (the one-port front)', () => {
  const tls = { sni: 'chat.example.test', alpn: 'http/1.1', version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' };
  const tunnel = { ...open(2), mode: 'tunnel' as const, tls, upstream: 'wss://chat.example.test/live', upstreamTls: { ...tls, cipher: 'TLS_CHACHA20_POLY1305_SHA256' }, target: 'wss://chat.example.test/live' };

  test('the connections pane tags mode, wss and SNI before the upstream; plain reverse stays untagged', () => {
    const store = new Store();
    store.add(tunnel);
    store.add({ ...open(3), mode: 'reverse', tls: null, upstream: 'ws://127.0.0.1:8080/json', upstreamTls: null });
    store.add({ ...open(4), mode: 'forward', tls: null, upstream: 'ws://127.0.0.1:8080/x\x1b[2J', upstreamTls: null });
    const row = (n: number) => plain(connectionRow(store.conns.get(n)!, false, 120)).slice(75);
    expect(row(2)).toBe('tunnel wss chat.example.test wss://chat.example.test/live');
    expect(row(3)).toBe('ws://127.0.0.1:8080/json');
    expect(row(4)).toBe('forward ws://127.0.0.1:8080/x\\x1b[2J');
  });

  test('the handshake view starts with the mode, the upstream and each side\'s TLS version, cipher, ALPN and SNI', () => {
    const store = new Store();
    store.add(tunnel);
    const lines = text(handshakeView(store.conns.get(2)!));
    expect(lines.slice(1, 5)).toEqual([
      'Mode:        CONNECT tunnel',
      'Upstream:    wss://chat.example.test/live',
      'Client TLS:  TLSv1.3 TLS_AES_128_GCM_SHA256, ALPN http/1.1, SNI chat.example.test',
      'Server TLS:  TLSv1.3 TLS_CHACHA20_POLY1305_SHA256, ALPN http/1.1, SNI chat.example.test',
    ]);
  });
});
