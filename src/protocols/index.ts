/**
 * Application protocols inside messages (DESIGN.md, "Application protocols inside
 * messages: `message.app`"): the layer between the decoder and the views. `createDecoder`
 * is the one function every place that decodes uses (proxy, offthread output, replay,
 * `wsscope decode`): a ConnectionDecoder with this layer attached.
 *
 * The layer detects the connection's protocol (types.ts says how), emits a `protocol`
 * event, and adds `app` to each message event from the protocol's session. When nothing
 * is recognised after the handshake and the first messages, it detaches from the decoder:
 * from then on the connection costs what it did without this layer.
 */
import { ConnectionDecoder, type ConnectionDecoderOptions, type MessageLayer } from '../decoder';
import type { Direction, HandshakeEvent, MessageEvent, ProtocolEvent, WsEvent } from '../decoder/events';
import { MODULES, moduleNamed, protocolNames } from './registry';
import { KEEP_WRAPPED, Unwrapper, markWrapped, unwrapFailed } from './unwrap';
import { SNIFF_MESSAGES, type AppPacket, type AppRef, type AppResult, type NestedDecoder, type ProtocolContext, type ProtocolModule, type ProtocolSession } from './types';

export * from './types';
export { MODULES, moduleNamed, protocolNames } from './registry';

export interface ProtocolOptions {
  /** `--protocol NAME`: this module for every connection, no detection. */
  protocol?: string;
  /** false: no application-protocol layer at all. */
  detect?: boolean;
}

/** A ConnectionDecoder with the application-protocol layer (unless `detect: false`). */
export function createDecoder(options: ConnectionDecoderOptions & ProtocolOptions): ConnectionDecoder {
  if (options.detect === false) return new ConnectionDecoder(options);
  const forced = options.protocol === undefined ? null : moduleNamed(options.protocol);
  if (forced === undefined) throw new Error(unknownProtocol(options.protocol!));
  const layer = new AppLayer(options.conn, forced, options.onEvent);
  const decoder = new ConnectionDecoder({ ...options, layer });
  layer.decoder = decoder;
  return decoder;
}

/** The one-line error for a `--protocol` value no module has. */
export function unknownProtocol(name: string): string {
  return `unknown protocol ${JSON.stringify(name)} (known: ${protocolNames().join(', ')})`;
}

/** The context modules see: the handshake's path, query and subprotocols. */
export function contextOf(handshake: HandshakeEvent | null): ProtocolContext {
  let path = '';
  let query = new URLSearchParams();
  const offered: string[] = [];
  let subprotocol: string | null = null;
  if (handshake) {
    const target = handshake.request.target;
    const q = target.indexOf('?');
    path = q < 0 ? target : target.slice(0, q);
    // An absolute-form target (a forward proxy's request) keeps only its path.
    const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
    if (abs) path = path.slice(abs[0].length) || '/';
    query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    for (const [name, value] of handshake.request.headers) {
      if (name.toLowerCase() === 'sec-websocket-protocol') offered.push(...value.split(',').map((s) => s.trim()).filter(Boolean));
    }
    subprotocol = handshake.protocol;
  }
  const ctx: ProtocolContext = { path, query, subprotocol, offered, nested: () => new Nested(ctx) };
  return ctx;
}

/** Strict evidence from the handshake: the first module that has some, with its reason. */
function fromHandshake(ctx: ProtocolContext): { module: ProtocolModule; reason: string } | null {
  for (const module of MODULES) {
    const reason = module.fromHandshake?.(ctx);
    if (reason) return { module, reason };
  }
  return null;
}

/** Strict evidence from one message. */
function sniff(dir: Direction, opcode: 1 | 2, payload: Buffer, ctx: ProtocolContext): { module: ProtocolModule; reason: string } | null {
  for (const module of MODULES) {
    const reason = module.sniff?.(dir, opcode, payload, ctx);
    if (reason) return { module, reason };
  }
  return null;
}

/** A session's result, never a throw: a module's bug becomes a violation on that message. */
function safeMessage(session: ProtocolSession, protocol: AppPacket['protocol'], dir: Direction, opcode: 1 | 2, payload: Buffer): AppResult {
  try {
    return session.message(dir, opcode, payload);
  } catch (err) {
    return {
      protocol,
      type: 'invalid',
      summary: 'not decoded (internal error)',
      violations: [{ rule: 'app-internal-error', message: `${protocol} decoder failed: ${(err as Error).message}` }],
    };
  }
}

/** A protocol inside another: detected like a connection's, decoded by its own session. */
class Nested implements NestedDecoder {
  private session: ProtocolSession | null = null;
  private protocol: AppPacket['protocol'] | null = null;
  private tries = 0;

  constructor(private readonly ctx: ProtocolContext) {}

  message(dir: Direction, opcode: 1 | 2, payload: Buffer): AppResult {
    if (!this.session) {
      if (this.tries >= SNIFF_MESSAGES) return null;
      this.tries++;
      const found = (this.tries === 1 ? fromHandshakeInner(this.ctx) : null) ?? sniff(dir, opcode, payload, this.ctx);
      if (!found) return null;
      this.protocol = found.module.name;
      this.session = found.module.open(this.ctx);
    }
    return safeMessage(this.session, this.protocol!, dir, opcode, payload);
  }
}

