import type { FrameEvent, HandshakeEvent, MessageEvent } from '../../src/decoder/events';
import { spacedHex } from '../../src/explain/payload';
import {
  escapeForTerminal,
  explainFrame,
  explainHandshake,
  explainMessage,
  headerBitRows,
  hexDump,
  lengthExplanation,
  maskingRows,
  prettyJson,
  quoteForTerminal,
  summarizeFrame,
  summarizeMessage,
  TextRenderer,
} from '../../src/explain';

/** A frame event as the decoder reports it, built by hand from the RFC's bytes. */
function frame(over: Partial<FrameEvent> & { header: string }): FrameEvent {
  const b1 = Buffer.from(over.header, 'hex')[1];
  return {
    event: 'frame',
    ts: 0,
    conn: 1,
    dir: 'server',
    index: 0,
    offset: 0,
    fin: true,
    rsv1: false,
    rsv2: false,
    rsv3: false,
    opcode: 1,
    opcodeName: 'text',
    masked: (b1 & 0x80) !== 0,
    maskKey: null,
    payloadLength: 0,
    lengthForm: 7,
    payload: '',
    payloadTruncated: false,
    violations: [],
    ...over,
  };
}

/** Asserts how a text ends, showing both on failure. */
function expectEnd(text: string, end: string): void {
  expect(text.slice(-end.length)).toBe(end);
}

const hello = Buffer.from('Hello').toString('hex');

/** RFC 6455 §5.7: "A single-frame masked text message". */
const maskedHello = frame({
  dir: 'client',
  header: '818537fa213d',
  masked: true,
  maskKey: '37fa213d',
  payloadLength: 5,
  payload: hello,
});

