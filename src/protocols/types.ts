/**
 * Application protocols inside WebSocket messages (DESIGN.md, "Application protocols
 * inside messages: `message.app`"): the one interface every protocol module implements.
 *
 * A module is sans-IO like the decoder: whole message payloads and the handshake in, a
 * typed description out (no sockets, timers, console or screen). It imports nothing from
 * the project but src/decoder/events and this folder's helpers (json.ts, violations).
 *
 * How a module is used (src/protocols/index.ts, `AppLayer`):
 * 1. Detection, per connection, in this order, the first answer wins:
 *    - `--protocol NAME` forces a module (reason "forced by --protocol");
 *    - each module's `fromHandshake(ctx)`, in registry order: strict evidence from
 *      Sec-WebSocket-Protocol first, then the request path and query; returns a reason
 *      ("Sec-WebSocket-Protocol: v12.stomp") or null;
 *    - while nothing is decided, each of the first messages (at most SNIFF_MESSAGES)
 *      goes to every module's `sniff(dir, opcode, payload, ctx)`: a strict check of that
 *      one message (parse it fully; a lone "2" is nobody's). A false claim is worse than
 *      none: return null unless the message can only be this protocol.
 *    When one is decided, a `protocol` event `{conn, protocol, reason}` is emitted, and
 *    `open(ctx)` makes the connection's session; the message that decided (when sniffed)
 *    goes to that session too. When nothing is decided after the first messages, the
 *    layer detaches and the connection costs nothing more.
 * 2. Every data message then goes to `session.message(dir, opcode, payload)`, which
 *    returns the message's `app`:
 *    - one AppPacket, or an array when the message completed several packets;
 *    - `{protocol, partial: true}` when the message completed none (a packet protocol
 *      whose packet continues in the next message: keep the bytes per direction);
 *    - null when the message is not this protocol's at all (the event gets no `app`).
 *    A packet completed from several messages carries `fromMessages` (how many).
 *    The session must never throw on any input (the layer catches and reports it anyway,
 *    as an `app-internal-error` violation) and keeps bounded memory: at most
 *    MAX_PENDING bytes held per direction (more: report a violation and drop them).
 *    `payload` is valid only during the call: copy what you keep.
 * 3. Malformed input gives `violations` on the packet: rule ids prefixed with the
 *    protocol and a hyphen (`stomp-missing-null`, `mqtt-bad-remaining-length`). The
 *    packet still gets a `type` (`"invalid"` when nothing better is known).
 *
 * Field conventions, so that filters, search and the views work for every protocol
 * (src/protocols/index.ts `appWords`, the TUI's `f` filter words):
 * - `type`: the protocol's own name (`EVENT`, `PUBLISH`, `SEND`, `subscribe`); `code`:
 *   the numeric code where the wire has one.
 * - `summary`: one line for lists, e.g. `EVENT "chat" ["hi"] ack 3`; plain text (views
 *   escape it).
 * - `event`: an event or method name (Socket.IO event, JSON-RPC method, WAMP procedure,
 *   SignalR target); `topic`: a topic, destination, channel or subscription name (MQTT
 *   topic, STOMP destination, Action Cable channel). `f event:chat`, `f topic:t/1` match
 *   these fields (of the packet and its `inner` packets).
 * - `id`: the request/response id where the protocol pairs them (Socket.IO ack id,
 *   JSON-RPC id, GraphQL operation id, MQTT packet id, STOMP receipt); with `pair`
 *   `"request"` or `"response"`, the layer links them both ways (`replyTo` on the answer:
 *   `{dir, message}` of the request's message; `answeredBy` on the request's packet, set
 *   when the answer arrives). `pair: "stream"` marks packets that belong to an
 *   operation that goes on (GraphQL next) and `pair: "end"` one that closes it. Ids
 *   are matched within the packet's `namespace` when it has one (Socket.IO).
 * - `inner`: a protocol carried inside this one (STOMP in SockJS; MessagePack in
 *   SignalR), an AppPacket or an array of them.
 * - other fields: the protocol's own (headers, body, args, namespace, ...), JSON values.
 */
