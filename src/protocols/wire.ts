/**
 * Small helpers shared by the binary protocol decoders (MQTT, SignalR, WAMP, MessagePack,
 * CBOR): a bounds-checked reader over one packet's bytes, a bounded per-direction byte
 * buffer for packets split across WebSocket messages, previews for summaries, and a
 * JSON-safe copy of values decoded by @msgpack/msgpack and cbor-x.
 */
import { clip, preview } from './json';

/** Thrown by Reader when a field runs past the end of the packet. */
export class ShortRead extends Error {
  constructor(readonly what: string) {
    super(`${what} runs past the end of the packet`);
  }
}

/** Reads big-endian integers and length-prefixed fields from one packet body. */
export class Reader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly end = buf.length) {}

  get left(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (this.end - this.pos < n) throw new ShortRead(what);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  rest(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }
}

/** True when the bytes are well-formed UTF-8 (Node's own check, WHATWG's decoder). */
export function isUtf8(b: Uint8Array): boolean {
  try {
    UTF8.decode(b);
    return true;
  } catch {
    return false;
  }
}
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** How many characters of text a summary shows before cutting with "…". */
export const SUMMARY_TEXT = 60;

/** A payload for a one-line summary: quoted text when it is printable UTF-8, else its size and first bytes in hex. */
export function previewBytes(b: Buffer): string {
  if (b.length === 0) return '""';
  if (isUtf8(b)) {
    const s = b.toString('utf8');
    // eslint-disable-next-line no-control-regex
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s)) return quote(s);
  }
  const head = b.subarray(0, 8).toString('hex');
  return `${b.length} bytes ${head}${b.length > 8 ? '…' : ''}`;
}

/** JSON-quotes a string cut at SUMMARY_TEXT characters (JSON escapes keep control characters visible). */
export function quote(s: string): string {
  return JSON.stringify(clip(s, SUMMARY_TEXT));
}

/** How deep jsonSafe copies nested arrays and maps before it cuts with "…". */
export const JSON_SAFE_DEPTH = 32;
/** How many items of one array or map jsonSafe copies before it says how many more there are. */
export const JSON_SAFE_ITEMS = 1000;

/**
 * A copy of a decoded MessagePack or CBOR value that JSON.stringify can write and that
 * stays bounded: bigints as decimal strings, byte strings as `{"$bytes": hex}`, Maps as
 * objects (keys as strings), Dates as ISO strings, extension types and tags as
 * `{"$ext": type, ...}` / `{"$tag": n, "value": ...}`, NaN and infinities as strings.
 */
export function jsonSafe(v: unknown, depth = 0): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (depth >= JSON_SAFE_DEPTH) return '…';
  if (v instanceof Uint8Array) {
    const hex = Buffer.from(v.buffer, v.byteOffset, Math.min(v.length, 1024)).toString('hex');
    return { $bytes: v.length > 1024 ? hex + '…' : hex };
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (Array.isArray(v)) {
    const out = v.slice(0, JSON_SAFE_ITEMS).map((x) => jsonSafe(x, depth + 1));
    if (v.length > JSON_SAFE_ITEMS) out.push(`… ${v.length - JSON_SAFE_ITEMS} more`);
    return out;
  }
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, x] of v) {
      if (n++ >= JSON_SAFE_ITEMS) break;
      out[typeof k === 'string' ? k : preview(jsonSafe(k, JSON_SAFE_DEPTH - 1))] = jsonSafe(x, depth + 1);
    }
    return out;
  }
  if (v instanceof Set) return jsonSafe([...v].slice(0, JSON_SAFE_ITEMS + 1), depth);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // @msgpack/msgpack's ExtData and cbor-x's Tag.
    if (typeof o.type === 'number' && o.data instanceof Uint8Array && Object.keys(o).length === 2) {
      return { $ext: o.type, data: (jsonSafe(o.data, depth + 1) as { $bytes: string }).$bytes };
    }
    if (o.constructor && o.constructor.name === 'Tag' && 'tag' in o) return { $tag: jsonSafe(o.tag), value: jsonSafe(o.value, depth + 1) };
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const k of Object.keys(o)) {
      if (n++ >= JSON_SAFE_ITEMS) break;
      out[k] = jsonSafe(o[k], depth + 1);
    }
    return out;
  }
  return String(v);
}

/**
 * The bytes of one direction not yet made into packets. A payload is only valid during
 * the session's call (src/protocols/types.ts): `push` borrows it, `settle` (at the end of
 * the call) copies whatever is still held, so a message that ends on a packet boundary
 * costs no copy. Parts are joined only when `view` is asked for, once the packet is whole.
 */
export class PendingBytes {
  private parts: Buffer[] = [];
  /** parts[borrowedFrom..] are the caller's buffers. */
  private borrowedFrom = 0;
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.length += b.length;
  }

  /** All pending bytes as one buffer. */
  view(): Buffer {
    if (this.parts.length > 1) {
      this.parts = [Buffer.concat(this.parts, this.length)];
      this.borrowedFrom = 1;
    }
    return this.parts[0] ?? EMPTY;
  }

  /** Drops the first n bytes. */
  consume(n: number): void {
    if (n === 0) return;
    const all = this.view();
    const rest = all.subarray(n);
    const borrowed = this.borrowedFrom === 0;
    this.parts = rest.length === 0 ? [] : [rest];
    this.borrowedFrom = borrowed ? 0 : 1;
    this.length = rest.length;
  }

  /** Makes the held bytes this object's own (call before returning to the caller). */
  settle(): void {
    for (let i = this.borrowedFrom; i < this.parts.length; i++) this.parts[i] = Buffer.from(this.parts[i]);
    this.borrowedFrom = this.parts.length;
  }

  clear(): void {
    this.parts = [];
    this.borrowedFrom = 0;
    this.length = 0;
  }
}
const EMPTY = Buffer.alloc(0);

import type { Violation } from '../decoder/events';
import type { AppPacket, AppResult, ProtocolName } from './types';

/** One decoded packet (src/protocols/types.ts's AppPacket). */
export type Packet = AppPacket;
/** What a session returns for one message (types.ts's AppResult). */
export type PacketResult = AppResult;

/**
 * A violation of one of a protocol's rules, from its table of rule id → "section: what the
 * rule says" (MQTT_RULES, WAMP_RULES, SIGNALR_RULES): the section is the text before the colon.
 */
export function ruleViolation<R extends string>(rules: Readonly<Record<R, string>>, rule: R, message: string): Violation {
  return { rule, message, section: rules[rule].split(':')[0] };
}

/** Adds a violation to a packet (creating the list on first use). */
export function addViolation(p: Packet, v: Violation): void {
  (p.violations ??= []).push(v);
}

/** The usual result for a list of completed packets. */
export function resultOf(protocol: ProtocolName, packets: Packet[], pending: boolean): PacketResult {
  if (packets.length === 1) return packets[0];
  if (packets.length > 1) return packets;
  return pending ? { protocol, partial: true } : null;
}
