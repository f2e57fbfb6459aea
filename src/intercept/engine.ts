/**
 * The intercept stage of one connection, sans-IO: the bytes each side sent go in, the bytes
 * to pass on come out (`write`), with `intercept` and `error` events on the way. It sits in
 * the relay only while hooks are loaded (`--script`) or the terminal UI may hold frames;
 * without it the relay forwards chunks as they come.
 *
 * Per direction, like mitmproxy's websocket layer: the handshake passes at once; from the
 * first frame on, bytes are cut into frames (a ConnectionDecoder watches both directions,
 * so the frames are those the decoder reports, with their rules), each frame is offered to
 * the hooks in order, and what they decide goes out:
 *   - forward: the frame's own bytes, byte for byte;
 *   - drop: nothing;
 *   - replace: frames built from the specs (src/decoder/build.ts), client frames masked with
 *     the replaced frame's key unless the spec gives one (RFC 6455 §5.3: client frames are
 *     masked);
 *   - inject (api.send) and close (api.close) send frames of their own at once.
 * A hook that is slow holds only its own direction of its own connection: later frames of
 * that direction wait behind it (their order is kept), and the reader is paused once more
 * than HOLD_LIMIT bytes wait (`full`), as the relay pauses for a full socket buffer.
 *
 * With onMessage, a data message's frames are held until it is complete (control frames in
 * between go on at once), so a replacement replaces the whole message.
 *
 * permessage-deflate with context takeover (RFC 7692 §7.2.2): the receiver inflates each
 * message against the window of those before. Once a compressed message is changed, dropped
 * or injected, the sender's next messages refer to a window the receiver does not have, so
 * from then on the stage re-encodes that direction: it inflates what arrives (with the
 * sender's window) and deflates it again (with the receiver's), one frame per message, and
 * says so in an intercept event (action "reencode").
 */
import { ConnectionDecoder, DEFAULT_MAX_INFLATE } from '../decoder';
import { buildFrame } from '../decoder/build';
import { OPCODES, isControlOpcode, opcodeName } from '../decoder/constants';
import type { Direction, FrameEvent, HandshakeEvent, InterceptEvent, MessageEvent, WsEvent } from '../decoder/events';

export type { InterceptEvent, InterceptAction } from '../decoder/events';
import { MessageInflater } from '../decoder/inflate';
import { ByteQueue } from '../decoder/queue';
import { decodeFrames } from '../decoder';
import { frameSize } from '../decoder/frames';
import { MessageDeflater } from './deflate';
import { checkResult, checkSpec, type CheckedSpec, type Decision } from './spec';
import type { HookApi, HookFrame, HookFrameSpec, HookMessage } from './types';
import { randomBytes } from 'crypto';

/** Who decides: the script's hooks, or the terminal UI's intercept filter. */
export interface Decider {
  by: 'script' | 'tui';
  onFrame?: (frame: HookFrame, api: HookApi) => unknown;
  onMessage?: (message: HookMessage, api: HookApi) => unknown;
}

export interface InterceptorOptions {
  conn: number;
  deciders: Decider[];
  /** Bytes `dir` sent, on their way to the other side (what it will really receive). */
  write: (dir: Direction, bytes: Buffer) => void;
  /** intercept and error events. */
  publish: (event: WsEvent) => void;
  /** A direction that was `full` has room again: resume its reader. */
  resume?: (dir: Direction) => void;
  now: () => number;
  /** The largest frame or message held for a hook (default 16 MiB): larger ones pass unseen. */
  maxHeld?: number;
  maxPayload?: number;
  /** Masking keys of new client frames (tests make them fixed). */
  randomKey?: () => Buffer;
  /**
   * Joining a connection already past its handshake (the terminal UI set an intercept
   * filter while it was open): its handshake event (null if none was seen). Each direction
   * then starts with `join(dir, point)`, at a frame boundary outside any fragmented message.
   */
  joining?: { handshake: HandshakeEvent | null };
}

/** Where a direction stands when the stage joins it (ConnectionDecoder.joinPoint). */
export interface JoinPoint {
  /** Frames and frame-stream bytes that went by before. */
  index: number;
  offset: number;
  /** Its compression window holds earlier messages (permessage-deflate, context takeover). */
  windowUsed: boolean;
}

/** Bytes waiting behind an unanswered hook before the reader of that direction is paused. */
export const HOLD_LIMIT = 1024 * 1024;

