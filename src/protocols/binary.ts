/**
 * Generic MessagePack (msgpack spec, github.com/msgpack/msgpack/blob/master/spec.md) and
 * CBOR (RFC 8949) payloads, decoded by the reference libraries @msgpack/msgpack and cbor-x
 * (no parser of our own). Used on their own only when negotiated by subprotocol or forced
 * with --protocol, never guessed from arbitrary binary (DESIGN.md), and by WAMP and
 * SignalR for their binary serialisations.
 */
import { Decoder as MsgpackDecoder } from '@msgpack/msgpack';
import { Decoder as CborDecoder } from 'cbor-x';
import type { Direction, Violation } from '../decoder/events';
import type { AppResult, ProtocolContext, ProtocolModule, ProtocolSession } from './types';
import { preview } from './json';
import { type Packet, jsonSafe } from './wire';

export type Encoding = 'msgpack' | 'cbor';

export interface Decoded {
  /** The first value (as the library returns it), when one could be decoded. */
  value?: unknown;
  ok: boolean;
  /** Why decoding failed. */
  error?: string;
  /** More bytes (another value, or garbage) follow the first value. */
  trailing?: boolean;
}

/** Every length the payload claims is bounded by the payload itself (a 5-byte header cannot make a 4 GiB array). */
function msgpackDecoder(len: number): MsgpackDecoder {
  const max = Math.max(16, len);
  return new MsgpackDecoder({ useBigInt64: true, maxStrLength: max, maxBinLength: max, maxArrayLength: max, maxMapLength: max, maxExtLength: max });
}

const cbor = new CborDecoder({ mapsAsObjects: true, useRecords: false, bundleStrings: false } as ConstructorParameters<typeof CborDecoder>[0]);

/** Decodes the first MessagePack value of `buf`, saying whether more bytes follow. */
export function decodeMsgpack(buf: Uint8Array): Decoded {
  const it = msgpackDecoder(buf.length).decodeMulti(buf);
  let first: IteratorResult<unknown>;
  try {
    first = it.next();
  } catch (e) {
    return { ok: false, error: cleanError(e) };
  }
  if (first.done) return { ok: false, error: 'no value (empty payload)' };
  let trailing = false;
  try {
    trailing = !it.next().done;
  } catch {
    trailing = true;
  }
  return { ok: true, value: first.value, trailing };
}

/** Decodes the first CBOR data item of `buf`, saying whether more bytes follow. */
export function decodeCbor(buf: Uint8Array): Decoded {
  if (buf.length === 0) return { ok: false, error: 'no value (empty payload)' };
  const values: unknown[] = [];
  try {
    cbor.decodeMultiple(buf, (v: unknown) => {
      values.push(v);
      return values.length < 2;
    });
  } catch (e) {
    if (values.length === 0) return { ok: false, error: cleanError(e) };
    return { ok: true, value: values[0], trailing: true };
  }
  if (values.length === 0) return { ok: false, error: 'no value' };
  return { ok: true, value: values[0], trailing: values.length > 1 };
}

export function decodeBinary(enc: Encoding, buf: Uint8Array): Decoded {
  return enc === 'msgpack' ? decodeMsgpack(buf) : decodeCbor(buf);
}

/** One line of a library's error (no stack; a stack overflow on deep nesting says so). */
function cleanError(e: unknown): string {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'nested too deeply';
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 200);
}

/** The kind of a decoded value, as a packet's `type`. */
export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Date) return 'timestamp';
  if (typeof v === 'bigint') return 'integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.type === 'number' && o.data instanceof Uint8Array) return 'ext';
    if ('tag' in o && o.constructor?.name === 'Tag') return 'tag';
    return 'map';
  }
  return typeof v;
}

const RULE_SECTION: Record<Encoding, string> = { msgpack: 'MessagePack spec', cbor: 'RFC 8949 §3' };

export function binaryViolation(enc: Encoding, what: 'bad-encoding' | 'trailing-bytes', message: string): Violation {
  return { rule: `${enc}-${what}`, message, section: RULE_SECTION[enc] };
}

/** A whole message as one MessagePack or CBOR value: `{protocol, type: kind, value, summary}`. */
export function valuePacket(enc: Encoding, buf: Buffer): Packet {
  const d = decodeBinary(enc, buf);
  if (!d.ok) {
    return { protocol: enc, type: 'invalid', summary: `invalid ${enc}: ${d.error!}`, length: buf.length,
      violations: [binaryViolation(enc, 'bad-encoding', `not ${enc === 'msgpack' ? 'MessagePack' : 'CBOR'}: ${d.error!}`)] };
  }
  const value = jsonSafe(d.value);
  const type = kindOf(d.value);
  const p: Packet = { protocol: enc, type, summary: `${type} ${preview(value)}`, value };
  if (d.trailing) p.violations = [binaryViolation(enc, 'trailing-bytes', 'more bytes follow the first value')];
  return p;
}

/** Each binary message is one value; text messages are not this protocol's. */
class ValueSession implements ProtocolSession {
  constructor(private readonly enc: Encoding) {}
  message(_dir: Direction, opcode: 1 | 2, payload: Buffer): AppResult {
    return opcode === 2 ? valuePacket(this.enc, payload) : null;
  }
}

/** A subprotocol naming the encoding (`msgpack`, `messagepack`, `x-msgpack`, `cbor`, or ending in `.NAME` / `+NAME`). */
function namedBy(ctx: ProtocolContext, names: RegExp): string | null {
  return ctx.subprotocol && names.test(ctx.subprotocol) ? `Sec-WebSocket-Protocol: ${ctx.subprotocol}` : null;
}

/** Generic MessagePack: only when negotiated or forced (no sniff: arbitrary binary is nobody's). */
export const msgpackModule: ProtocolModule = {
  name: 'msgpack',
  fromHandshake: (ctx) => namedBy(ctx, /^(?:.*[.+])?(?:x-)?(?:msgpack|messagepack)$/i),
  open: () => new ValueSession('msgpack'),
};

/** Generic CBOR: only when negotiated or forced. */
export const cborModule: ProtocolModule = {
  name: 'cbor',
  fromHandshake: (ctx) => namedBy(ctx, /^(?:.*[.+])?cbor$/i),
  open: () => new ValueSession('cbor'),
};
