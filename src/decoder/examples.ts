/**
 * One example per rule: bytes that break it and a near miss that must not be flagged.
 * docs/rules.md is generated from this table (src/decoder/rules-doc.ts), and
 * test/decoder/rules.test.ts replays every example, so docs and tests cannot drift.
 */
import { buildFrame } from './build';
import type { RuleId } from './constants';
import type { Direction } from './events';
import { computeAccept } from './handshake';

/** Raw frames sent by one side (no handshake), or an HTTP request and response pair. */
export type ExampleInput =
  | { kind: 'frames'; from: Direction; extensions?: string; hex: string }
  | { kind: 'http'; request: string; response: string };

export interface RuleExample {
  bad: ExampleInput;
  near: ExampleInput;
  /** What the near miss shows. */
  nearNote: string;
}

const KEY = Buffer.from('37fa213d', 'hex'); // the masking key of RFC 6455 §5.7
const hex = (...frames: Buffer[]): string => Buffer.concat(frames).toString('hex');
const server = (h: string, extensions?: string): ExampleInput => ({ kind: 'frames', from: 'server', hex: h, ...(extensions ? { extensions } : {}) });
const client = (h: string): ExampleInput => ({ kind: 'frames', from: 'client', hex: h });
const PMD = 'permessage-deflate';
/** "Hello" compressed, RFC 7692 §7.2.3.1, and the same bytes split over two fragments. */
const HELLO_DEFLATED = 'c107f248cdc9c90700';

const CRLF = '\r\n';
const REQUEST_LINES = [
  'GET /chat HTTP/1.1',
  'Host: server.example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
];
const RESPONSE_LINES = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='];

/** The RFC 6455 §1.2 handshake with lines replaced (`Name: value`, or `Name:` to remove) or added. */
function http(requestEdits: string[] = [], responseEdits: string[] = [], requestLine?: string, statusLine?: string): ExampleInput {
  return { kind: 'http', request: head(REQUEST_LINES, requestEdits, requestLine), response: head(RESPONSE_LINES, responseEdits, statusLine) };
}

function head(lines: string[], edits: string[], first?: string): string {
  const out = [first ?? lines[0], ...lines.slice(1)];
  for (const edit of edits) {
    const name = edit.slice(0, edit.indexOf(':') + 1).toLowerCase();
    const at = name ? out.findIndex((l) => l.toLowerCase().startsWith(name)) : -1;
    const removal = edit.endsWith(':');
    if (at > 0) {
      if (removal) out.splice(at, 1);
      else out[at] = edit;
    } else if (!removal) {
      out.push(edit);
    }
  }
  return out.join(CRLF) + CRLF + CRLF;
}

