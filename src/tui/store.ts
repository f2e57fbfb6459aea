/**
 * The terminal UI's model: a bounded store of everything the session published. Every
 * pane is a pure view of it (mitmproxy's `view.py`/`eventstore.py` in TypeScript).
 *
 * Bounds (a session left running for a day must not run out of memory):
 * - frames: at most `maxFrames` (default 100,000) and at most `maxPayloadChars` characters
 *   of payload text kept with them (default 64 Mi; a character is a hex digit or a letter
 *   of a message's text); beyond either, the oldest frames are dropped and counted;
 * - connections: at most `maxConnections` (default 10,000); the oldest closed ones go first;
 * - raw chunks for `s` (save as capture): at most `maxCaptureBytes` (default 64 MiB) of the
 *   newest traffic; a connection whose first bytes were dropped cannot be replayed, so the
 *   saved capture leaves it out (and says so).
 * Adding an event is O(1) (amortised): the proxy may publish tens of thousands per second.
 */
import { dataLines, headerLine, isCapturedEvent } from '../capture';
import { isWholeBuffer, ownCopy } from '../decoder/owned';
import type {
  Direction,
  EndEvent,
  ErrorEvent,
  FrameEvent,
  HandshakeEvent,
  HttpEvent,
  ListeningEvent,
  MessageEvent,
  OpenEvent,
  ProtocolEvent,
  WsEvent,
} from '../decoder/events';
import { appMatches, appViolations, appWordText, parseAppWord, type AppWord } from '../explain/app';
import { opcodeShort } from './fields';

export const DEFAULT_MAX_FRAMES = 100_000;
export const DEFAULT_MAX_PAYLOAD_CHARS = 64 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const DEFAULT_MAX_CAPTURE_BYTES = 64 * 1024 * 1024;
/** HTTP exchanges and errors kept per connection (a keep-alive connection may carry many). */
const MAX_HTTP_PER_CONN = 50;
const MAX_ERRORS = 200;

export interface StoreLimits {
  maxFrames?: number;
  /** The decoder's payload cap (DESIGN.md: --max-payload, default 65536 bytes). */
  maxPayload?: number;
  maxPayloadChars?: number;
  maxConnections?: number;
  maxCaptureBytes?: number;
}

/** The frames of one message (RFC 6455 §5.4: a data frame, then continuation frames). */
export interface Group {
  /** 1 text or 2 binary: the first frame's opcode. */
  opcode: number;
  /** RSV1 of the first frame: permessage-deflate compressed (RFC 7692 §6). */
  compressed: boolean;
  /** Frames seen so far. */
  frames: number;
  /** The assembled message, once the decoder reported it. */
  message?: MessageEvent;
}

/**
 * Where a frame sits in its message: 'only' (a one-frame message), 'first', 'middle',
 * 'last' of a fragmented one, 'inside' (a control frame between fragments, §5.4 allows
 * it), 'orphan' (a continuation with no message to continue), or null (control frame).
 */
export type GroupPos = 'only' | 'first' | 'middle' | 'last' | 'inside' | 'orphan' | null;

export interface FrameRecord {
  ev: FrameEvent;
  /** Sequence number within the connection, both directions, from 0. */
  n: number;
  group: Group | null;
  groupPos: GroupPos;
  /** 1-based position in the group. */
  groupIndex: number;
  /** Set on the record its message event attached to: the message's index per direction (what `app.replyTo` names). */
  messageIndex?: number;
  /** Payload characters kept with this record (its share of the budget). */
  cost: number;
  dropped: boolean;
  /**
   * A message-only row: a HAR records messages, not frames (src/import/har.ts), so the row
   * stands for the whole message (`group.message`) and `ev` holds only what the message
   * says (sender, time, opcode, payload); its frame header fields are not known, and the
   * views say so instead of showing them (messageRowEvent).
   */
  messageOnly?: boolean;
}

export type ConnState = 'handshaking' | 'open' | 'closing' | 'closed' | 'http';