interface Item {
  frame: FrameEvent;
  /** The frame's bytes as they arrived. */
  raw: Buffer;
  /** Its payload, unmasked, whole. */
  payload: Buffer;
  message?: MessageEvent;
  /** Already forwarded (sent before the handshake was seen whole, or larger than maxHeld). */
  passed?: boolean;
}

/** What goes out for a frame: its own bytes, or frames built anew. */
type Out = { raw: Buffer } | { built: Buffer; event: FrameEvent[] };

interface OpenMessage {
  first: Item;
  frames: number;
  compressed: boolean;
  /** The compressed or plain payload parts, for onMessage and the deflate windows. */
  parts: Buffer[];
  size: number;
  /** Outputs held until the message is complete (onMessage, re-encoding). */
  held: Out[];
  hold: boolean;
  /** A frame of it was changed or dropped. */
  changed: boolean;
  tooLarge: boolean;
}

interface Side {
  dir: Direction;
  /** pending: a joining stage that has not joined this direction yet (nothing of it comes here). */
  phase: 'http' | 'frames' | 'off' | 'pending';
  /** Joined mid-stream: what the watcher counts from 0 started at this frame index and offset. */
  base: { index: number; offset: number };
  /**
   * Joined after compressed messages with context takeover went by: the proxy lacks the
   * sender's window (RFC 7692 §7.2.2), so it cannot re-encode, and changes to compressed
   * messages are refused.
   */
  windowUnknown: boolean;
  /** Bytes of the stream seen while still HTTP (forwarded at once). */
  httpBytes: number;
  /** Frame-stream bytes not yet cut into frames; raw[0] is at stream offset rawAt. */
  raw: ByteQueue;
  rawAt: number;
  /** Frame-stream offset up to which bytes were forwarded before the stage took over. */
  passedUntil: number;
  queue: Item[];
  queuedBytes: number;
  busy: boolean;
  /** What `busy` waits for, for the report when the connection ends first. */
  waitingFor: string | null;
  reportedFull: boolean;
  msg: OpenMessage | null;
  deflate: { noContextTakeover: boolean; windowBits: number } | null;
  inflater: MessageInflater | null;
  deflater: MessageDeflater | null;
  reencode: boolean;
  /** A compressed frame was built for a replace or an inject: the windows may differ now. */
  madeCompressed: boolean;
  /** api.close was called: later frames of this side are dropped. */
  closed: boolean;
  outIndex: number;
  outOffset: number;
  /** The frame (by offset) larger than maxHeld being streamed through, or -1. */
  streamingAt: number;
}

const MIN_WINDOW_BITS = 9;

export class Interceptor {
  private readonly watcher: ConnectionDecoder;
  private readonly sides: Record<Direction, Side>;
  private readonly maxHeld: number;
  private readonly maxPayload: number;
  private extensions: string | undefined;
  private pending: WsEvent[] = [];
  private ended = false;
  private readonly hasMessageHook: boolean;
  /** What hooks get as `api`. */
  readonly api: HookApi;

  constructor(private readonly o: InterceptorOptions) {
    this.maxHeld = o.maxHeld ?? DEFAULT_MAX_INFLATE;
    this.maxPayload = o.maxPayload ?? 65536;
    this.hasMessageHook = o.deciders.some((d) => d.onMessage);
    const joining = o.joining;
    this.watcher = new ConnectionDecoder({
      conn: o.conn,
      maxPayload: this.maxPayload,
      maxInflate: this.maxHeld,
      onEvent: (e) => this.pending.push(e),
      ...(joining ? { start: 'frames' as const, extensions: joining.handshake?.extensions ?? undefined } : {}),
    });
    const side = (dir: Direction): Side => ({
      dir,
      phase: joining ? 'pending' : 'http',
      base: { index: 0, offset: 0 },
      windowUnknown: false,
      httpBytes: 0,
      raw: new ByteQueue(),
      rawAt: 0,
      passedUntil: 0,
      queue: [],
      queuedBytes: 0,
      busy: false,
      waitingFor: null,
      reportedFull: false,
      msg: null,
      deflate: null,
      inflater: null,
      deflater: null,
      reencode: false,
      madeCompressed: false,
      closed: false,
      outIndex: 0,
      outOffset: 0,
      streamingAt: -1,
    });
    this.sides = { client: side('client'), server: side('server') };
    this.api = {
      conn: o.conn,
      send: (to: Direction, spec: HookFrameSpec) => this.inject(to, spec, 'script'),
      close: (code?: number, reason?: string) => this.close(code, reason, 'script'),
    };
    if (joining?.handshake) this.handshake(joining.handshake);
  }