import type { Direction, HandshakeEvent, Violation } from '../decoder/events';

/** DESIGN.md's protocol names (the filter words `f mqtt`, `f socket.io`, ... come from here). */
export const PROTOCOL_NAMES = ['socket.io', 'engine.io', 'sockjs', 'stomp', 'mqtt', 'graphql-transport-ws', 'graphql-ws', 'json-rpc', 'signalr', 'wamp', 'actioncable', 'msgpack', 'cbor'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

/** One decoded packet of an application protocol (a message's `app`, or one of them). */
export interface AppPacket {
  protocol: ProtocolName;
  type: string;
  code?: number;
  summary: string;
  violations?: Violation[];
  /** How many WebSocket messages this packet took (only when more than one). */
  fromMessages?: number;
  /** The protocol carried inside this packet. */
  inner?: AppPacket | AppPacket[];
  /** Event or method name (see the field conventions above). */
  event?: string;
  /** Topic, destination or channel. */
  topic?: string;
  /** Request/response id, with `pair` saying which side this packet is. */
  id?: string | number;
  pair?: 'request' | 'response' | 'stream' | 'end';
  /** Set by the layer: the request this answers (its message's direction and index). */
  replyTo?: AppRef;
  /** Set by the layer when the answer arrives: the answer's message. */
  answeredBy?: AppRef;
  [field: string]: unknown;
}

/** Where a packet is: its message's sender and that message's index (per connection and direction, from 0). */
export interface AppRef {
  dir: Direction;
  message: number;
}

/** A message that completed no packet of a packet protocol (the packet goes on in the next). */
export interface AppPartial {
  protocol: ProtocolName;
  partial: true;
  [field: string]: unknown;
}

export type AppResult = AppPacket | AppPacket[] | AppPartial | null;

/**
 * What a module knows of the connection besides its messages: what the handshake said
 * (contextOf). Not the handshake event itself: no module read it, and a context holding it
 * kept each connection's handshake (its headers, and the head texts they are sliced from:
 * ~2 kB) for as long as detection went on, past the opening of thousands of connections at
 * once, and so into the old generation as garbage that stayed (issue #13).
 */
export interface ProtocolContext {
  /** The request target's path ('' without a handshake). */
  path: string;
  query: URLSearchParams;
  /** The subprotocol the server accepted (Sec-WebSocket-Protocol of the response), or null. */
  subprotocol: string | null;
  /** The subprotocols the client offered, in order. */
  offered: string[];
  /**
   * A decoder for a protocol carried inside this one (STOMP in SockJS): detects it with
   * the same rules (this context's handshake evidence, then strict sniffing of the
   * first inner payloads) and decodes it. One per use; its results go in `inner`.
   */
  nested(): NestedDecoder;
}

export interface NestedDecoder {
  /** An inner payload: its packet(s), or null while no protocol is recognised. */
  message(dir: Direction, opcode: 1 | 2, payload: Buffer): AppResult;
}

/** One connection's state for one protocol (per-direction reassembly lives here). */
export interface ProtocolSession {
  message(dir: Direction, opcode: 1 | 2, payload: Buffer): AppResult;
}

export interface ProtocolModule {
  name: ProtocolName;
  /** Strict evidence from the handshake (subprotocol, path, query) → a reason, or null. */
  fromHandshake?(ctx: ProtocolContext): string | null;
  /** Strict evidence from one of the first messages → a reason, or null. */
  sniff?(dir: Direction, opcode: 1 | 2, payload: Buffer, ctx: ProtocolContext): string | null;
  open(ctx: ProtocolContext): ProtocolSession;
}

/** Bytes a session may hold per direction for a packet not yet complete. */
export const MAX_PENDING = 4 * 1024 * 1024;
/** Messages (both directions together) offered to `sniff` before the layer gives up. */
export const SNIFF_MESSAGES = 4;