export interface ConnRecord {
  id: number;
  client: string;
  target: string;
  /** The open event: mode, both sides' TLS, the upstream dialled (DESIGN.md). */
  open?: OpenEvent;
  openTs: number;
  state: ConnState;
  /** HTTP without a WebSocket upgrade (the demo page, a favicon): stays marked once closed. */
  passThrough: boolean;
  handshake?: HandshakeEvent;
  http: HttpEvent[];
  end?: EndEvent;
  errors: string[];
  /** Frames kept, oldest first, from index `head` (the ones before were dropped). */
  frames: FrameRecord[];
  head: number;
  nextN: number;
  framesBy: Record<Direction, number>;
  bytesBy: Record<Direction, number>;
  closeSent: Record<Direction, boolean>;
  openGroup: Record<Direction, Group | null>;
  /** The record that completed the last message, per direction: the message event attaches there. */
  lastComplete: Record<Direction, FrameRecord | null>;
  dropped: boolean;
  /** The application protocol (src/protocols), once decided. */
  protocol?: ProtocolEvent;
  /** Message events seen per direction (the index `app.replyTo` and `app.answeredBy` use). */
  messagesBy?: Record<Direction, number>;
  /** Its rows are messages, not frames (a HAR's connection). */
  messagesOnly?: boolean;
}

/** A kept raw chunk is bytes [at, at + size) of `bytes` (the socket's own buffer, or a slab of small chunks). */
type CaptureEntry =
  | { kind: 'event'; conn: number; line: string; size: number }
  | { kind: 'data'; conn: number; dir: Direction; ts: number; bytes: Buffer; at: number; size: number };

/**
 * Chunks smaller than this are copied into shared slabs of SLAB_BYTES rather than kept as
 * the socket's own buffer. A kept socket buffer costs a Buffer, an ArrayBuffer and a
 * malloc'd store, ~290 bytes of heap beside a 40-byte chunk (a heap snapshot of the store
 * under 300 connections' round trips: a quarter of what it held), each of which the
 * garbage collector copies and tracks; a slab is one of each per 64 KiB. Copying a small
 * chunk costs less than allocating those objects did.
 */
const SMALL_CHUNK = 2048;
const SLAB_BYTES = 64 * 1024;

/** A deque over an array: O(1) amortised push and shift. */
class Deque<T> {
  items: T[] = [];
  head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    (this.items as (T | undefined)[])[this.head] = undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i];
  }
}

export class Store {
  readonly maxFrames: number;
  readonly maxPayloadChars: number;
  readonly maxConnections: number;
  readonly maxCaptureBytes: number;
  readonly maxPayload: number;

  listening?: ListeningEvent;
  readonly conns = new Map<number, ConnRecord>();
  /** Session-wide errors (and the newest connection errors), newest last. */
  readonly errors: string[] = [];

  /** Frames kept (all connections) and their payload characters. */
  frameCount = 0;
  payloadChars = 0;
  /** Frames dropped to respect the bounds. */
  droppedFrames = 0;
  droppedConnections = 0;
  /** Cumulative counters, for the rates in the status bar. */
  totalFrames = 0;
  totalBytes = 0;
  /** Wire bytes of the frames seen (header + stated payload length): a replay's byte rate, as it relays no chunks. */
  totalFrameBytes = 0;
  /** Raw chunks received (a replay publishes none: its file is the capture). */
  dataChunks = 0;
  /** Bumped on every change: views redraw only when it moved. */
  version = 0;
  /** What hooks or the UI changed (intercept events' one-line explain), newest last, bounded. */
  readonly intercepts: string[] = [];
  /** intercept events seen in all (the message line flashes each new one). */
  interceptCount = 0;

  private readonly order = new Deque<FrameRecord>();
  private filtered: { conn: ConnRecord; key: string; list: FilteredFrames } | null = null;
  private readonly capture = new Deque<CaptureEntry>();
  private captureBytes = 0;
  /** The slab small chunks are being copied into, and how much of it is used. */
  private slab: Buffer | null = null;
  private slabUsed = 0;
  /** Connections whose oldest capture entries were dropped: not replayable from the store. */
  private readonly captureIncomplete = new Set<number>();

