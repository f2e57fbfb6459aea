/**
 * The tables the decoder, the views and the docs share: opcodes (RFC 6455 §5.2, §11.8),
 * close codes (§7.4) and the rules the decoder enforces. Rule ids are stable: NDJSON
 * consumers, golden files and docs/rules.md refer to them.
 */
import type { Violation } from './events';

/** Opcodes defined by RFC 6455 §5.2. */
export const OPCODES = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

const OPCODE_NAMES: readonly string[] = [
  'continuation',
  'text',
  'binary',
  'reserved-3',
  'reserved-4',
  'reserved-5',
  'reserved-6',
  'reserved-7',
  'close',
  'ping',
  'pong',
  'reserved-b',
  'reserved-c',
  'reserved-d',
  'reserved-e',
  'reserved-f',
];

/** The name of an opcode: "text", "close", ... or "reserved-3" .. "reserved-f". */
export function opcodeName(opcode: number): string {
  return OPCODE_NAMES[opcode & 0x0f];
}

/** §5.5: "Control frames are identified by opcodes where the most significant bit of the opcode is 1." */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x08) !== 0;
}

/**
 * §5.2: the smallest length form that can carry `length` ("the minimal number of bytes
 * MUST be used to encode the length"): 7 bits up to 125, 16 bits up to 65535, else 64.
 */
export function minimalLengthForm(length: number): 7 | 16 | 64 {
  return length <= 125 ? 7 : length <= 0xffff ? 16 : 64;
}

/** §5.2: %x3-7 and %xB-F are reserved for further non-control and control frames. */
export function isReservedOpcode(opcode: number): boolean {
  return (opcode >= 0x3 && opcode <= 0x7) || opcode >= 0xb;
}

/** Close codes with a name: RFC 6455 §7.4.1 and the IANA registry (§11.7). */
export const CLOSE_CODES = {
  1000: 'Normal Closure',
  1001: 'Going Away',
  1002: 'Protocol Error',
  1003: 'Unsupported Data',
  1004: 'Reserved',
  1005: 'No Status Rcvd',
  1006: 'Abnormal Closure',
  1007: 'Invalid frame payload data',
  1008: 'Policy Violation',
  1009: 'Message Too Big',
  1010: 'Mandatory Ext.',
  1011: 'Internal Error',
  1012: 'Service Restart',
  1013: 'Try Again Later',
  1014: 'Bad Gateway',
  1015: 'TLS handshake',
} as const;

/**
 * The name of a close code, or of its range (§7.4.2) when it has none:
 * 0-999 not used, 1000-2999 reserved for the protocol, 3000-3999 registered with IANA,
 * 4000-4999 private use.
 */
export function closeCodeName(code: number): string {
  const named = (CLOSE_CODES as Record<number, string>)[code];
  if (named !== undefined) return named;
  if (code < 1000) return 'not used (0-999)';
  if (code < 3000) return 'reserved for the protocol (1000-2999)';
  if (code < 4000) return 'registered (3000-3999)';
  if (code < 5000) return 'private use (4000-4999)';
  return 'outside the defined ranges';
}

/**
 * Whether an endpoint may send this code in a Close frame (§7.4.1, §7.4.2): 1005, 1006
 * and 1015 "MUST NOT be set as a status code in a Close control frame by an endpoint",
 * 1004 is reserved, codes below 1000 are not used, 1016-2999 are not (yet) defined,
 * and 3000-4999 are for libraries, frameworks and applications.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** §1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface RuleInfo {
  /** Where the rule comes from, e.g. "RFC 6455 §5.5". */
  readonly section: string;
  /** The RFC's own words the rule enforces, quoted exactly ("..." marks an omission): shown as the RFC's. */
  readonly sentence: string;
  /** Our note on how the sentence applies (related sections, further codes): shown apart, as ours. */
  readonly note?: string;
  /** One line saying what the decoder flags. */
  readonly summary: string;
}