  /** A joining stage takes `dir` over from here: the bytes pushed next start a frame. */
  join(dir: Direction, point: JoinPoint): void {
    const s = this.sides[dir];
    if (s.phase !== 'pending') return;
    s.phase = 'frames';
    s.base = { index: point.index, offset: point.offset };
    s.rawAt = s.passedUntil = point.offset;
    s.outIndex = point.index;
    s.outOffset = point.offset;
    if (point.windowUsed && s.deflate && !s.deflate.noContextTakeover) {
      s.windowUnknown = true;
      s.inflater?.skipped();
    }
  }

  /** Bytes held for `dir` (queued frames, a held message, an incomplete frame). */
  held(dir: Direction): number {
    const s = this.sides[dir];
    return s.raw.length + s.queuedBytes + (s.msg?.hold ? s.msg.size : 0);
  }

  /** The reader of `dir` should pause: too much waits behind a hook, or the frame is too large to hold. */
  full(dir: Direction): boolean {
    const s = this.sides[dir];
    const waiting = s.busy || s.queue.length > 0;
    const full = waiting ? this.held(dir) > HOLD_LIMIT : this.held(dir) > this.maxHeld + HOLD_LIMIT;
    if (full) s.reportedFull = true;
    return full;
  }

  /** Bytes of `dir` the proxy forwarded itself (the rewritten request head): watched, not written. */
  sent(dir: Direction, chunk: Buffer): void {
    const s = this.sides[dir];
    if (this.ended || s.phase !== 'http') return;
    this.watcher.push(dir, chunk, this.o.now());
    s.httpBytes += chunk.length;
    this.dispatch();
  }

  /** The hook `dir`'s frames wait for ("script onFrame for client frame #3"), or null. */
  waitingOn(dir: Direction): string | null {
    const s = this.sides[dir];
    return s.busy && !this.ended ? s.waitingFor : null;
  }

  /** Bytes `dir` sent, as they arrived. */
  push(dir: Direction, chunk: Buffer): void {
    if (this.ended) return;
    const s = this.sides[dir];
    if (s.phase === 'pending') return this.out(s, chunk, 0);
    if (s.phase === 'off') {
      if (!s.busy && s.queue.length === 0 && s.raw.length === 0) return this.out(s, chunk, 0);
      s.raw.append(chunk);
      return this.pump(s);
    }
    if (s.phase === 'http') {
      const before = s.httpBytes;
      this.watcher.push(dir, chunk, this.o.now());
      const at = this.watcher.framesOffset(dir);
      if (at === null || at >= before + chunk.length) {
        // Still HTTP (or not a WebSocket connection at all): on at once, as the relay does.
        s.httpBytes += chunk.length;
        this.out(s, chunk, 0);
        this.dispatch();
        return;
      }
      // The frames start in this chunk: the head's last bytes go on, the rest is cut into frames.
      const split = Math.max(0, at - before);
      if (split > 0) this.out(s, chunk.subarray(0, split), 0);
      s.httpBytes = at;
      s.phase = 'frames';
      s.raw.append(chunk, split);
      this.dispatch();
      this.pump(s);
      return;
    }
    s.raw.append(chunk);
    this.watcher.push(dir, chunk, this.o.now());
    this.dispatch();
    this.pump(s);
  }

