/**
 * The typed events of wsscope: the contract between the decoder, the proxy and every
 * view (text log, NDJSON, TUI, capture writer). Field names follow ../shared/DESIGN.md
 * ("NDJSON events"); an NDJSON line is `JSON.stringify(event)`.
 *
 * Byte strings are lowercase hex without separators. `ts` is milliseconds since the
 * epoch (fractional).
 */

/** The sender of the bytes. */
export type Direction = 'client' | 'server';

/** A rule broken by the bytes on the wire; `rule` is a stable id (see constants.ts). */
export interface Violation {
  rule: string;
  message: string;
  /** The RFC section the rule comes from, e.g. "RFC 6455 §5.5". Added to DESIGN.md's shape. */
  section?: string;
}

export interface ListeningEvent {
  event: 'listening';
  ts: number;
  proxy: string;
  backend?: string;
  target?: string;
}

/** One side's TLS session (DESIGN.md, "One listening port for every kind of client"). */
export interface TlsInfo {
  /** The server name (SNI, RFC 6066 §3) the client asked for; null when it sent none. */
  sni: string | null;
  /** The ALPN protocol agreed (RFC 7301), e.g. "http/1.1"; null when none was. */
  alpn: string | null;
  /** e.g. "TLSv1.3" */
  version: string;
  /** The cipher suite's name, e.g. "TLS_AES_256_GCM_SHA384". */
  cipher: string;
}

/** How a client reached the proxy: straight (reverse), an absolute-form request (forward), CONNECT (tunnel). */
export type ProxyMode = 'reverse' | 'forward' | 'tunnel';

export interface OpenEvent {
  event: 'open';
  ts: number;
  conn: number;
  client: string;
  target: string;
  /** What the connection's events can and cannot show, e.g. for a HAR import (src/import/har.ts). Added to DESIGN.md. */
  note?: string;
  /** Absent in captures made before the one-port front. */
  mode?: ProxyMode;
  /** The client side's TLS (for a tunnel, the one inside it); null for plain. */
  tls?: TlsInfo | null;
  /** "ws://..." or "wss://..." as dialled ("tcp://host:port" for a --passthrough tunnel); null when nothing was. Added to DESIGN.md. */
  upstream?: string | null;
  /** The upstream side's TLS (a wss:// upstream); null for plain or nothing dialled. Added to DESIGN.md. */
  upstreamTls?: TlsInfo | null;
  /** A --passthrough tunnel: relayed blind, not decoded. Added to DESIGN.md. */
  passthrough?: boolean;
}

export interface HttpRequestHead {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
}

export interface HttpResponseHead {
  version?: string;
  status: number;
  reason: string;
  headers: [string, string][];
}

export interface PerMessageDeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** 8..15, or null when not given (meaning 15). */
  serverMaxWindowBits: number | null;
  /** 8..15, true when given without a value, or null when not given. */
  clientMaxWindowBits: number | true | null;
}

export interface HandshakeEvent {
  event: 'handshake';
  ts: number;
  conn: number;
  request: HttpRequestHead;
  response: HttpResponseHead;
  key: string | null;
  accept: string | null;
  expectedAccept: string | null;
  acceptValid: boolean;
  protocol: string | null;
  /** The Sec-WebSocket-Extensions the server accepted, as sent. */
  extensions: string | null;
  /** Parsed permessage-deflate parameters when the server accepted it (RFC 7692). */
  permessageDeflate?: PerMessageDeflateParams | null;
  violations: Violation[];
  /** The application protocol the handshake shows (subprotocol, path, --protocol) and why. Added to DESIGN.md. */
  app?: { protocol: string; reason: string };
}

/** A non-upgrade HTTP exchange seen on a connection (HTTP pass-through). Added to DESIGN.md. */
export interface HttpEvent {
  event: 'http';
  ts: number;
  conn: number;
  request: HttpRequestHead;
  response: HttpResponseHead | null;
  /** Rules broken by the exchange (e.g. bad-status for a refused upgrade). Added to DESIGN.md. */
  violations?: Violation[];
}