/**
 * Every rule the decoder checks. docs/rules.md lists them all with an example in hex, and
 * test/decoder/rules.test.ts has a breaking input and a near miss for each.
 */
export const RULES = {
  // --- Opening handshake (RFC 6455 §4) ---
  'malformed-http': {
    section: 'RFC 6455 §4.1',
    sentence: 'The handshake MUST be a valid HTTP request as specified by [RFC2616].',
    summary: 'a header line without a name and a colon (a start line that is not HTTP at all stops decoding that direction with an error)',
  },
  'bad-method': {
    section: 'RFC 6455 §4.1',
    sentence: 'The method of the request MUST be GET, and the HTTP version MUST be at least 1.1.',
    summary: 'the upgrade request is not a GET, or not HTTP/1.1 or later',
  },
  'missing-host': {
    section: 'RFC 6455 §4.1',
    sentence: 'The request MUST contain a |Host| header field whose value contains /host/ plus optionally ":" followed by /port/ (when not using the default port).',
    summary: 'the upgrade request has no Host header',
  },
  'missing-upgrade': {
    section: 'RFC 6455 §4.1',
    sentence: 'The request MUST contain an |Upgrade| header field whose value MUST include the "websocket" keyword.',
    summary: 'the upgrade request has no Upgrade header including "websocket"',
  },
  'missing-connection': {
    section: 'RFC 6455 §4.1',
    sentence: 'The request MUST contain a |Connection| header field whose value MUST include the "Upgrade" token.',
    summary: 'the upgrade request has no Connection header including the "Upgrade" token',
  },
  'bad-key': {
    section: 'RFC 6455 §4.1',
    sentence:
      'The request MUST include a header field with the name |Sec-WebSocket-Key|. The value of this header field MUST be a nonce consisting of a randomly selected 16-byte value that has been base64-encoded (see Section 4 of [RFC4648]).',
    summary: 'Sec-WebSocket-Key is missing, repeated, or not the base64 of 16 bytes',
  },
  'bad-version': {
    section: 'RFC 6455 §4.1',
    sentence: 'The request MUST include a header field with the name |Sec-WebSocket-Version|. The value of this header field MUST be 13.',
    summary: 'Sec-WebSocket-Version is missing or not 13',
  },
  'bad-status': {
    section: 'RFC 6455 §4.1',
    sentence:
      'If the status code received from the server is not 101, the client handles the response per HTTP [RFC2616] procedures.',
    note: '§4.2.2: a server that accepts the connection MUST reply with "A Status-Line with a 101 response code".',
    summary: 'the server answered an upgrade request with a status other than 101: no WebSocket connection',
  },
  'response-missing-upgrade': {
    section: 'RFC 6455 §4.1',
    sentence:
      'If the response lacks an |Upgrade| header field or the |Upgrade| header field contains a value that is not an ASCII case-insensitive match for the value "websocket", the client MUST _Fail the WebSocket Connection_.',
    summary: 'the 101 response has no "Upgrade: websocket"',
  },
  'response-missing-connection': {
    section: 'RFC 6455 §4.1',
    sentence:
      'If the response lacks a |Connection| header field or the |Connection| header field doesn\'t contain a token that is an ASCII case-insensitive match for the value "Upgrade", the client MUST _Fail the WebSocket Connection_.',
    summary: 'the 101 response has no Connection header with the "Upgrade" token',
  },
  'bad-accept': {
    section: 'RFC 6455 §4.1',
    sentence:
      'If the response lacks a |Sec-WebSocket-Accept| header field or the |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of the concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" but ignoring any leading and trailing whitespace, the client MUST _Fail the WebSocket Connection_.',
    summary: 'Sec-WebSocket-Accept is missing or differs from base64(SHA-1(key + GUID))',
  },
  'unrequested-extension': {
    section: 'RFC 6455 §4.1',
    sentence:
      "If the response includes a |Sec-WebSocket-Extensions| header field and this header field indicates the use of an extension that was not present in the client's handshake (the server has indicated an extension not requested by the client), the client MUST _Fail the WebSocket Connection_.",
    summary: 'the server accepted an extension the client did not offer',
  },
  'unrequested-protocol': {
    section: 'RFC 6455 §4.1',
    sentence:
      "If the response includes a |Sec-WebSocket-Protocol| header field and this header field indicates the use of a subprotocol that was not present in the client's handshake (the server has indicated a subprotocol not requested by the client), the client MUST _Fail the WebSocket Connection_.",
    summary: 'the server selected a subprotocol the client did not offer',
  },
  'bad-deflate-params': {
    section: 'RFC 7692 §7',
    sentence:
      'A client MUST _Fail the WebSocket Connection_ if the peer server accepted an extension negotiation offer for this extension with an extension negotiation response meeting any of the following conditions: The negotiation response contains an extension parameter not defined for use in a response. The negotiation response contains an extension parameter with an invalid value. The negotiation response contains multiple extension parameters with the same name. The client does not support the configuration that the response represents.',
    summary: 'the accepted permessage-deflate has an unknown, repeated or invalid parameter (window bits must be 8..15)',
  },
  // --- Framing (RFC 6455 §5.1, §5.2) ---
  'unmasked-client-frame': {
    section: 'RFC 6455 §5.1',
    sentence:
      'To avoid confusing network intermediaries (such as intercepting proxies) and for security reasons that are further discussed in Section 10.3, a client MUST mask all frames that it sends to the server (see Section 5.3 for further details). ... The server MUST close the connection upon receiving a frame that is not masked.',
    summary: 'a frame from the client has MASK = 0',
  },
  'masked-server-frame': {
    section: 'RFC 6455 §5.1',
    sentence: 'A server MUST NOT mask any frames that it sends to the client. A client MUST close a connection if it detects a masked frame.',
    summary: 'a frame from the server has MASK = 1',
  },
  'rsv-without-extension': {
    section: 'RFC 6455 §5.2',
    sentence:
      'RSV1, RSV2, RSV3: 1 bit each. MUST be 0 unless an extension is negotiated that defines meanings for non-zero values. If a nonzero value is received and none of the negotiated extensions defines the meaning of such a nonzero value, the receiving endpoint MUST _Fail the WebSocket Connection_.',
    summary: 'RSV1 set without permessage-deflate negotiated, or RSV2/RSV3 set (no negotiated extension defines them)',
  },
  'reserved-opcode': {
    section: 'RFC 6455 §5.2',
    sentence:
      'If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_. ... %x3-7 are reserved for further non-control frames ... %xB-F are reserved for further control frames',
    summary: 'opcode 0x3-0x7 or 0xB-0xF',
  },
  'non-minimal-length': {
    section: 'RFC 6455 §5.2',
    sentence:
      "Note that in all cases, the minimal number of bytes MUST be used to encode the length, for example, the length of a 124-byte-long string can't be encoded as the sequence 126, 0, 124.",
    summary: 'a length below 126 in the 16-bit form, or below 65536 in the 64-bit form',
  },
  'length-msb-set': {
    section: 'RFC 6455 §5.2',
    sentence: 'If 127, the following 8 bytes interpreted as a 64-bit unsigned integer (the most significant bit MUST be 0) are the payload length.',
    summary: 'the 64-bit length has its most significant bit set; the stream cannot be followed past it',
  },
  // --- Fragmentation (RFC 6455 §5.4) ---
  'unexpected-continuation': {
    section: 'RFC 6455 §5.4',
    sentence:
      'A fragmented message consists of a single frame with the FIN bit clear and an opcode other than 0, followed by zero or more frames with the FIN bit clear and the opcode set to 0, and terminated by a single frame with the FIN bit set and an opcode of 0.',
    summary: 'a continuation frame (opcode 0) with no fragmented message in progress',
  },
  'interleaved-data-frame': {
    section: 'RFC 6455 §5.4',
    sentence:
      'The fragments of one message MUST NOT be interleaved between the fragments of another message unless an extension has been negotiated that can interpret the interleaving.',
    summary: 'a new text or binary frame while a fragmented message is still open',
  },
  'fragmented-control-frame': {
    section: 'RFC 6455 §5.4',
    sentence: 'Control frames (see Section 5.5) MAY be injected in the middle of a fragmented message. Control frames themselves MUST NOT be fragmented.',
    summary: 'a close, ping or pong frame with FIN = 0',
  },
  // --- Control frames (RFC 6455 §5.5) ---
  'control-frame-too-long': {
    section: 'RFC 6455 §5.5',
    sentence: 'All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented.',
    summary: 'a close, ping or pong frame with more than 125 payload bytes',
  },
  'close-payload-length-1': {
    section: 'RFC 6455 §5.5.1',
    sentence:
      'If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer (in network byte order) representing a status code with value /code/ defined in Section 7.4.',
    summary: 'a close frame with a 1-byte payload (a body too short for a status code)',
  },
  'invalid-close-code': {
    section: 'RFC 6455 §7.4',
    sentence:
      '1005 is a reserved value and MUST NOT be set as a status code in a Close control frame by an endpoint.',
    note: '§7.4.1 says the same of 1006 and 1015, and 1004 is reserved; §7.4.2: status codes in the range 0-999 are not used, 1000-2999 are reserved for this protocol and its extensions.',
    summary: 'a close code below 1000, 1004-1006, 1015, 1016-2999 or 5000 and above',
  },
  'invalid-close-reason-utf8': {
    section: 'RFC 6455 §5.5.1',
    sentence:
      'Following the 2-byte integer, the body MAY contain UTF-8-encoded data with value /reason/, the interpretation of which is not defined by this specification.',
    note: '§8.1: an endpoint that finds a byte stream it is to interpret as UTF-8 not valid UTF-8 MUST _Fail the WebSocket Connection_.',
    summary: 'the reason of a close frame is not valid UTF-8',
  },
  'data-after-close': {
    section: 'RFC 6455 §5.5.1',
    sentence: 'The application MUST NOT send any more data frames after sending a Close frame.',
    summary: 'a text, binary or continuation frame after the same side sent a close frame',
  },
  // --- UTF-8 (RFC 6455 §8.1) ---
  'invalid-utf8': {
    section: 'RFC 6455 §8.1',
    sentence:
      'When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_.',
    summary: 'a text message (reassembled, inflated) that is not valid UTF-8, checked incrementally across fragments',
  },
  // --- permessage-deflate (RFC 7692) ---
  'rsv1-on-control-frame': {
    section: 'RFC 7692 §6',
    sentence:
      'An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and non-first fragments of a data message. An endpoint receiving such a frame MUST _Fail the WebSocket Connection_.',
    summary: 'RSV1 set on a close, ping or pong frame while permessage-deflate is negotiated',
  },
  'rsv1-on-continuation-frame': {
    section: 'RFC 7692 §6',
    sentence:
      'An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and non-first fragments of a data message. An endpoint receiving such a frame MUST _Fail the WebSocket Connection_.',
    summary: 'RSV1 set on a continuation frame while permessage-deflate is negotiated',
  },
  'inflate-failed': {
    section: 'RFC 7692 §7.2.2',
    sentence:
      'An endpoint uses the following algorithm to decompress a message. 1. Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload of the message. 2. Decompress the resulting data using DEFLATE.',
    note: 'RFC 7692 §6.2: a message with the "Per-Message Compressed" bit set is decompressed; data that is not DEFLATE cannot be.',
    summary: 'a compressed message that is not a valid DEFLATE stream',
  },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;

/** A violation of `rule`, with its RFC section. */
export function violation(rule: RuleId, message: string): Violation {
  return { rule, message, section: RULES[rule].section };
}
