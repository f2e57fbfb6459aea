/**
 * The decoder's public face (sans-IO: Buffer chunks in, events out; no sockets, timers
 * or console). A ConnectionDecoder follows one TCP connection: the HTTP/1.1 exchange
 * (RFC 6455 §4; keep-alive past non-upgrade requests), then after a 101 the frames of
 * each direction (§5), their messages (§5.4, §8.1, RFC 7692) and every rule they break.
 */
import { FrameDecoder } from './frames';
import { checkRequest, checkResponse, deflateParams, handshakeEvent, isUpgradeRequest, parseExtensions, parseRequestHead, parseResponseHead } from './handshake';
import type { Direction, HandshakeEvent, HttpRequestHead, HttpResponseHead, MessageEvent, Violation, WsEvent } from './events';
import { BodySkipper, requestBodyLength, responseBodyLength, type BodyLength } from './http';
import { violation } from './constants';
import { ByteQueue } from './queue';

export * from './events';
export { RULES, OPCODES, CLOSE_CODES, closeCodeName, opcodeName, isValidCloseCode, type RuleId } from './constants';
export { computeAccept, parseExtensions } from './handshake';
export { headerFields } from './fields';

export interface ConnectionDecoderOptions {
  /** The connection number stamped on every event. */
  conn: number;
  /** Payload preview cap in bytes for frame and message events (DESIGN.md: default 65536). */
  maxPayload?: number;
  /**
   * Largest compressed or inflated permessage-deflate message handled (default 16 MiB);
   * beyond it a message is reported (an `error` event) but not inflated.
   */
  maxInflate?: number;
  /**
   * 'handshake' (default): the client's bytes start with the HTTP upgrade request and the
   * server's with the response; frames follow. 'frames': both directions are raw frames
   * (e.g. `wsscope decode --hex`), with no extension negotiated unless `extensions` says so.
   */
  start?: 'handshake' | 'frames';
  /** With start 'frames': a Sec-WebSocket-Extensions value to assume, e.g. "permessage-deflate". */
  extensions?: string;
  /** Receives every event, in order, synchronously. */
  onEvent: (event: WsEvent) => void;
  /** A layer that reads whole messages (src/protocols: application protocols); none by default. */
  layer?: MessageLayer;
  /**
   * Keep the handshake event (`handshake`) for the connection's life: only where an
   * intercept stage may join later (src/proxy, the terminal UI's stage on demand). Off by
   * default: at thousands of connections each kept handshake costs kilobytes (issue #13).
   */
  keepHandshake?: boolean;
  /**
   * The caller never writes to a chunk's bytes after pushing it (a proxy relaying socket
   * reads: Node gives each read a buffer of its own). Large binary payloads are then kept
   * as views of the chunks, masked, and unmasked only when read: no copy per frame.
   * Off by default: a caller may reuse its buffer.
   */
  immutableChunks?: boolean;
}

/**
 * A layer above the decoder that needs whole messages (src/protocols). While it is
 * attached, message events go to `message` with their whole payload instead of to
 * onEvent, and the layer emits them itself (after adding fields). `detach()` on the
 * decoder hands messages straight to onEvent again, with no copy beyond the preview.
 */
export interface MessageLayer {
  /**
   * The frames begin: `handshake` is the event about to be emitted (null when decoding
   * starts at frames). The layer may add fields to it; `after` is emitted right after it.
   * `attach: false` detaches the layer at once.
   */
  start(handshake: HandshakeEvent | null): { attach: boolean; after: WsEvent | null };
  /** A data message; `body` is its whole payload, valid only during the call (null beyond maxInflate). */
  message(event: MessageEvent, body: Buffer | null): void;
}

export const DEFAULT_MAX_PAYLOAD = 65536;
export const DEFAULT_MAX_INFLATE = 16 * 1024 * 1024;
/** An HTTP head larger than this is reported once and decoding that direction stops. */
export const MAX_HEAD = 64 * 1024;
/** Client bytes held while waiting for the server's answer to an upgrade request. */
const MAX_WAIT = 1024 * 1024;
/** Requests waiting for their responses (HTTP pipelining) before the client side stops. */
const MAX_PIPELINED = 256;