export interface FrameEvent {
  event: 'frame';
  ts: number;
  conn: number;
  dir: Direction;
  /** Counts frames per connection and direction from 0. */
  index: number;
  /** Byte offset of the frame's first byte in this direction's stream after the handshake. */
  offset: number;
  /** All header bytes: the 2 fixed bytes, the extended length, the masking key. */
  header: string;
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  opcodeName: string;
  masked: boolean;
  maskKey: string | null;
  /** The full payload length as the header states it (a number: exact up to 2^53). */
  payloadLength: number;
  lengthForm: 7 | 16 | 64;
  /** Unmasked payload, at most maxPayload bytes. */
  payload: string;
  payloadTruncated: boolean;
  closeCode?: number;
  /** The close code's name (RFC 6455 §7.4.1) or its range (§7.4.2). Added to DESIGN.md. */
  closeCodeName?: string;
  closeReason?: string;
  violations: Violation[];
}

export interface MessageEvent {
  event: 'message';
  ts: number;
  conn: number;
  dir: Direction;
  opcode: number;
  opcodeName: string;
  /** How many frames the message was made of. */
  frames: number;
  /** The full length of the (inflated) message. */
  length: number;
  compressed: boolean;
  /** Set for text messages: the text (capped at maxPayload bytes). */
  text?: string;
  /** Set for binary messages: the bytes as hex (capped at maxPayload bytes). */
  data?: string;
  truncated?: boolean;
  /**
   * "har": read from a HAR file, which records messages, not frames: `frames` is 0 (not
   * recorded) and `compressed` false (not known). Added to DESIGN.md.
   */
  source?: 'har';
  violations: Violation[];
  /** The application-protocol packet(s) the message carries (DESIGN.md, `message.app`; src/protocols/types.ts). */
  app?: AppInfo | AppInfo[];
}

/**
 * A message's application-protocol packet (src/protocols/types.ts AppPacket has every
 * field), or `{protocol, partial: true}` when the message completed no packet.
 */
export interface AppInfo {
  protocol: string;
  type?: string;
  summary?: string;
  partial?: true;
  [field: string]: unknown;
}

/** The application protocol of a connection was decided (DESIGN.md: `protocol`). */
export interface ProtocolEvent {
  event: 'protocol';
  ts: number;
  conn: number;
  protocol: string;
  reason: string;
}

export interface EndEvent {
  event: 'end';
  ts: number;
  conn: number;
  reason: string;
  bytes: { client: number; server: number };
}

export interface ErrorEvent {
  event: 'error';
  ts: number;
  conn?: number;
  message: string;
  /** The direction the error is about, when it is one (e.g. a gap). Added to DESIGN.md. */
  dir?: Direction;
  /**
   * Bytes of `dir`'s stream missing from a packet capture (src/import/tcp.ts): from
   * `offset` (in that direction's stream, handshake included), `length` bytes (null: not
   * known). Decoding of that direction stops there. Added to DESIGN.md.
   */
  gap?: { offset: number; length: number | null };
}

export type InterceptAction = 'drop' | 'replace' | 'inject' | 'close' | 'reencode';

/**
 * What a `--script` hook or the terminal UI did to a connection's frames (DESIGN.md
 * "Intercepting"; explain, hook, original, frames and the reencode action added).
 */
export interface InterceptEvent {
  event: 'intercept';
  ts: number;
  conn: number;
  /** The sender whose stream changed. */
  dir: Direction;
  /** The index of the frame as the sender sent it (inject, close, reencode: of the first frame sent). */
  index: number;
  action: InterceptAction;
  by: 'script' | 'tui' | 'proxy';
  /** The hook that decided (onFrame, onMessage), when one did. */
  hook?: 'onFrame' | 'onMessage';
  /** What happened, in one line. */
  explain: string;
  /** The frame events of what went out instead (empty for a drop). */
  sent: FrameEvent[];
  /** The frame as it arrived (drop, replace; for a message: its first frame). */
  original?: FrameEvent;
  /** How many frames of the sender the action took (a message's frames for onMessage). */
  frames?: number;
}

export type WsEvent =
  | ListeningEvent
  | OpenEvent
  | HandshakeEvent
  | HttpEvent
  | FrameEvent
  | MessageEvent
  | ProtocolEvent
  | EndEvent
  | ErrorEvent
  | InterceptEvent;