  constructor(limits: StoreLimits = {}) {
    this.maxFrames = limits.maxFrames ?? DEFAULT_MAX_FRAMES;
    this.maxPayloadChars = limits.maxPayloadChars ?? DEFAULT_MAX_PAYLOAD_CHARS;
    this.maxConnections = limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.maxCaptureBytes = limits.maxCaptureBytes ?? DEFAULT_MAX_CAPTURE_BYTES;
    this.maxPayload = limits.maxPayload ?? 65536;
  }

  add(event: WsEvent): void {
    this.version++;
    if (isCapturedEvent(event) && event.conn !== undefined) {
      const line = JSON.stringify(event);
      this.pushCapture({ kind: 'event', conn: event.conn, line, size: line.length });
    }
    switch (event.event) {
      case 'listening':
        this.listening = event;
        return;
      case 'open':
        this.onOpen(event);
        return;
      case 'handshake': {
        const conn = this.conn(event.conn, event.ts);
        conn.handshake = event;
        if (conn.state === 'handshaking') conn.state = event.response.status === 101 ? 'open' : 'http';
        conn.passThrough = conn.state === 'http';
        return;
      }
      case 'http': {
        const conn = this.conn(event.conn, event.ts);
        conn.http.push(event);
        if (conn.http.length > MAX_HTTP_PER_CONN) conn.http.shift();
        if (conn.state === 'handshaking') conn.state = 'http';
        if (!conn.handshake) conn.passThrough = true;
        return;
      }
      case 'frame':
        this.onFrame(event);
        return;
      case 'message':
        this.onMessage(event);
        return;
      case 'protocol':
        this.conn(event.conn, event.ts).protocol = event;
        return;
      case 'end': {
        const conn = this.conn(event.conn, event.ts);
        conn.end = event;
        conn.state = 'closed';
        // The proxy's byte counts are authoritative (they include what the decoder skipped).
        conn.bytesBy = { client: event.bytes.client, server: event.bytes.server };
        return;
      }
      case 'error':
        this.onError(event);
        return;
      case 'intercept':
        this.interceptCount++;
        this.intercepts.push(`conn ${event.conn}: ${event.explain}`);
        if (this.intercepts.length > 100) this.intercepts.shift();
        return;
    }
  }

  /** A raw chunk as relayed: counted for the rates and kept (bounded) for `s`. */
  addData(conn: number, dir: Direction, ts: number, chunk: Buffer): void {
    this.totalBytes += chunk.length;
    this.dataChunks++;
    const record = this.conns.get(conn);
    if (record && !record.end) record.bytesBy[dir] += chunk.length;
    // A chunk read from a socket owns its memory (Node allocates each read's buffer, sized
    // to what was read) and nothing writes to it after it was relayed: a large one is kept
    // as it is, no copy (--cpu-prof of the terminal UI under 64 KiB messages: the copies and
    // fresh 64 KiB allocations were 7% of its thread, issue #13). A small one goes into a
    // slab (SMALL_CHUNK). A view into a larger buffer (a pooled or reused one: its other
    // bytes would be kept alive too) is copied.
    const size = chunk.length;
    if (size < SMALL_CHUNK) {
      if (this.slab === null || this.slabUsed + size > SLAB_BYTES) {
        this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
        this.slabUsed = 0;
      }
      const at = this.slabUsed;
      chunk.copy(this.slab, at);
      this.slabUsed = at + size;
      this.pushCapture({ kind: 'data', conn, dir, ts, bytes: this.slab, at, size });
    } else {
      this.pushCapture({ kind: 'data', conn, dir, ts, bytes: isWholeBuffer(chunk) ? chunk : ownCopy(chunk), at: 0, size });
    }
    this.version++;
  }

  /** Connections in the order they opened. */
  connections(): ConnRecord[] {
    return [...this.conns.values()];
  }