export const RULE_EXAMPLES: Record<RuleId, RuleExample> = {
  'malformed-http': {
    bad: http(['X-Broken-Header-Line']),
    near: http(['X-Fine: header line']),
    nearNote: 'an extra header line with a name and a colon',
  },
  'bad-method': {
    bad: http([], [], 'POST /chat HTTP/1.1'),
    near: http([], [], 'GET /chat HTTP/1.1'),
    nearNote: 'GET, HTTP/1.1',
  },
  'missing-host': {
    bad: http(['Host:']),
    near: http(['Host: server.example.com:8080']),
    nearNote: 'a Host with a port',
  },
  'missing-upgrade': {
    bad: http(['Upgrade: h2c']),
    near: http(['Upgrade: WebSocket']),
    nearNote: '"WebSocket": the keyword is case-insensitive',
  },
  'missing-connection': {
    bad: http(['Connection: keep-alive']),
    near: http(['Connection: keep-alive, Upgrade']),
    nearNote: 'Upgrade as one token of several',
  },
  'bad-key': {
    bad: http(['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ']),
    near: http(['Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=='], [`Sec-WebSocket-Accept: ${computeAccept('AAAAAAAAAAAAAAAAAAAAAA==')}`]),
    nearNote: '16 zero bytes, base64: any 16 bytes make a valid key',
  },
  'bad-version': {
    bad: http(['Sec-WebSocket-Version: 8']),
    near: http(['Sec-WebSocket-Version: 13']),
    nearNote: 'version 13',
  },
  'bad-status': {
    bad: http([], ['Upgrade:', 'Connection:', 'Sec-WebSocket-Accept:', 'Content-Length: 0'], undefined, 'HTTP/1.1 400 Bad Request'),
    near: http(),
    nearNote: '101 Switching Protocols',
  },
  'response-missing-upgrade': {
    bad: http([], ['Upgrade:']),
    near: http([], ['Upgrade: WEBSOCKET']),
    nearNote: '"WEBSOCKET": an ASCII case-insensitive match',
  },
  'response-missing-connection': {
    bad: http([], ['Connection: close']),
    near: http([], ['Connection: upgrade']),
    nearNote: '"upgrade" in lower case',
  },
  'bad-accept': {
    bad: http([], ['Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==']),
    near: http([], ['Sec-WebSocket-Accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  ']),
    nearNote: 'the right value with surrounding whitespace',
  },
  'unrequested-extension': {
    bad: http([], ['Sec-WebSocket-Extensions: permessage-deflate']),
    near: http(['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'], ['Sec-WebSocket-Extensions: permessage-deflate']),
    nearNote: 'the client offered permessage-deflate',
  },
  'unrequested-protocol': {
    bad: http([], ['Sec-WebSocket-Protocol: chat']),
    near: http(['Sec-WebSocket-Protocol: superchat, chat'], ['Sec-WebSocket-Protocol: chat']),
    nearNote: 'the client offered "chat"',
  },
  'bad-deflate-params': {
    bad: http(['Sec-WebSocket-Extensions: permessage-deflate'], ['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7']),
    near: http(['Sec-WebSocket-Extensions: permessage-deflate'], ['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8']),
    nearNote: 'window bits 8, the smallest allowed',
  },
  'unmasked-client-frame': {
    bad: client('810548656c6c6f'),
    near: client(hex(buildFrame({ opcode: 1, payload: 'Hello', mask: KEY }))),
    nearNote: 'the RFC 6455 §5.7 masked "Hello"',
  },
  'masked-server-frame': {
    bad: server(hex(buildFrame({ opcode: 1, payload: 'Hello', mask: KEY }))),
    near: server('810548656c6c6f'),
    nearNote: 'the RFC 6455 §5.7 unmasked "Hello"',
  },
  'rsv-without-extension': {
    bad: server(HELLO_DEFLATED),
    near: server(HELLO_DEFLATED, PMD),
    nearNote: 'the same frame with permessage-deflate negotiated',
  },
  'reserved-opcode': {
    bad: server('830548656c6c6f'),
    near: server('820548656c6c6f'),
    nearNote: 'opcode 0x2 (binary)',
  },
  'non-minimal-length': {
    bad: server(hex(buildFrame({ opcode: 1, payload: 'Hello', lengthForm: 16 }))),
    near: server(hex(buildFrame({ opcode: 2, payload: Buffer.alloc(126), lengthForm: 16 }))),
    nearNote: '126 bytes: the smallest length the 16-bit form must carry',
  },
  'length-msb-set': {
    bad: server('827f8000000000000000'),
    near: server(hex(buildFrame({ opcode: 2, payload: Buffer.alloc(65536), lengthForm: 64 }))),
    nearNote: '65536 bytes in the 64-bit form, MSB 0',
  },
  'unexpected-continuation': {
    bad: server('800548656c6c6f'),
    near: server('010348656c80026c6f'),
    nearNote: 'the RFC 6455 §5.7 fragmented "Hello"',
  },
  'interleaved-data-frame': {
    bad: server('010348656c81026c6f'),
    near: server('010348656c890080026c6f'),
    nearNote: 'a ping between the fragments is allowed',
  },
  'fragmented-control-frame': {
    bad: server('0900'),
    near: server('8900'),
    nearNote: 'a ping with FIN = 1',
  },
  'control-frame-too-long': {
    bad: server(hex(buildFrame({ opcode: 9, payload: Buffer.alloc(126, 0x61) }))),
    near: server(hex(buildFrame({ opcode: 9, payload: Buffer.alloc(125, 0x61) }))),
    nearNote: 'a ping with 125 bytes',
  },
  'close-payload-length-1': {
    bad: server('880103'),
    near: server('8800'),
    nearNote: 'an empty close body is allowed',
  },
  'invalid-close-code': {
    bad: server('880203ed'),
    near: server('88020bb8'),
    nearNote: 'code 3000, the first registered code',
  },
  'invalid-close-reason-utf8': {
    bad: server('880403e8c328'),
    near: server('880403e8c3a9'),
    nearNote: 'reason "é" (c3 a9)',
  },
  'data-after-close': {
    bad: server('880203e8810548656c6c6f'),
    near: server('810548656c6c6f880203e88900'),
    nearNote: 'text then close; a ping after the close is not a data frame',
  },
  'invalid-utf8': {
    bad: server('8102c328'),
    near: server('0101c38001a9'),
    nearNote: '"é" split across two fragments (c3 | a9) is valid',
  },
  'rsv1-on-control-frame': {
    bad: server('c900', PMD),
    near: server('8900', PMD),
    nearNote: 'the ping without RSV1',
  },
  'rsv1-on-continuation-frame': {
    bad: server('4103f248cdc004c9c90700', PMD),
    near: server('4103f248cd8004c9c90700', PMD),
    nearNote: 'RSV1 only on the first fragment',
  },
  'inflate-failed': {
    bad: server('c102ffff', PMD),
    near: server(HELLO_DEFLATED, PMD),
    nearNote: 'the RFC 7692 §7.2.3.1 compressed "Hello"',
  },
};