  /** The connection ended: reports hooks that never answered; frees what was held. */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of Object.values(this.sides)) {
      if (s.busy || s.queue.length || s.msg?.hold) {
        // The one the hook has (busy) counts too: it was never sent either.
        const held = (s.busy ? 1 : 0) + s.queue.length + (s.msg?.hold ? s.msg.held.length : 0);
        const what = s.waitingFor ? `${s.waitingFor} had not answered` : 'frames were held';
        this.error(`${what} when the connection ended; ${held} held ${s.dir} frame${held === 1 ? ' was' : 's were'} never sent`);
      }
      s.queue = [];
      s.queuedBytes = 0;
      s.msg = null;
      s.raw.clear();
    }
  }

  /** api.send: a frame as if `dir` had sent it, out at once. */
  inject(dir: Direction, spec: HookFrameSpec, by: 'script' | 'tui'): void {
    if (dir !== 'client' && dir !== 'server') return this.error(`${by === 'script' ? 'script api.send' : 'inject'}: the direction must be "client" or "server", not ${JSON.stringify(dir)}; nothing sent`);
    const s = this.sides[dir];
    const checked = checkSpec(spec);
    if (typeof checked === 'string') return this.error(`${by === 'script' ? 'script api.send' : 'inject'}: ${checked}; nothing sent`);
    if (s.phase !== 'frames') return this.error(`${by === 'script' ? 'script api.send' : 'inject'}: the ${dir} side has no WebSocket frames yet; nothing sent`);
    if (s.windowUnknown && checked.compress) return this.error(`inject: a compressed ${dir} frame ${NO_WINDOW}; nothing sent`);
    const index = s.outIndex;
    const sent = this.sendBuilt(s, [checked], null);
    this.intercept(s, { index, action: 'inject', by, explain: `injected ${describeSent(sent)} as if from the ${dir}`, sent });
    if (s.madeCompressed) this.windowChanged(s, 'an injected compressed message');
  }

  /** api.close: close frames to both sides (code, reason); later frames are dropped. */
  close(code = 1000, reason = '', by: 'script' | 'tui' = 'script'): void {
    if (!Number.isInteger(code) || code < 0 || code > 0xffff || typeof reason !== 'string') {
      return this.error(`${by === 'script' ? 'script api.close' : 'close'}: expected a close code 0-65535 and a reason string; nothing sent`);
    }
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code & 0xffff);
    const payload = Buffer.concat([body, Buffer.from(reason, 'utf8')]);
    for (const s of Object.values(this.sides)) {
      if (s.closed || s.phase !== 'frames') continue;
      const index = s.outIndex;
      const sent = this.sendBuilt(s, [{ ...plainSpec(OPCODES.CLOSE), payload }], null);
      s.closed = true;
      s.queue = [];
      s.queuedBytes = 0;
      s.msg = null;
      this.intercept(s, { index, action: 'close', by, explain: `closed with ${code}${reason ? ` "${reason}"` : ''} as if from the ${s.dir}; its later frames are dropped`, sent });
    }
  }

  /** Hands the watcher's events to their sides. */
  private dispatch(): void {
    const events = this.pending;
    this.pending = [];
    for (const s of Object.values(this.sides)) {
      const at = s.phase === 'http' ? this.watcher.framesOffset(s.dir) : null;
      if (at === null) continue;
      // The other side's bytes showed the handshake complete (a client that sent frames
      // before the 101): what this side sent since went on already.
      s.phase = 'frames';
      s.passedUntil = s.rawAt = Math.max(0, s.httpBytes - at);
    }
    for (const e of events) {
      if (e.event === 'handshake') this.handshake(e);
      else if (e.event === 'frame') {
        const s = this.sides[e.dir];
        e.index += s.base.index;
        e.offset += s.base.offset;
        this.frame(s, e);
      }
      else if (e.event === 'message') {
        const q = this.sides[e.dir].queue;
        if (q.length) q[q.length - 1].message = e;
      }
    }
    for (const s of Object.values(this.sides)) {
      if (s.phase === 'frames' && this.watcher.framesOffset(s.dir) === null) {
        // The decoder cannot follow this direction any more: pass the rest on untouched.
        s.phase = 'off';
        this.error(`the ${s.dir} side can no longer be decoded; its frames pass unseen by hooks from here on`);
        this.pump(s);
      }
    }
  }

  private handshake(e: HandshakeEvent): void {
    const pmd = e.permessageDeflate;
    if (!pmd) return;
    this.extensions = 'permessage-deflate';
    const bits = (v: number | true | null) => (typeof v === 'number' ? v : 15);
    this.sides.client.deflate = { noContextTakeover: pmd.clientNoContextTakeover, windowBits: Math.max(MIN_WINDOW_BITS, bits(pmd.clientMaxWindowBits)) };
    this.sides.server.deflate = { noContextTakeover: pmd.serverNoContextTakeover, windowBits: Math.max(MIN_WINDOW_BITS, bits(pmd.serverMaxWindowBits)) };
    for (const s of Object.values(this.sides)) {
      s.inflater = new MessageInflater(s.deflate!.noContextTakeover, this.maxHeld);
      s.deflater = new MessageDeflater(s.deflate!.noContextTakeover, s.deflate!.windowBits);
    }
  }

  /** A whole frame arrived (the watcher says so): cut its bytes off and queue it. */
  private frame(s: Side, frame: FrameEvent): void {
    const headerLength = frame.header.length / 2;
    const end = frame.offset + headerLength + frame.payloadLength;
    if (frame.offset < s.passedUntil || frame.offset === s.streamingAt) {
      s.streamingAt = -1;
      // Sent before the stage took over, or streamed through (too large to hold): its
      // first bytes went on already; the rest follows them, in order.
      const n = Math.max(0, end - s.rawAt);
      const rest = Buffer.from(s.raw.view().subarray(0, n));
      s.raw.consume(n);
      s.rawAt += n;
      s.queue.push({ frame, raw: rest, payload: rest, passed: true });
      s.queuedBytes += rest.length;
      return;
    }
    const n = end - s.rawAt;
    const raw = Buffer.from(s.raw.view().subarray(0, n));
    s.raw.consume(n);
    s.rawAt = end;
    const payload = Buffer.from(raw.subarray(headerLength));
    if (frame.masked) {
      const key = raw.subarray(headerLength - 4, headerLength);
      for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    }
    s.queue.push({ frame, raw, payload });
    s.queuedBytes += raw.length;
  }

  /** Offers queued frames to the hooks, in order, until one has to be waited for. */
  private pump(s: Side): void {
    while (!s.busy && !this.ended) {
      if (s.phase === 'off' && s.queue.length === 0) {
        if (s.raw.length) {
          this.out(s, s.raw.take(), 1);
          s.raw.clear();
        }
        break;
      }
      const item = s.queue.shift();
      if (!item) {
        this.streamLarge(s);
        break;
      }
      s.queuedBytes -= item.raw.length;
      if (s.closed) continue;
      if (item.passed) {
        this.out(s, item.raw, 1);
        continue;
      }
      this.offerFrame(s, item);
    }
    if (s.reportedFull && !this.full(s.dir)) {
      s.reportedFull = false;
      this.o.resume?.(s.dir);
    }
  }

  /**
   * An incomplete frame larger than maxHeld cannot be held: it streams through, unseen by
   * the hooks (raw holds nothing but that frame's bytes so far: complete frames were queued).
   */
  private streamLarge(s: Side): void {
    if (s.streamingAt < 0) {
      const size = frameSize(s.raw.view());
      if (size === null || size <= this.maxHeld) return;
      s.streamingAt = s.rawAt;
      if (s.msg) this.flushMessage(s, s.msg.held);
      s.msg = null;
      this.error(`a ${s.dir} frame of ${size} bytes is larger than the ${this.maxHeld} bytes held for hooks: forwarded unchanged, unseen by them`);
      // With context takeover its content belonged in the windows: they cannot be followed.
      s.inflater?.skipped();
    }
    if (s.raw.length === 0) return;
    const n = s.raw.length;
    this.out(s, s.raw.take(), 0);
    s.rawAt += n;
  }

  private hookFrame(item: Item): HookFrame {
    return { ...item.frame, payloadBytes: item.payload };
  }

  /** Runs the frame hooks in turn; the first that decides something else than forward wins. */
  private offerFrame(s: Side, item: Item): void {
    const deciders = this.o.deciders.filter((d) => d.onFrame);
    const step = (i: number): void => {
      if (i >= deciders.length) return this.frameDecided(s, item, { action: 'forward' }, null);
      const d = deciders[i];
      const label = `${d.by === 'script' ? 'script onFrame' : 'the terminal UI'}`;
      this.ask(s, label, `${s.dir} frame #${item.frame.index}`, () => d.onFrame!(this.hookFrame(item), this.api), (decision) => {
        if (decision.action === 'forward') return step(i + 1);
        this.frameDecided(s, item, decision, d.by);
      });
    };
    step(0);
  }

  /**
   * Calls a hook; `then` gets its checked decision, synchronously when it answered at once.
   * A hook that throws, rejects or returns garbage is reported and counts as forward.
   */
  private ask(s: Side, label: string, what: string, call: () => unknown, then: (d: Decision) => void): void {
    const settle = (value: unknown) => {
      const checked = checkResult(value);
      if (typeof checked === 'string') {
        this.error(`${label} ${checked} for ${what}; it went on unchanged`);
        return then({ action: 'forward' });
      }
      then(checked);
    };
    const failed = (err: unknown) => {
      this.error(`${label} threw for ${what}: ${errorText(err)}; it went on unchanged`);
      then({ action: 'forward' });
    };
    let value: unknown;
    try {
      value = call();
    } catch (err) {
      return failed(err);
    }
    if (!isThenable(value)) return settle(value);
    s.busy = true;
    s.waitingFor = `${label} for ${what}`;
    value.then(
      (v) => {
        if (this.ended) return;
        s.busy = false;
        s.waitingFor = null;
        settle(v);
        this.pump(s);
      },
      (err) => {
        if (this.ended) return;
        s.busy = false;
        s.waitingFor = null;
        failed(err);
        this.pump(s);
      },
    );
  }

  private frameDecided(s: Side, item: Item, decision: Decision, by: 'script' | 'tui' | null): void {
    const f = item.frame;
    if (decision.action !== 'forward' && s.windowUnknown) {
      const compressedFrame = s.deflate !== null && (f.opcode === OPCODES.CONTINUATION ? s.msg?.compressed === true : f.rsv1 && !isControlOpcode(f.opcode));
      if (compressedFrame || (decision.action === 'replace' && decision.specs.some((spec) => spec.compress))) {
        this.error(`${by === 'script' ? 'script onFrame' : 'the terminal UI'}: ${s.dir} frame #${f.index} ${NO_WINDOW}; it went on unchanged`);
        decision = { action: 'forward' };
      }
    }
    let outs: Out[] = [];
    if (decision.action === 'forward') outs = [{ raw: item.raw }];
    else if (decision.action === 'replace') {
      const built = decision.specs.map((spec, i) => this.build(s, spec, i === 0 && f.masked && f.maskKey ? Buffer.from(f.maskKey, 'hex') : null));
      outs = built;
    }
    const isData = f.opcode === OPCODES.TEXT || f.opcode === OPCODES.BINARY || f.opcode === OPCODES.CONTINUATION;
    if (!isData || isControlOpcode(f.opcode)) {
      this.sendOuts(s, outs);
      if (decision.action !== 'forward') this.record(s, item, decision, by!, 'onFrame', outs);
      return;
    }
    // A data frame: part of a message.
    if (f.opcode !== OPCODES.CONTINUATION) {
      if (s.msg) this.flushMessage(s, s.msg.held); // interleaved: the open one went as it was
      s.msg = {
        first: item,
        frames: 0,
        compressed: f.rsv1 && s.deflate !== null,
        parts: [],
        size: 0,
        held: [],
        hold: this.hasMessageHook || (s.reencode && f.rsv1 && s.deflate !== null),
        changed: false,
        tooLarge: false,
      };
    }
    const m = s.msg;
    if (!m) {
      // A continuation with no message open: nothing to assemble.
      this.sendOuts(s, outs);
      if (decision.action !== 'forward') this.record(s, item, decision, by!, 'onFrame', outs);
      return;
    }
    m.frames++;
    if (decision.action !== 'forward') {
      m.changed = true;
      this.record(s, item, decision, by!, 'onFrame', outs);
    }
    if (!m.tooLarge) {
      if (m.size + item.payload.length > this.maxHeld) {
        m.tooLarge = true;
        m.parts = [];
        if (m.hold) {
          this.error(`a ${s.dir} message is larger than the ${this.maxHeld} bytes held for hooks: forwarded unchanged, unseen by onMessage`);
          this.sendOuts(s, m.held);
          m.held = [];
          m.hold = false;
        }
      } else {
        m.parts.push(item.payload);
        m.size += item.payload.length;
      }
    }
    if (m.hold) m.held.push(...outs);
    else this.sendOuts(s, outs);
    if (f.fin) this.messageEnd(s, m, item);
  }

  /** The message's last frame went through onFrame: onMessage, then the deflate windows. */
  private messageEnd(s: Side, m: OpenMessage, last: Item): void {
    s.msg = null;
    let bytes: Buffer | null = null;
    if (m.compressed && s.windowUnknown) {
      // Joined too late to inflate it (see Side.windowUnknown): it goes on as it came.
    } else if (!m.tooLarge) {
      bytes = Buffer.concat(m.parts);
      if (m.compressed) {
        const q = new ByteQueue();
        q.append(bytes);
        const r = s.inflater!.inflate(q);
        if (!r.ok) {
          this.error(`${s.dir} message could not be inflated (${r.message}): forwarded unchanged`);
          bytes = null;
        } else bytes = r.data;
      }
    } else if (m.compressed) s.inflater!.skipped();
    const deciders = this.o.deciders.filter((d) => d.onMessage);
    const message = last.message;
    if (!m.hold || !bytes || !message || deciders.length === 0) return this.messageDone(s, m, bytes, { action: 'forward' }, null);
    const step = (i: number): void => {
      if (i >= deciders.length) return this.messageDone(s, m, bytes, { action: 'forward' }, null);
      const d = deciders[i];
      const label = d.by === 'script' ? 'script onMessage' : 'the terminal UI';
      const hm: HookMessage = { ...message, bytes: bytes! };
      this.ask(s, label, `${s.dir} message (frames #${m.first.frame.index}-${last.frame.index})`, () => d.onMessage!(hm, this.api), (decision) => {
        if (decision.action === 'forward') return step(i + 1);
        this.messageDone(s, m, bytes, decision, d.by);
      });
    };
    step(0);
  }

  private messageDone(s: Side, m: OpenMessage, bytes: Buffer | null, decision: Decision, by: 'script' | 'tui' | null): void {
    if (decision.action !== 'forward') {
      const outs = decision.action === 'replace' ? decision.specs.map((spec, i) => this.build(s, spec, i === 0 && m.first.frame.maskKey ? Buffer.from(m.first.frame.maskKey, 'hex') : null)) : [];
      this.sendOuts(s, outs);
      this.record(s, m.first, decision, by!, 'onMessage', outs, m.frames);
      if (m.compressed) this.windowChanged(s, 'a changed compressed message');
      return;
    }
    if (m.compressed && m.changed) {
      this.flushMessage(s, m.held);
      this.windowChanged(s, 'a changed compressed message');
      return;
    }
    if (m.compressed && s.reencode && bytes && !m.changed) {
      // Re-encoding: the sender's message, inflated, deflated against the receiver's window.
      const first = m.first.frame;
      const spec: CheckedSpec = { ...plainSpec(first.opcode), payload: bytes, compress: true, mask: first.masked };
      this.sendOuts(s, [this.build(s, spec, first.maskKey ? Buffer.from(first.maskKey, 'hex') : null)]);
      return;
    }
    if (m.compressed && bytes) s.deflater!.remember(bytes);
    this.flushMessage(s, m.held);
  }

  private flushMessage(s: Side, held: Out[]): void {
    this.sendOuts(s, held);
    held.length = 0;
  }

  /** The receiver's window no longer matches the sender's: re-encode from now on. */
  private windowChanged(s: Side, cause: string): void {
    s.madeCompressed = false;
    if (!s.deflate || s.deflate.noContextTakeover || s.reencode) return;
    s.reencode = true;
    this.intercept(s, {
      index: s.outIndex,
      action: 'reencode',
      by: 'proxy',
      explain: `${cause} desynchronised the ${s.dir}'s compression context (RFC 7692 §7.2.2): from here on the proxy inflates and deflates again every compressed ${s.dir} message`,
      sent: [],
    });
  }

  /**
   * `replacedKey`: the key of the frame being replaced, given for the first frame that
   * replaces it only (issue #10: an edit keeps the original key unless it sets one); any
   * further frame gets a fresh key, as RFC 6455 §5.3 asks of every frame.
   */
  private build(s: Side, spec: CheckedSpec, replacedKey: Buffer | null): Out {
    const mask = spec.mask ?? s.dir === 'client';
    const key = mask ? spec.maskKey ?? (s.dir === 'client' ? replacedKey : null) ?? (this.o.randomKey ?? (() => randomBytes(4)))() : null;
    let payload = spec.payload;
    if (spec.compress) {
      payload = s.deflater ? s.deflater.deflate(payload) : new MessageDeflater(true).deflate(payload);
      // Announced after the action that made it (record, inject): see windowChanged.
      s.madeCompressed = true;
    }
    const bytes = buildFrame({
      opcode: spec.opcode,
      fin: spec.fin,
      rsv1: spec.rsv1 || spec.compress,
      rsv2: spec.rsv2,
      rsv3: spec.rsv3,
      mask: key,
      payload,
      lengthForm: spec.lengthForm,
      declaredLength: spec.declaredLength,
    });
    const ts = this.o.now();
    const events = decodeFrames(bytes, { from: s.dir, conn: this.o.conn, maxPayload: this.maxPayload, extensions: this.extensions })
      .filter((e): e is FrameEvent => e.event === 'frame')
      .map((e) => ({ ...e, ts }));
    return { built: bytes, event: events };
  }

  private sendBuilt(s: Side, specs: CheckedSpec[], replacedKey: Buffer | null): FrameEvent[] {
    const outs = specs.map((spec) => this.build(s, spec, replacedKey));
    return this.sendOuts(s, outs);
  }

  /** Writes outputs; returns the frame events of what was built, stamped as sent. */
  private sendOuts(s: Side, outs: Out[]): FrameEvent[] {
    const sent: FrameEvent[] = [];
    if (s.closed) return sent;
    for (const out of outs) {
      if ('raw' in out) {
        this.out(s, out.raw, 1);
        continue;
      }
      // Stamped in place: an intercept event that lists them (record) shares the objects.
      for (const e of out.event) {
        e.index += s.outIndex;
        e.offset += s.outOffset;
        sent.push(e);
      }
      this.out(s, out.built, Math.max(1, out.event.length));
    }
    return sent;
  }

  private out(s: Side, bytes: Buffer, frames: number): void {
    if (s.phase !== 'http') {
      s.outIndex += frames;
      s.outOffset += bytes.length;
    }
    if (bytes.length) this.o.write(s.dir, bytes);
  }

  private record(s: Side, item: Item, decision: Decision, by: 'script' | 'tui', hook: 'onFrame' | 'onMessage', outs: Out[], frames?: number): void {
    const f = item.frame;
    const sent = outs.flatMap((o) => ('built' in o ? o.event : []));
    const what = frames && frames > 1 ? `${s.dir} message of ${frames} frames (#${f.index}…)` : `${s.dir} ${opcodeName(f.opcode)} frame #${f.index}`;
    const who = by === 'script' ? `script ${hook}` : 'the terminal UI';
    const explain = decision.action === 'drop' ? `${who} dropped ${what}` : `${who} replaced ${what} with ${describeSent(sent)}`;
    this.intercept(s, { index: f.index, action: decision.action === 'drop' ? 'drop' : 'replace', by, hook: by === 'script' ? hook : undefined, explain, sent, original: f, ...(frames ? { frames } : {}) });
    if (s.madeCompressed) this.windowChanged(s, 'a compressed message made by the proxy');
  }

  private intercept(s: Side, e: Omit<InterceptEvent, 'event' | 'ts' | 'conn' | 'dir'>): void {
    const event: InterceptEvent = { event: 'intercept', ts: this.o.now(), conn: this.o.conn, dir: s.dir, ...e };
    if (event.hook === undefined) delete event.hook;
    this.o.publish(event);
  }

  private error(message: string): void {
    this.o.publish({ event: 'error', ts: this.o.now(), conn: this.o.conn, message });
  }
}