  /** The frames of a connection as a list (optionally filtered). */
  frames(conn: ConnRecord, filter: FrameFilter | null = null): FrameList {
    if (!filter || isEmptyFilter(filter)) return new ConnFrames(conn);
    // One filtered list is kept and extended as frames arrive, so that a redraw does not
    // rescan 100,000 frames.
    const key = describeFilter(filter);
    if (!this.filtered || this.filtered.conn !== conn || this.filtered.key !== key) {
      this.filtered = { conn, key, list: new FilteredFrames(conn, filter) };
    }
    this.filtered.list.refresh();
    return this.filtered.list;
  }

  /** The capture file text (`s`): every connection the store still holds from its start. */
  captureText(): { text: string; connections: number; chunks: number; skipped: number } {
    const lines = [headerLine()];
    const included = new Set<number>();
    let chunks = 0;
    for (const entry of this.capture) {
      if (this.captureIncomplete.has(entry.conn)) continue;
      included.add(entry.conn);
      if (entry.kind === 'event') lines.push(entry.line);
      else {
        lines.push(...dataLines(entry.conn, entry.dir, entry.ts, entry.bytes.subarray(entry.at, entry.at + entry.size)));
        chunks++;
      }
    }
    return { text: lines.join('\n') + '\n', connections: included.size, chunks, skipped: this.captureIncomplete.size };
  }

  // -----------------------------------------------------------------------------------

  private onOpen(event: OpenEvent): void {
    const existing = this.conns.get(event.conn);
    if (existing) {
      existing.client = event.client;
      existing.target = event.target;
      existing.open = event;
      return;
    }
    const conn = newConn(event.conn, event.client, event.target, event.ts);
    conn.open = event;
    this.conns.set(event.conn, conn);
    this.limitConnections();
  }

  /** The connection of an event; created if its open event was never seen (or dropped). */
  private conn(id: number, ts: number): ConnRecord {
    let conn = this.conns.get(id);
    if (!conn) {
      conn = newConn(id, '?', '?', ts);
      this.conns.set(id, conn);
      this.limitConnections();
    }
    return conn;
  }

  private onFrame(ev: FrameEvent): void {
    const conn = this.conn(ev.conn, ev.ts);
    const dir = ev.dir;
    if (conn.state === 'handshaking' || conn.state === 'http') conn.state = 'open';
    conn.passThrough = false;
    let group: Group | null = null;
    let groupPos: GroupPos = null;
    const open = conn.openGroup[dir];
    if (ev.opcode === 0x1 || ev.opcode === 0x2) {
      group = { opcode: ev.opcode, compressed: ev.rsv1, frames: 1 };
      groupPos = ev.fin ? 'only' : 'first';
      conn.openGroup[dir] = ev.fin ? null : group;
    } else if (ev.opcode === 0x0) {
      if (open) {
        group = open;
        group.frames++;
        groupPos = ev.fin ? 'last' : 'middle';
        if (ev.fin) conn.openGroup[dir] = null;
      } else {
        groupPos = 'orphan';
      }
    } else if (open) {
      groupPos = 'inside';
    }
    // Counted from the lengths, without reading `payload`: the decoder computes the hex of
    // a large payload only when someone reads it (a frame never shown never pays for it).
    const cost = 2 * Math.min(ev.payloadLength, this.maxPayload) + ev.header.length + (ev.closeReason?.length ?? 0);
    const record: FrameRecord = {
      ev,
      n: conn.nextN++,
      group,
      groupPos,
      groupIndex: group ? group.frames : 0,
      cost,
      dropped: false,
    };
    if (group && ev.fin) conn.lastComplete[dir] = record;
    if (ev.opcode === 0x8) {
      conn.closeSent[dir] = true;
      if (conn.state !== 'closed') conn.state = 'closing';
    }
    conn.frames.push(record);
    conn.framesBy[dir]++;
    this.order.push(record);
    this.frameCount++;
    this.totalFrames++;
    this.totalFrameBytes += ev.header.length / 2 + ev.payloadLength;
    this.payloadChars += cost;
    this.limitFrames();
  }