type Mode = 'head' | 'body' | 'wait' | 'frames' | 'stopped';

interface Side {
  dir: Direction;
  mode: Mode;
  /** Bytes received but not yet consumed by the HTTP layer. */
  pending: ByteQueue;
  /** How far pending was searched for the end of a head without finding it. */
  scanned: number;
  body: BodySkipper | null;
  frames: FrameDecoder | null;
  bytes: number;
  /** Where this direction's frames start in its byte stream (after the handshake), once known. */
  framesAt: number | null;
}

interface PendingRequest {
  head: HttpRequestHead;
  violations: Violation[];
  upgrade: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * The `pending` of every direction past its HTTP layer (frames): always empty. Nothing
 * appends to it (push() hands a frames direction's bytes to its FrameDecoder); if a bug
 * did, it would throw, and push() reports that and stops the direction, rather than one
 * connection's bytes reaching another's queue.
 */
class ReleasedQueue extends ByteQueue {
  override append(): void {
    throw new Error('bytes appended to a direction past its HTTP layer');
  }
}
const RELEASED = new ReleasedQueue();

/**
 * Decodes one connection: both directions, from the handshake on. Feeding the same bytes
 * in any chunking yields the same events (but for `ts`, the time of the chunk that
 * completed the event).
 */
export class ConnectionDecoder {
  private readonly client: Side;
  private readonly server: Side;
  private readonly requests: PendingRequest[] = [];
  private readonly maxPayload: number;
  private readonly maxInflate: number;
  /** The layer that now receives the message events, or null. */
  private layer: MessageLayer | null = null;
  /**
   * The layer offered (options.layer) until it declines or detaches: not kept in `options`,
   * so that a detached layer (and the handshake it read) is freed with it (issue #13: at
   * 9,000 connections each kept handshake cost kilobytes).
   */
  private offered: MessageLayer | null;
  readonly options: Omit<ConnectionDecoderOptions, 'layer'>;

  constructor(options: ConnectionDecoderOptions) {
    const { layer, ...rest } = options;
    this.options = rest;
    this.offered = layer ?? null;
    this.maxPayload = Math.max(0, Math.floor(options.maxPayload ?? DEFAULT_MAX_PAYLOAD));
    this.maxInflate = Math.max(1, Math.floor(options.maxInflate ?? DEFAULT_MAX_INFLATE));
    const side = (dir: Direction): Side => ({ dir, mode: 'head', pending: new ByteQueue(), scanned: 0, body: null, frames: null, bytes: 0, framesAt: null });
    this.client = side('client');
    this.server = side('server');
    if (options.start === 'frames') {
      const exts = parseExtensions(options.extensions ?? '');
      const pmd = exts.find((e) => e.name === 'permessage-deflate');
      const params = pmd ? deflateParams(pmd.params, 'assumed', []) : null;
      const unknown = exts.some((e) => e.name !== 'permessage-deflate');
      this.startFrames(this.client, params ? { noContextTakeover: params.clientNoContextTakeover } : null, unknown);
      this.startFrames(this.server, params ? { noContextTakeover: params.serverNoContextTakeover } : null, unknown);
      this.startLayer(null);
    }
  }

  /** Detaches the message layer: messages go straight to onEvent, nothing kept beyond the preview. */
  detach(): void {
    this.layer = null;
    this.offered = null;
    for (const side of [this.client, this.server]) if (side.frames) side.frames.messages.whole = false;
  }

  /** Offers the frames' start to the layer; `after` is emitted once the caller emitted the handshake. */
  private startLayer(handshake: HandshakeEvent | null): WsEvent | null {
    const layer = this.offered;
    if (!layer) return null;
    const { attach, after } = layer.start(handshake);
    if (!attach) this.offered = null;
    if (attach) {
      this.layer = layer;
      for (const side of [this.client, this.server]) if (side.frames) side.frames.messages.whole = true;
    }
    if (handshake === null && after) this.emit(after);
    return after;
  }

  private emitMessage = (event: MessageEvent, body: Buffer | null): void => {
    if (this.layer) this.layer.message(event, body);
    else this.emit(event);
  };

  /** The message layer's errors (MessageConfig.emitError), as `error` events. */
  private emitError = (message: string, ts: number): void => this.error(ts, message);

  /** Bytes received so far per direction. */
  get bytes(): { client: number; server: number } {
    return { client: this.client.bytes, server: this.server.bytes };
  }

  /**
   * Where `dir`'s frames start in the bytes it sent (the handshake's length, 0 with start
   * 'frames'), or null while that direction is still HTTP or cannot be decoded any more:
   * the intercept stage (src/intercept) splits the stream there.
   */
  framesOffset(dir: Direction): number | null {
    const side = dir === 'client' ? this.client : this.server;
    return side.mode === 'frames' && !side.frames!.halted ? side.framesAt : null;
  }

  /** With options.keepHandshake: the handshake event, once the 101 was seen (an intercept stage joining later needs it). */
  handshake: HandshakeEvent | null = null;

  /**
   * For an intercept stage joining `dir` mid-stream (src/intercept): how many of the bytes
   * `next` must go by first (FrameDecoder.bytesToJoin); null while not decoding its frames.
   */
  bytesToJoin(dir: Direction, next: Buffer): number | null {
    const side = dir === 'client' ? this.client : this.server;
    return side.mode === 'frames' ? side.frames!.bytesToJoin(next) : null;
  }

  /** Where `dir`'s frames stand (frames so far, offset, a compression window in use), or null. */
  joinPoint(dir: Direction): { index: number; offset: number; windowUsed: boolean } | null {
    const side = dir === 'client' ? this.client : this.server;
    if (side.mode !== 'frames' || side.frames!.halted) return null;
    const f = side.frames!;
    return { index: f.index, offset: f.offset, windowUsed: f.messages.windowUsed };
  }

  /** Bytes that one side sent, as they arrived. Never throws. */
  push(dir: Direction, chunk: Buffer, ts: number): void {
    const side = dir === 'client' ? this.client : this.server;
    side.bytes += chunk.length;
    try {
      if (side.mode === 'frames') {
        side.frames!.push(chunk, ts);
        return;
      }
      if (side.mode === 'stopped') return;
      side.pending.append(chunk);
      this.pump(ts);
    } catch (err) {
      // A bug must never break the proxy's forwarding: report it and stop this direction.
      side.mode = 'stopped';
      side.frames?.halt();
      side.pending.clear();
      this.error(ts, `${dir}: internal decoder error: ${(err as Error).message}; stopped decoding this direction`);
    }
  }

  /** The connection ended: reports what was left unfinished (a partial frame, an open message). */
  finish(ts: number): void {
    for (const side of [this.client, this.server]) {
      try {
        if (side.mode === 'frames') side.frames!.finish(ts);
        // Server bytes with no request to pair them with (e.g. the proxy's own 400 or 502 to a
        // request it never forwarded) were held, not cut short: say that, not "inside a head".
        else if (side === this.server && side.mode === 'head' && side.pending.length && this.requests.length === 0) this.error(ts, `server: ${side.pending.length} bytes sent without a request to answer; not decoded`);
        else if (side.mode === 'head' && side.pending.length) this.error(ts, `${side.dir}: stream ended inside an HTTP head (${side.pending.length} bytes)`);
        else if (side.mode === 'body') this.error(ts, `${side.dir}: stream ended inside an HTTP body`);
        else if (side.mode === 'wait' && side.pending.length) this.error(ts, `${side.dir}: ${side.pending.length} bytes after the upgrade request were never answered by the server`);
      } catch (err) {
        this.error(ts, `${side.dir}: internal decoder error: ${(err as Error).message}`);
      }
      side.mode = 'stopped';
      side.pending.clear();
    }
  }

  private emit(event: WsEvent): void {
    this.options.onEvent(event);
  }

  private error(ts: number, message: string): void {
    this.emit({ event: 'error', ts, conn: this.options.conn, message });
  }

  private stop(side: Side, ts: number, message: string | null): void {
    side.mode = 'stopped';
    side.pending.release();
    if (message) this.error(ts, message);
  }

  private startFrames(side: Side, deflate: { noContextTakeover: boolean } | null, unknownExtension: boolean): void {
    side.mode = 'frames';
    side.framesAt = side.bytes;
    // The HTTP layer is done with this direction: its head buffer (up to a few KiB from
    // Buffer's shared pool, for the connection's life) is freed, and the queue too: one
    // shared empty queue stands for all (issue #13: memory per connection).
    side.pending = RELEASED;
    side.frames = new FrameDecoder({
      conn: this.options.conn,
      dir: side.dir,
      maxPayload: this.maxPayload,
      maxInflate: this.maxInflate,
      deflate,
      unknownExtension,
      // The same callbacks for both directions, made once per connection (a closure per
      // direction and callback cost ~100 bytes each at 9,000 connections: issue #13).
      emit: this.options.onEvent,
      emitMessage: this.emitMessage,
      emitError: this.emitError,
      immutableChunks: this.options.immutableChunks,
    });
  }

  /** Runs the HTTP layer of both directions until neither can progress. */
  private pump(ts: number): void {
    for (let progress = true; progress; ) {
      progress = this.stepClient(ts) || this.stepServer(ts);
    }
  }

  /** Takes a complete head off side.pending, or null (waiting, or stopped when too large). */
  private takeHead(side: Side, ts: number): string | null {
    const pending = side.pending.view();
    // RFC 7230 §3.5: ignore empty lines before a request line.
    let skip = 0;
    while (skip < pending.length && (pending[skip] === 0x0d || pending[skip] === 0x0a)) skip++;
    const end = pending.indexOf(CRLFCRLF, Math.max(skip, side.scanned - 3));
    if (end < 0 || end - skip > MAX_HEAD) {
      side.scanned = pending.length;
      if (pending.length - skip > MAX_HEAD) this.stop(side, ts, `${side.dir}: HTTP head larger than ${MAX_HEAD} bytes; stopped decoding this direction`);
      return null;
    }
    const text = pending.toString('latin1', skip, end);
    side.pending.consume(end + 4);
    side.scanned = 0;
    return text;
  }

  private stepClient(ts: number): boolean {
    const side = this.client;
    switch (side.mode) {
      case 'head': {
        if (side.pending.length === 0) return false;
        const text = this.takeHead(side, ts);
        if (text === null) return false;
        const parsed = parseRequestHead(text);
        if (!parsed) {
          this.stop(side, ts, `client: not an HTTP request (${JSON.stringify(text.split(/\r?\n/)[0].slice(0, 60))}); stopped decoding this direction`);
          return false;
        }
        const upgrade = isUpgradeRequest(parsed.head);
        if (this.requests.length >= MAX_PIPELINED) {
          this.stop(side, ts, `client: more than ${MAX_PIPELINED} requests waiting for a response; stopped decoding this direction`);
          return false;
        }
        this.requests.push({ head: parsed.head, violations: parsed.violations, upgrade });
        return this.startBody(side, requestBodyLength(parsed.head.headers), ts, upgrade ? 'wait' : 'head');
      }
      case 'body':
        return this.stepBody(side, ts, this.requests.length && this.requests[this.requests.length - 1].upgrade ? 'wait' : 'head');
      case 'wait':
        if (side.pending.length > MAX_WAIT) this.stop(side, ts, `client: more than ${MAX_WAIT} bytes sent before the server answered the upgrade; stopped decoding this direction`);
        return false;
      default:
        return false;
    }
  }

  private stepServer(ts: number): boolean {
    const side = this.server;
    switch (side.mode) {
      case 'head': {
        if (side.pending.length === 0) return false;
        if (this.requests.length === 0) {
          if (side.pending.length > MAX_HEAD) this.stop(side, ts, `server: sent more than ${MAX_HEAD / 1024} KiB before any request; stopped decoding this direction`);
          return false;
        }
        const text = this.takeHead(side, ts);
        if (text === null) return false;
        const parsed = parseResponseHead(text);
        if (!parsed) {
          this.stop(side, ts, `server: not an HTTP response (${JSON.stringify(text.split(/\r?\n/)[0].slice(0, 60))}); stopped decoding this direction`);
          return false;
        }
        const res = parsed.head;
        if (res.status >= 100 && res.status < 200 && res.status !== 101) return true; // interim (100 Continue): the final response follows
        const req = this.requests.shift()!;
        if (res.status === 101) {
          this.upgraded(req, parsed.head, parsed.violations, ts);
          return true;
        }
        const violations = [...req.violations, ...parsed.violations];
        if (req.upgrade) violations.push(violation('bad-status', `server answered the upgrade request with ${res.status} ${res.reason}: no WebSocket connection`));
        this.emit({ event: 'http', ts, conn: this.options.conn, request: req.head, response: res, violations });
        if (this.client.mode === 'wait') this.client.mode = 'head';
        return this.startBody(side, responseBodyLength(req.head.method, res.status, res.headers), ts, 'head') || true;
      }
      case 'body':
        return this.stepBody(side, ts, 'head');
      default:
        return false;
    }
  }

  private startBody(side: Side, length: BodyLength, ts: number, next: Mode): boolean {
    switch (length.kind) {
      case 'none':
        side.mode = next;
        return true;
      case 'invalid':
        this.stop(side, ts, `${side.dir}: ${length.message}; stopped decoding this direction`);
        return false;
      case 'close':
        // The body runs to the end of the connection: nothing more to decode here.
        this.stop(side, ts, null);
        return false;
      default:
        side.body = new BodySkipper(length.kind === 'chunked', length.kind === 'length' ? length.length : 0);
        side.mode = 'body';
        return this.stepBody(side, ts, next) || true;
    }
  }

  private stepBody(side: Side, ts: number, next: Mode): boolean {
    const body = side.body!;
    if (side.pending.length === 0 && !body.done) return false;
    side.pending.consume(body.consume(side.pending.view(), 0));
    if (body.error) {
      this.stop(side, ts, `${side.dir}: ${body.error}; stopped decoding this direction`);
      return false;
    }
    if (!body.done) return false;
    side.body = null;
    side.mode = next;
    return true;
  }

  /** A 101 answered `req`: report the handshake, then both directions carry frames. */
  private upgraded(req: PendingRequest, res: HttpResponseHead, resViolations: Violation[], ts: number): void {
    const check = checkResponse(req.head, res);
    const violations = [...req.violations, ...checkRequest(req.head), ...resViolations, ...check.violations];
    const handshake = handshakeEvent(this.options.conn, ts, req.head, res, check, violations);
    const pmd = check.permessageDeflate;
    const serverRest = this.server.pending.take();
    const clientRest = this.client.pending.take();
    this.startFrames(this.server, pmd ? { noContextTakeover: pmd.serverNoContextTakeover } : null, check.unknownExtension);
    if (this.client.mode !== 'stopped') this.startFrames(this.client, pmd ? { noContextTakeover: pmd.clientNoContextTakeover } : null, check.unknownExtension);
    this.server.framesAt = this.server.bytes - serverRest.length;
    this.client.framesAt = this.client.bytes - clientRest.length;
    const after = this.startLayer(handshake);
    if (this.options.keepHandshake) this.handshake = handshake;
    this.emit(handshake);
    if (after) this.emit(after);
    // The client's held bytes were sent before the server's remaining ones arrived.
    if (clientRest.length && this.client.mode === 'frames') this.client.frames!.push(clientRest, ts);
    if (serverRest.length) this.server.frames!.push(serverRest, ts);
  }
}

/** Decodes raw frames of one direction (no handshake): the events, in order. */
export function decodeFrames(
  bytes: Buffer,
  opts: { from: Direction; conn?: number; maxPayload?: number; extensions?: string; finish?: boolean } = { from: 'client' },
): WsEvent[] {
  const events: WsEvent[] = [];
  const decoder = new ConnectionDecoder({ conn: opts.conn ?? 0, start: 'frames', maxPayload: opts.maxPayload, extensions: opts.extensions, onEvent: (e) => events.push(e) });
  decoder.push(opts.from, bytes, 0);
  if (opts.finish !== false) decoder.finish(0);
  return events;
}