describe('explainFrame', () => {
  it('explains RFC 6455 §5.7 masked "Hello" (81 85 37 fa 21 3d 7f 9f 4d 51 58) field by field', () => {
    expect(explainFrame(maskedHello)).toBe(
      [
        'frame #0  client -> server  conn 1  offset 0  6-byte header + 5-byte payload',
        '  header bytes   81 85 37 fa 21 3d',
        '                 byte 0    byte 1',
        '                 10000001  10000101',
        '  FIN            1.......  ........  1    final frame of its message',
        '  RSV1           .0......  ........  0    no extension meaning',
        '  RSV2           ..0.....  ........  0    no extension meaning',
        '  RSV3           ...0....  ........  0    no extension meaning',
        '  opcode         ....0001  ........  1    text frame: the message is UTF-8 text',
        '  MASK           ........  1.......  1    payload masked with the masking key',
        '  Payload len    ........  .0000101  5    the payload length itself',
        '  length         5 bytes, 7-bit form: lengths 0-125 are written in Payload len itself (RFC 6455 §5.2)',
        '  Masking-key    37 fa 21 3d',
        '  unmasking      clear[i] = masked[i] XOR key[i mod 4] (RFC 6455 §5.3)',
        "    [0] 7f ^ 37 = 48  'H'",
        "    [1] 9f ^ fa = 65  'e'",
        "    [2] 4d ^ 21 = 6c  'l'",
        "    [3] 51 ^ 3d = 6c  'l'",
        "    [4] 58 ^ 37 = 6f  'o'",
        '  payload        text, 5 bytes',
        '    "Hello"',
      ].join('\n'),
    );
  });

  it('explains the unmasked §5.7 "Hello" (81 05 ...) with no masking key', () => {
    const text = explainFrame(frame({ header: '8105', payloadLength: 5, payload: hello }));
    expect(text).toContain('  MASK           ........  0.......  0    payload not masked\n');
    expect(text).toContain('  Masking-key    none: the payload travels as is (servers never mask; clients always must, RFC 6455 §5.1)\n');
    expect(text).not.toContain('unmasking');
  });

  it('shows the fragments of §5.7 "Hel" + "lo": FIN clear, then a continuation shown as text', () => {
    const first = explainFrame(frame({ header: '0103', fin: false, payloadLength: 3, payload: '48656c' }));
    expect(first).toContain('  FIN            0.......  ........  0    more fragments of this message follow\n');
    const second = explainFrame(frame({ header: '8002', opcode: 0, opcodeName: 'continuation', index: 1, offset: 5, payloadLength: 2, payload: '6c6f' }), { messageOpcode: 1 });
    expect(second.split('\n')[0]).toBe('frame #1  server -> client  conn 1  offset 5  2-byte header + 2-byte payload');
    expect(second).toContain('  opcode         ....0000  ........  0    continuation frame: carries the next fragment of the current message\n');
    expectEnd(second, '  payload        text, 2 bytes\n    "lo"');
  });

  it('explains the §5.7 unmasked ping with body "Hello" as text', () => {
    const text = explainFrame(frame({ header: '8905', opcode: 9, opcodeName: 'ping', payloadLength: 5, payload: hello }));
    expect(text).toContain('  opcode         ....1001  ........  9    ping frame: the other side must answer with a pong\n');
    expectEnd(text, '  payload        text, 5 bytes\n    "Hello"');
  });

  it('explains the §5.7 256-byte binary frame: 16-bit extended length, hex dump capped', () => {
    const payload = Buffer.alloc(256, 0x41);
    const text = explainFrame(frame({ header: '827e0100', opcode: 2, opcodeName: 'binary', payloadLength: 256, lengthForm: 16, payload: payload.toString('hex') }), { maxDumpBytes: 32 });
    expect(text).toContain(
      [
        '  Payload len    ........  .1111110  126  the length follows in 16 bits',
        '  Extended len   01 00 = 256 (16-bit unsigned, network byte order)',
        '  length         256 bytes, 16-bit form: Payload len 126, then the length in 2 bytes (for 126-65535 bytes) (RFC 6455 §5.2)',
      ].join('\n'),
    );
    expectEnd(text, 
      [
        '  payload        bytes, 256 bytes',
        '    0000  41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41  AAAAAAAAAAAAAAAA',
        '    0010  41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41  AAAAAAAAAAAAAAAA',
        '    ... 224 more bytes',
      ].join('\n'),
    );
  });

  it('explains the §5.7 64 KiB binary frame: 64-bit extended length, truncated preview', () => {
    const text = explainFrame(
      frame({ header: '827f0000000000010000', opcode: 2, opcodeName: 'binary', payloadLength: 65536, lengthForm: 64, payload: '0102', payloadTruncated: true }),
    );
    expect(text).toContain('  Extended len   00 00 00 00 00 01 00 00 = 65536 (64-bit unsigned, network byte order)\n');
    expect(text).toContain('  length         65536 bytes, 64-bit form: Payload len 127, then the length in 8 bytes (for 65536 bytes and more; top bit 0) (RFC 6455 §5.2)\n');
    expect(text).toContain('  payload        bytes, 65536 bytes (first 2 of 65536 bytes kept)\n    0000  01 02 ');
  });

  it('shows a 64-bit length above 2^53 exactly, and a MASK whose key was never read', () => {
    const text = explainFrame(
      frame({ header: '82ff8000000000000005', opcode: 2, opcodeName: 'binary', masked: true, payloadLength: 9223372036854775813, lengthForm: 64, payloadTruncated: true }),
    );
    expect(text.split('\n')[0]).toBe('frame #0  server -> client  conn 1  offset 0  10-byte header + 9223372036854775813-byte payload');
    expect(text).toContain('  Extended len   80 00 00 00 00 00 00 05 = 9223372036854775813 (64-bit unsigned, network byte order)\n');
    expect(text).toContain('  Masking-key    MASK is 1, but the decoder stopped before the masking key (see the violations)\n');
  });

  it('flags a non-minimal length form', () => {
    expect(lengthExplanation(2, 16)).toEqual([
      '  length         2 bytes, 16-bit form: Payload len 126, then the length in 2 bytes (for 126-65535 bytes) (RFC 6455 §5.2)',
      '                 NOT minimal: 2 fits the 7-bit form, and the minimal number of bytes MUST be used',
    ]);
    expect(lengthExplanation(300, 64)[1]).toBe('                 NOT minimal: 300 fits the 16-bit form, and the minimal number of bytes MUST be used');
    expect(lengthExplanation(125, 7)).toHaveLength(1);
    expect(lengthExplanation(126, 16)).toHaveLength(1);
    expect(lengthExplanation(65536, 64)).toHaveLength(1);
  });

  it('explains a close frame: code, name, reason', () => {
    const text = explainFrame(frame({ header: '8805', opcode: 8, opcodeName: 'close', payloadLength: 5, payload: '03e8627965', closeCode: 1000, closeReason: 'bye' }));
    expectEnd(text, '  close code     1000 Normal Closure (bytes 03 e8, RFC 6455 §7.4)\n  close reason   "bye"');
    const empty = explainFrame(frame({ header: '8800', opcode: 8, opcodeName: 'close' }));
    expectEnd(empty, '  close body     empty: no status code (allowed, RFC 6455 §5.5.1)');
    const one = explainFrame(frame({ header: '8801', opcode: 8, opcodeName: 'close', payloadLength: 1, payload: '03' }));
    expectEnd(one, '  close body     1 bytes, not a valid code + reason:\n    0000  03                                               .');
  });

  it('lists violations with their RFC section, escaped', () => {
    const text = explainFrame({
      ...maskedHello,
      violations: [{ rule: 'unmasked-client-frame', section: 'RFC 6455 §5.1', message: 'a client MUST mask\x1b[2J' }],
    });
    expectEnd(text, '  violations     1\n    ! unmasked-client-frame (RFC 6455 §5.1): a client MUST mask\\x1b[2J');
  });

  it('pretty-prints a JSON text payload without touching its values', () => {
    const json = '{"name":"Ann","age":18,"big":12345678901234567890,"e":"\\u003c","l":[],"o":{"a":[1]}}\n';
    const text = explainFrame(frame({ header: '8161', payloadLength: Buffer.byteLength(json), payload: Buffer.from(json).toString('hex') }));
    expectEnd(text, 
      [
        '  payload        JSON, 85 bytes',
        '    {',
        '      "name": "Ann",',
        '      "age": 18,',
        '      "big": 12345678901234567890,',
        '      "e": "\\u003c",',
        '      "l": [],',
        '      "o": {',
        '        "a": [',
        '          1',
        '        ]',
        '      }',
        '    }',
      ].join('\n'),
    );
  });

  it('says a compressed payload is shown inflated in the message', () => {
    const text = explainFrame(frame({ header: 'c107', rsv1: true, payloadLength: 7, payload: 'f248cdc9c90700' }), { compressed: true });
    expect(text).toContain('  RSV1           .1......  ........  1    set: "compressed" under permessage-deflate (RFC 7692 §6), else must be 0\n');
    expect(text).toContain('  payload        7 bytes compressed with permessage-deflate (RFC 7692); the message shows it inflated\n    0000  f2 48 cd c9 c9 07 00 ');
  });

  it('shows a text fragment cut inside a UTF-8 character as text plus the cut bytes', () => {
    // "café!" cut inside é (c3 a9), as §5.4 allows.
    const first = explainFrame(frame({ header: '0104', fin: false, payloadLength: 4, payload: '636166c3' }));
    expectEnd(first, '  payload        text fragment, 4 bytes\n    "caf" then c3 (a character cut here: its rest must come in the next fragment)');
    const second = explainFrame(frame({ header: '8002', opcode: 0, opcodeName: 'continuation', payloadLength: 2, payload: 'a921' }), { messageOpcode: 1 });
    expectEnd(second, '  payload        text fragment, 2 bytes\n    a9 (the end of a character begun in the previous fragment) then "!"');
    // A whole (FIN, non-continuation) frame gets no such leniency.
    expect(explainFrame(frame({ header: '8104', payloadLength: 4, payload: '636166c3' }))).toContain('bytes (not valid UTF-8), 4 bytes');
  });

  it('shows a preview cut inside a UTF-8 character as text plus the cut byte', () => {
    const text = explainFrame(frame({ header: '8109', payloadLength: 9, payload: 'e5be88e5', payloadTruncated: true }));
    expectEnd(text, '  payload        text, 9 bytes (first 4 of 9 bytes kept)\n    "很" then e5 (a character cut by the preview)');
  });

  it('shows text that is not valid UTF-8 as bytes', () => {
    const text = explainFrame(frame({ header: '8102', payloadLength: 2, payload: 'c328' }));
    expect(text).toContain('  payload        bytes (not valid UTF-8), 2 bytes\n    0000  c3 28');
  });
});