  private onMessage(ev: MessageEvent): void {
    const conn = this.conn(ev.conn, ev.ts);
    const counts = (conn.messagesBy ??= { client: 0, server: 0 });
    const index = counts[ev.dir]++;
    if (ev.source === 'har') return this.onMessageOnly(conn, ev, index);
    const record = conn.lastComplete[ev.dir];
    if (!record || !record.group || record.dropped) return;
    record.group.message = ev;
    if (ev.app) record.messageIndex = index;
    // Decoded packets (src/protocols) come from the whole message: counted by its length.
    const extra = 2 * Math.min(ev.length, this.maxPayload) + (ev.app ? 2 * ev.length : 0);
    record.cost += extra;
    this.payloadChars += extra;
    conn.lastComplete[ev.dir] = null;
    this.limitFrames();
  }

  /** A message with no frames (a HAR's): one row of its own (FrameRecord.messageOnly). */
  private onMessageOnly(conn: ConnRecord, ev: MessageEvent, index: number): void {
    conn.messagesOnly = true;
    if (conn.state === 'handshaking' || conn.state === 'http') conn.state = 'open';
    conn.passThrough = false;
    const group: Group = { opcode: ev.opcode, compressed: false, frames: 0, message: ev };
    const frame = messageRowEvent(ev, index);
    const cost = 2 * Math.min(ev.length, this.maxPayload) + (ev.app ? 2 * ev.length : 0);
    const record: FrameRecord = { ev: frame, n: conn.nextN++, group, groupPos: 'only', groupIndex: 1, messageIndex: index, cost, dropped: false, messageOnly: true };
    conn.frames.push(record);
    conn.framesBy[ev.dir]++;
    this.order.push(record);
    this.frameCount++;
    this.totalFrames++;
    this.totalFrameBytes += ev.length;
    this.payloadChars += cost;
    this.limitFrames();
  }

  private onError(ev: ErrorEvent): void {
    const text = ev.conn !== undefined ? `conn ${ev.conn}: ${ev.message}` : ev.message;
    this.errors.push(text);
    if (this.errors.length > MAX_ERRORS) this.errors.shift();
    if (ev.conn !== undefined) {
      const conn = this.conn(ev.conn, ev.ts);
      conn.errors.push(ev.message);
      if (conn.errors.length > MAX_ERRORS) conn.errors.shift();
    }
  }

  private limitFrames(): void {
    while (this.frameCount > this.maxFrames || (this.payloadChars > this.maxPayloadChars && this.frameCount > 1)) {
      const oldest = this.order.shift();
      if (!oldest) break;
      if (oldest.dropped) continue; // its connection was dropped already
      this.dropRecord(oldest);
      const conn = this.conns.get(oldest.ev.conn);
      if (conn && conn.frames[conn.head] === oldest) {
        (conn.frames as (FrameRecord | undefined)[])[conn.head] = undefined;
        conn.head++;
        if (conn.head > 1024 && conn.head * 2 > conn.frames.length) {
          conn.frames = conn.frames.slice(conn.head);
          conn.head = 0;
        }
      }
    }
  }

  private dropRecord(record: FrameRecord): void {
    record.dropped = true;
    this.frameCount--;
    this.payloadChars -= record.cost;
    this.droppedFrames++;
  }

  private limitConnections(): void {
    while (this.conns.size > this.maxConnections) {
      let victim: ConnRecord | undefined;
      for (const conn of this.conns.values()) {
        if (conn.state === 'closed') {
          victim = conn;
          break;
        }
      }
      victim ??= this.conns.values().next().value as ConnRecord;
      this.conns.delete(victim.id);
      victim.dropped = true;
      this.droppedConnections++;
      for (let i = victim.head; i < victim.frames.length; i++) this.dropRecord(victim.frames[i]);
      victim.frames = [];
      victim.head = 0;
    }
  }