/** Handshake evidence for an inner protocol: only the subprotocol (the path is the outer protocol's). */
function fromHandshakeInner(ctx: ProtocolContext): { module: ProtocolModule; reason: string } | null {
  if (!ctx.subprotocol) return null;
  const found = fromHandshake({ ...ctx, path: '', query: new URLSearchParams() });
  return found;
}

/** Pending requests kept per direction for linking answers (older ones are forgotten). */
const MAX_OPEN_REQUESTS = 1024;

interface OpenRequest {
  packet: AppPacket;
  ref: AppRef;
}

/** The layer of one connection. */
export class AppLayer implements MessageLayer {
  decoder: ConnectionDecoder | null = null;
  private module: ProtocolModule | null = null;
  private session: ProtocolSession | null = null;
  private ctx: ProtocolContext = contextOf(null);
  private sniffed = 0;
  private readonly unwrapper = new Unwrapper();
  private readonly counts = { client: 0, server: 0 };
  /**
   * Requests waiting for an answer, by the direction that sent them, then by id; made at
   * the first packet with an id (two Maps per connection, ~400 bytes, most never used).
   */
  private open: Record<Direction, Map<string, OpenRequest>> | null = null;

  constructor(
    private readonly conn: number,
    private readonly forced: ProtocolModule | null,
    private readonly emit: (event: WsEvent) => void,
  ) {}

  start(handshake: HandshakeEvent | null): { attach: boolean; after: WsEvent | null } {
    this.ctx = contextOf(handshake);
    const found = this.forced ? { module: this.forced, reason: `forced by --protocol ${this.forced.name}` } : fromHandshake(this.ctx);
    if (found) {
      if (handshake) handshake.app = { protocol: found.module.name, reason: found.reason };
      return { attach: true, after: this.decide(found.module, found.reason, handshake?.ts ?? 0) };
    }
    return { attach: MODULES.some((m) => m.sniff), after: null };
  }

  private decide(module: ProtocolModule, reason: string, ts: number): ProtocolEvent {
    this.module = module;
    this.session = module.open(this.ctx);
    return { event: 'protocol', ts, conn: this.conn, protocol: module.name, reason };
  }

  message(event: MessageEvent, raw: Buffer | null): void {
    const index = this.counts[event.dir]++;
    let opcode = event.opcode as 1 | 2;
    // A compressed or base64-wrapped payload is unwrapped first (unwrap.ts), except on
    // connections whose packets may span messages (a message's start is not a payload's).
    let body = raw;
    let wrap: ReturnType<Unwrapper['unwrap']> = null;
    if (raw && (!this.module || !KEEP_WRAPPED.has(this.module.name))) {
      wrap = this.unwrapper.unwrap(opcode, raw);
      if (wrap && !('error' in wrap)) {
        body = wrap.payload;
        opcode = wrap.opcode;
      }
    }
    if (!this.session) {
      // Past SNIFF_MESSAGES nothing is sniffed: a decoder detaches the layer then; a reader
      // that drives the layer without a decoder (the HAR reader) keeps calling it.
      const found = body && this.sniffed < SNIFF_MESSAGES ? sniff(event.dir, opcode, body, this.ctx) : null;
      if (found) this.emit(this.decide(found.module, found.reason, event.ts));
      else {
        if (++this.sniffed >= SNIFF_MESSAGES) this.decoder?.detach();
        this.emit(event);
        return;
      }
    }
    if (body) {
      const app = wrap && 'error' in wrap ? unwrapFailed(this.module!.name, wrap) : safeMessage(this.session!, this.module!.name, event.dir, opcode, body);
      if (app && wrap && !('error' in wrap)) markWrapped(app, wrap.wrapping);
      if (app) {
        if (Array.isArray(app)) for (const p of app) this.link(p, { dir: event.dir, message: index });
        else if (!('partial' in app)) this.link(app, { dir: event.dir, message: index });
        event.app = app;
      }
    }
    this.emit(event);
  }

  /** Pairs requests and answers by id (types.ts: `id`, `pair`), both ways. */
  private link(packet: AppPacket, ref: AppRef): void {
    const inner = packet.inner;
    if (inner) for (const p of Array.isArray(inner) ? inner : [inner]) this.link(p, ref);
    if (packet.id === undefined || packet.pair === undefined) return;
    // Socket.IO ack ids count per namespace.
    const key = `${packet.protocol}/${typeof packet.namespace === 'string' ? packet.namespace : ''}/${String(packet.id)}`;
    const other: Direction = ref.dir === 'client' ? 'server' : 'client';
    const open = (this.open ??= { client: new Map(), server: new Map() });
    if (packet.pair === 'request') {
      const mine = open[ref.dir];
      if (mine.size >= MAX_OPEN_REQUESTS) mine.delete(mine.keys().next().value!);
      mine.set(key, { packet, ref });
      return;
    }
    // An answer comes from the other side; an `end` may come from either (a client's cancel).
    let from = other;
    let request = open[other].get(key);
    if (!request && packet.pair === 'end') {
      from = ref.dir;
      request = open[ref.dir].get(key);
    }
    if (!request) return;
    packet.replyTo = request.ref;
    // The request's event was emitted already: views that keep events (the TUI) see this;
    // NDJSON already written has the request's id, and the answer's replyTo points back.
    request.packet.answeredBy ??= ref;
    if (packet.pair !== 'stream') open[from].delete(key);
  }
}