describe('explainer pieces', () => {
  it('headerBitRows puts each field of the first two bytes under its name', () => {
    expect(headerBitRows(Buffer.from('0a80', 'hex'))).toEqual([
      '                 byte 0    byte 1',
      '                 00001010  10000000',
      '  FIN            0.......  ........  0    more fragments of this message follow',
      '  RSV1           .0......  ........  0    no extension meaning',
      '  RSV2           ..0.....  ........  0    no extension meaning',
      '  RSV3           ...0....  ........  0    no extension meaning',
      '  opcode         ....1010  ........  10   pong frame: answers a ping (or is a heartbeat)',
      '  MASK           ........  1.......  1    payload masked with the masking key',
      '  Payload len    ........  .0000000  0    the payload length itself',
    ]);
    expect(headerBitRows(Buffer.from('81', 'hex'))).toEqual([]);
  });

  it('maskingRows walks through the first bytes and counts the rest', () => {
    expect(maskingRows('37fa213d', Buffer.from('Hello, world'), 2)).toEqual([
      '  Masking-key    37 fa 21 3d',
      '  unmasking      clear[i] = masked[i] XOR key[i mod 4] (RFC 6455 §5.3)',
      "    [0] 7f ^ 37 = 48  'H'",
      "    [1] 9f ^ fa = 65  'e'",
      '    ... 10 more bytes unmasked the same way',
    ]);
    expect(maskingRows('00000000', Buffer.alloc(0))[2]).toBe('    (empty payload: nothing to unmask)');
  });

  it('escapeForTerminal shows control, C1, bidi and invisible characters visibly', () => {
    expect(escapeForTerminal('a\x1b[31mb\r\n\t\0\x07\x7f\x9b\u202e\u2028\\')).toBe('a\\x1b[31mb\\r\\n\\t\\x00\\x07\\x7f\\x9b\\u202e\\u2028\\\\');
    expect(escapeForTerminal('a\u00adb\u061c\u200b\u2060\u2066\ufeff\ufff9"c')).toBe('a\\xadb\\u061c\\u200b\\u2060\\u2066\\ufeff\\ufff9"c');
    expect(escapeForTerminal('\\n', { escapeBackslash: false })).toBe('\\n');
    expect(escapeForTerminal('很厉害!!!! é')).toBe('很厉害!!!! é');
    expect(quoteForTerminal('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
  });

  it('prettyJson only takes JSON objects and arrays', () => {
    expect(prettyJson('"just a string"')).toBeNull();
    expect(prettyJson('{"a":')).toBeNull();
    expect(prettyJson('[ ]')).toBe('[]');
    expect(prettyJson(' {"a" : "x,y:{}[]\\"" } ')).toBe('{\n  "a": "x,y:{}[]\\""\n}');
  });

  it('hexDump prints offset, hex and printable ASCII', () => {
    expect(hexDump(Buffer.from('Hello\x00\xffworld!!!!!!!', 'latin1'))).toEqual([
      '0000  48 65 6c 6c 6f 00 ff 77 6f 72 6c 64 21 21 21 21  Hello..world!!!!',
      '0010  21 21 21                                         !!!',
    ]);
  });
});

describe('messages, handshakes, summaries', () => {
  const message: MessageEvent = {
    event: 'message',
    ts: 0,
    conn: 1,
    dir: 'server',
    opcode: 1,
    opcodeName: 'text',
    frames: 2,
    length: 5,
    compressed: false,
    text: 'Hello',
    violations: [],
  };

  it('explainMessage shows the reassembled text', () => {
    expect(explainMessage(message)).toBe('message  server -> client  conn 1  text, 2 frames, 5 bytes\n    "Hello"');
    expect(explainMessage({ ...message, opcode: 2, opcodeName: 'binary', text: undefined, data: '0001', length: 2, frames: 1, compressed: true })).toBe(
      'message  server -> client  conn 1  binary, 1 frame, 2 bytes after inflating (permessage-deflate)\n    0000  00 01                                            ..',
    );
  });

  it('explainHandshake recomputes nothing but explains the accept check (RFC 6455 §4.2.2 example)', () => {
    const hs: HandshakeEvent = {
      event: 'handshake',
      ts: 0,
      conn: 3,
      request: { method: 'GET', target: '/chat', version: 'HTTP/1.1', headers: [['Host', 'server.example.com'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']] },
      response: { status: 101, reason: 'Switching Protocols', headers: [['Upgrade', 'websocket'], ['X-Evil', '\x1b]0;pwned\x07']] },
      key: 'dGhlIHNhbXBsZSBub25jZQ==',
      accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      expectedAccept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      acceptValid: true,
      protocol: 'chat',
      extensions: null,
      violations: [],
    };
    expect(explainHandshake(hs)).toBe(
      [
        'handshake  conn 3',
        '  request        GET /chat HTTP/1.1',
        '    Host: server.example.com',
        '    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        '  response       HTTP/1.1 101 Switching Protocols',
        '    Upgrade: websocket',
        '    X-Evil: \\x1b]0;pwned\\x07',
        '  key            dGhlIHNhbXBsZSBub25jZQ==',
        '  expected       s3pPLMBiTxaQ9kYGzzhZRbK+xOo= = base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) (RFC 6455 §4.2.2)',
        '  accept         s3pPLMBiTxaQ9kYGzzhZRbK+xOo=: matches the expected value',
        '  subprotocol    chat',
        '  extensions     none',
      ].join('\n'),
    );
  });

  it('one-line summaries', () => {
    expect(summarizeFrame(maskedHello)).toBe('client frame #0 text FIN masked 37fa213d len=5/7-bit "Hello"');
    expect(summarizeMessage(message)).toBe('server message text (2 frames) 5 bytes "Hello"');
    expect(summarizeFrame(frame({ header: '8802', opcode: 8, opcodeName: 'close', payloadLength: 2, payload: '03ea', closeCode: 1002, violations: [{ rule: 'x', message: 'y' }] }))).toBe(
      'server frame #0 close FIN unmasked len=2/7-bit 1002 Protocol Error ! x',
    );
  });

  it('TextRenderer shows the continuation of a text message as text and forgets it after FIN', () => {
    const r = new TextRenderer();
    r.render(frame({ header: '0103', fin: false, payloadLength: 3, payload: '48656c' }));
    const cont = r.render(frame({ header: '8002', opcode: 0, opcodeName: 'continuation', payloadLength: 2, payload: '6c6f' }));
    expectEnd(cont, '"lo"');
    const orphan = r.render(frame({ header: '8002', opcode: 0, opcodeName: 'continuation', payloadLength: 2, payload: '6c6f' }));
    expectEnd(orphan, '    0000  6c 6f                                            lo');
  });
});

describe('spacedHex', () => {
  test('two lowercase digits per byte, one space between, none at the ends', () => {
    expect(spacedHex(Buffer.alloc(0))).toBe('');
    expect(spacedHex(Buffer.from([0x0a]))).toBe('0a');
    expect(spacedHex(Buffer.from([0, 1, 0xfe, 0xff]))).toBe('00 01 fe ff');
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(spacedHex(all)).toBe([...all].map((b) => b.toString(16).padStart(2, '0')).join(' '));
    expect(spacedHex(all.subarray(200, 203))).toBe('c8 c9 ca');
  });
});