  private pushCapture(entry: CaptureEntry): void {
    this.capture.push(entry);
    this.captureBytes += entry.size;
    while (this.captureBytes > this.maxCaptureBytes && this.capture.length > 0) {
      const old = this.capture.shift()!;
      this.captureBytes -= old.size;
      this.captureIncomplete.add(old.conn);
    }
  }
}

/**
 * The row event of a message-only record: what the message says (sender, time, opcode,
 * payload, `index` its index among the sender's messages) and nothing made up beyond the
 * type's required fields, which the views never show for such a record (`header` empty,
 * `offset` -1: not known).
 */
export function messageRowEvent(m: MessageEvent, index: number): FrameEvent {
  const payload = m.text !== undefined ? Buffer.from(m.text, 'utf8').toString('hex') : (m.data ?? '');
  return {
    event: 'frame',
    ts: m.ts,
    conn: m.conn,
    dir: m.dir,
    index,
    offset: -1,
    header: '',
    fin: true,
    rsv1: false,
    rsv2: false,
    rsv3: false,
    opcode: m.opcode,
    opcodeName: m.opcodeName,
    masked: false,
    maskKey: null,
    payloadLength: m.length,
    lengthForm: 7,
    payload,
    payloadTruncated: m.truncated === true,
    violations: [],
  };
}

function newConn(id: number, client: string, target: string, ts: number): ConnRecord {
  return {
    id,
    client,
    target,
    openTs: ts,
    state: 'handshaking',
    passThrough: false,
    http: [],
    errors: [],
    frames: [],
    head: 0,
    nextN: 0,
    framesBy: { client: 0, server: 0 },
    bytesBy: { client: 0, server: 0 },
    closeSent: { client: false, server: false },
    openGroup: { client: null, server: null },
    lastComplete: { client: null, server: null },
    dropped: false,
  };
}

// ---------------------------------------------------------------------------------------
// Lists of frames, filtered or not: what the frames pane pages through.

export interface FrameList {
  readonly length: number;
  at(i: number): FrameRecord;
  /** The index of the record with sequence number `n`, or of the nearest one after it (or -1). */
  indexOfN(n: number): number;
}

class ConnFrames implements FrameList {
  constructor(private readonly conn: ConnRecord) {}
  get length(): number {
    return this.conn.frames.length - this.conn.head;
  }
  at(i: number): FrameRecord {
    return this.conn.frames[this.conn.head + i];
  }
  indexOfN(n: number): number {
    if (this.length === 0) return -1;
    // Sequence numbers are contiguous: only the oldest frames are ever dropped.
    const i = n - this.at(0).n;
    return i < 0 ? 0 : i >= this.length ? -1 : i;
  }
}

/**
 * The frames of a connection that match a filter, kept up to date incrementally:
 * `refresh()` forgets matches dropped from the store (always the oldest) and scans only
 * the frames that arrived since the last call.
 */
class FilteredFrames implements FrameList {
  private matches: FrameRecord[] = [];
  private start = 0;
  /** The sequence number of the next frame to scan. */
  private nextN = 0;

  constructor(
    private readonly conn: ConnRecord,
    private readonly filter: FrameFilter,
  ) {}

  refresh(): void {
    while (this.start < this.matches.length && this.matches[this.start].dropped) this.start++;
    if (this.start > 1024 && this.start * 2 > this.matches.length) {
      this.matches = this.matches.slice(this.start);
      this.start = 0;
    }
    const c = this.conn;
    if (c.frames.length > c.head) {
      const firstN = c.frames[c.head].n;
      for (let i = c.head + Math.max(0, this.nextN - firstN); i < c.frames.length; i++) {
        if (matchesFilter(c.frames[i], this.filter)) this.matches.push(c.frames[i]);
      }
    }
    this.nextN = c.nextN;
  }

  get length(): number {
    return this.matches.length - this.start;
  }
  at(i: number): FrameRecord {
    return this.matches[this.start + i];
  }
  indexOfN(n: number): number {
    let lo = this.start;
    let hi = this.matches.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.matches[mid].n < n) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.matches.length ? lo - this.start : -1;
  }
}