/** Why a stage that joined late cannot change a compressed message (Side.windowUnknown). */
const NO_WINDOW =
  'would change a compressed message, but the intercept began after compressed messages with context takeover had gone by, so the proxy lacks the compression window to re-encode what follows (RFC 7692 §7.2.2)';

/** Flags all clear, FIN set, the sender's masking: a spec for frames the stage makes itself. */
function plainSpec(opcode: number): CheckedSpec {
  return { opcode, fin: true, rsv1: false, rsv2: false, rsv3: false, mask: undefined, maskKey: undefined, payload: Buffer.alloc(0), compress: false, lengthForm: undefined, declaredLength: undefined };
}

/** "text frame (5 bytes, masked 37fa213d)", joined with "and". */
function describeSent(sent: FrameEvent[]): string {
  if (sent.length === 0) return 'nothing';
  return sent
    .map((e) => {
      const flags = [e.fin ? '' : 'no FIN', e.rsv1 ? 'RSV1' : '', e.rsv2 ? 'RSV2' : '', e.rsv3 ? 'RSV3' : '', e.masked ? `masked ${e.maskKey}` : 'unmasked'].filter(Boolean).join(', ');
      return `a ${opcodeName(e.opcode)} frame (${e.payloadLength} bytes, ${flags})`;
    })
    .join(' and ');
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').slice(0, 200);
}