// ---------------------------------------------------------------------------------------
// Filters (`f`): by direction, opcode, violations.

export interface FrameFilter {
  dirs: Direction[];
  opcodes: number[];
  violations: boolean;
  /** What the message carries (src/explain/app.ts AppWord): all must match. */
  app?: AppWord[];
}

export const isEmptyFilter = (f: FrameFilter): boolean => f.dirs.length === 0 && f.opcodes.length === 0 && !f.violations && !f.app?.length;

const OPCODE_WORDS: Record<string, number[]> = {
  cont: [0x0],
  continuation: [0x0],
  text: [0x1],
  binary: [0x2],
  bin: [0x2],
  close: [0x8],
  ping: [0x9],
  pong: [0xa],
  data: [0x0, 0x1, 0x2],
  control: [0x8, 0x9, 0xa],
};

/**
 * Parses a filter typed after `f`: words separated by spaces, e.g. "client text",
 * "server close", "!" (frames with violations), "0x3". Words of the same kind are
 * alternatives (client OR server); kinds combine with AND. An empty text clears the filter.
 */
export function parseFilter(text: string): FrameFilter | { error: string } {
  const filter: FrameFilter = { dirs: [], opcodes: [], violations: false };
  for (const raw of text.trim().toLowerCase().split(/[\s,]+/).filter(Boolean)) {
    const word = raw;
    if (word === 'client' || word === 'c' || word === 'c>s') filter.dirs.push('client');
    else if (word === 'server' || word === 's' || word === 's>c') filter.dirs.push('server');
    else if (word === '!' || word === 'violations' || word === 'violation' || word === 'bad') filter.violations = true;
    else if (OPCODE_WORDS[word]) filter.opcodes.push(...OPCODE_WORDS[word]);
    else if (/^(0x[0-9a-f]|[0-9]|1[0-5])$/.test(word)) filter.opcodes.push(Number(word));
    else if (parseAppWord(word)) (filter.app ??= []).push(parseAppWord(word)!);
    else {
      return {
        error: `unknown filter word "${word}": use client, server, text, binary, close, ping, pong, cont, data, control, 0x3, !, app, a protocol (stomp), event:NAME, topic:T, type:T, id:N`,
      };
    }
  }
  filter.dirs = [...new Set(filter.dirs)];
  filter.opcodes = [...new Set(filter.opcodes)].sort((a, b) => a - b);
  return filter;
}

/** The filter as words (what the pane title shows), "" when empty. */
export function describeFilter(f: FrameFilter): string {
  return [
    ...f.dirs,
    ...f.opcodes.map(opcodeShort),
    ...(f.violations ? ['!'] : []),
    ...(f.app ?? []).map(appWordText),
  ].join(' ');
}

/** The violations of a frame, including those of the message it completes. */
export function frameViolations(record: FrameRecord) {
  const own = record.ev.violations;
  const m = record.group?.message && (record.groupPos === 'last' || record.groupPos === 'only') ? record.group.message : undefined;
  // The message's own (UTF-8, ...) and those of the packets it carries (src/protocols, `app.violations`).
  const message = m ? [...m.violations, ...appViolations(m.app)] : [];
  return message.length ? [...own, ...message.filter((v) => !own.some((o) => o.rule === v.rule && o.message === v.message))] : own;
}

export function matchesFilter(record: FrameRecord, f: FrameFilter): boolean {
  if (f.dirs.length && !f.dirs.includes(record.ev.dir)) return false;
  if (f.opcodes.length && !f.opcodes.includes(record.ev.opcode)) return false;
  if (f.violations && frameViolations(record).length === 0) return false;
  if (f.app?.length) {
    // The message's packets are on the frame that completed it.
    const m = record.groupPos === 'last' || record.groupPos === 'only' ? record.group?.message : undefined;
    if (!m?.app || !f.app.every((w) => appMatches(m.app, w))) return false;
  }
  return true;
}
