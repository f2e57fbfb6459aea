/**
 * ASP.NET Core SignalR's hub protocol (dotnet/aspnetcore, src/SignalR/docs/specs/
 * HubProtocol.md): a JSON handshake record (`{"protocol":"json","version":1}` then the
 * server's `{}` or `{"error":...}`), each record ending in the Record Separator 0x1e;
 * then either JSON records (text) or MessagePack arrays, each after a varint length
 * ("MessagePack Encoding": 7 bits per byte, least significant first, at most 5 bytes).
 *
 * Records may be several in one WebSocket message and (rarely) split across messages:
 * each direction keeps the unfinished record, at most SIGNALR_MAX_RECORD bytes.
 *
 * Sans-IO: message payloads in, packet descriptions out.
 */
import type { Direction, Violation } from '../decoder/events';
import { decodeMsgpack } from './binary';
import type { ProtocolModule, ProtocolSession } from './types';
import { preview } from './json';
import { type Packet, type PacketResult, PendingBytes, addViolation, jsonSafe, quote, resultOf, ruleViolation } from './wire';

/** The largest unfinished record a direction keeps (1 MiB); see docs/design.md. */
export const SIGNALR_MAX_RECORD = 1024 * 1024;

const RS = 0x1e;

/** HubProtocol.md "Message Types". */
export const SIGNALR_TYPES: Record<number, string> = {
  1: 'Invocation', 2: 'StreamItem', 3: 'Completion', 4: 'StreamInvocation', 5: 'CancelInvocation',
  6: 'Ping', 7: 'Close', 8: 'Ack', 9: 'Sequence',
};

export const SIGNALR_RULES = {
  'signalr-bad-json': 'HubProtocol.md "JSON Encoding": a record is one JSON object',
  'signalr-bad-msgpack': 'HubProtocol.md "MessagePack Encoding": a message is a MessagePack array after its varint length',
  'signalr-bad-length': 'HubProtocol.md "MessagePack Encoding": the varint length has at most 5 bytes (up to 2 GB)',
  'signalr-bad-handshake': 'HubProtocol.md "Overview": the handshake request names a protocol and version; the response is {} or {"error"}',
  'signalr-unknown-type': 'HubProtocol.md "Message Types": a type not in the table',
  'signalr-missing-field': 'HubProtocol.md "JSON Encoding": a required field is missing',
  'signalr-bad-field': 'HubProtocol.md "JSON Encoding": a field of the wrong JSON type',
  'signalr-result-and-error': 'HubProtocol.md "Completion": a completion has a result or an error, not both',
  'signalr-record-too-long': 'wsscope: an unfinished record over SIGNALR_MAX_RECORD bytes is dropped',
} as const;
export type SignalrRule = keyof typeof SIGNALR_RULES;

const violation = (rule: SignalrRule, message: string): Violation => ruleViolation(SIGNALR_RULES, rule, message);

type Fields = Record<string, unknown>;

/** Adds the conventions of src/protocols/types.ts (event, id, pair) and a summary. */
function finish(p: Packet): Packet {
  const id = p.invocationId;
  if (typeof id === 'string' || typeof id === 'number') {
    p.id = id;
    if (p.code === 1 || p.code === 4) p.pair = 'request';
    else if (p.code === 2) p.pair = 'stream';
    else if (p.code === 3) p.pair = 'response';
    else if (p.code === 5) p.pair = 'end';
  }
  if (typeof p.target === 'string') p.event = p.target;
  const idText = id === undefined || id === null ? '' : ` id ${String(id)}`;
  switch (p.code) {
    case 1: case 4:
      p.summary = `${p.type} ${quote(String(p.target ?? '?'))} ${preview(p.arguments ?? [])}${idText}`;
      break;
    case 2: p.summary = `StreamItem${idText} ${preview(p.item)}`; break;
    case 3:
      p.summary = `Completion${idText}${p.error !== undefined ? ` error ${quote(String(p.error))}` : p.result !== undefined ? ` result ${preview(p.result)}` : ''}`;
      break;
    case 5: p.summary = `CancelInvocation${idText}`; break;
    case 7: p.summary = `Close${p.error !== undefined && p.error !== null ? ` error ${quote(String(p.error))}` : ''}${p.allowReconnect ? ' allowReconnect' : ''}`; break;
    case 8: case 9: p.summary = `${p.type} ${String(p.sequenceId)}`; break;
    default: p.summary = p.type;
  }
  return p;
}

/** Field checks shared by both encodings (HubProtocol.md's per-type field lists). */
function check(p: Packet): void {
  const need = (k: string, t: 'string' | 'array' | 'number' | 'any') => {
    const v = p[k];
    if (v === undefined) return addViolation(p, violation('signalr-missing-field', `${p.type} without ${k}`));
    const ok = t === 'any' || (t === 'array' ? Array.isArray(v) : typeof v === t);
    if (!ok) addViolation(p, violation('signalr-bad-field', `${p.type} ${k} is not a${t === 'array' ? 'n array' : ` ${t}`}`));
  };
  switch (p.code) {
    case 1: case 4:
      need('target', 'string');
      need('arguments', 'array');
      if (p.code === 4) need('invocationId', 'string');
      else if (p.invocationId !== undefined && p.invocationId !== null && typeof p.invocationId !== 'string') addViolation(p, violation('signalr-bad-field', 'Invocation invocationId is not a string'));
      break;
    case 2: need('invocationId', 'string'); need('item', 'any'); break;
    case 3:
      need('invocationId', 'string');
      if (p.result !== undefined && p.error !== undefined) addViolation(p, violation('signalr-result-and-error', 'Completion with both result and error'));
      break;
    case 5: need('invocationId', 'string'); break;
    case 8: case 9: need('sequenceId', 'number'); break;
  }
}

/** One JSON record (without its separator) after the handshake. */
export function decodeJsonRecord(text: string): Packet {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { protocol: 'signalr', type: 'invalid', summary: `invalid: ${preview(text)}`, violations: [violation('signalr-bad-json', 'the record is not a JSON object')] };
  }
  const o = v as Fields;
  const code = o.type;
  if (typeof code !== 'number' || !SIGNALR_TYPES[code]) {
    return { protocol: 'signalr', type: 'invalid', summary: `unknown type ${preview(code)}`,
      violations: [violation(code === undefined ? 'signalr-missing-field' : 'signalr-unknown-type', code === undefined ? 'the record has no type' : `type ${preview(code)} is not defined`)] };
  }
  const p: Packet = { protocol: 'signalr', type: SIGNALR_TYPES[code], code, summary: '', encoding: 'json' };
  for (const [k, x] of Object.entries(o)) if (k !== 'type') p[k] = x;
  check(p);
  return finish(p);
}

/** One MessagePack message (the array after its varint length). */
export function decodeMsgpackMessage(bytes: Buffer): Packet {
  const d = decodeMsgpack(bytes);
  const bad = (why: string): Packet => ({ protocol: 'signalr', type: 'invalid', summary: `invalid: ${why}`, encoding: 'messagepack', violations: [violation('signalr-bad-msgpack', why)] });
  if (!d.ok) return bad(`not MessagePack: ${d.error!}`);
  if (d.trailing) return bad('bytes follow the message inside its length');
  const a = d.value;
  if (!Array.isArray(a) || typeof a[0] !== 'number') return bad(`not an array starting with the type: ${preview(jsonSafe(a))}`);
  const code = a[0];
  if (!SIGNALR_TYPES[code]) {
    return { protocol: 'signalr', type: 'invalid', summary: `unknown type ${code}`, encoding: 'messagepack', violations: [violation('signalr-unknown-type', `type ${code} is not defined`)] };
  }
  const p: Packet = { protocol: 'signalr', type: SIGNALR_TYPES[code], code, summary: '', encoding: 'messagepack' };
  const set = (names: string[], from = 1) => names.forEach((n, i) => { if (from + i < a.length) p[n] = jsonSafe(a[from + i]); });
  switch (code) {
    case 1: case 4: set(['headers', 'invocationId', 'target', 'arguments', 'streamIds']); break;
    case 2: set(['headers', 'invocationId', 'item']); break;
    case 3: {
      set(['headers', 'invocationId']);
      // ResultKind: 1 Error (the error string follows), 2 Void, 3 NonVoid (the result follows).
      const kind = a[3];
      p.resultKind = kind === 1 ? 'Error' : kind === 2 ? 'Void' : kind === 3 ? 'NonVoid' : jsonSafe(kind);
      if (kind === 1) p.error = jsonSafe(a[4]);
      else if (kind === 3) p.result = jsonSafe(a[4]);
      else if (kind !== 2) addViolation(p, violation('signalr-bad-field', `Completion ResultKind ${preview(jsonSafe(kind))} (1, 2 or 3)`));
      break;
    }
    case 5: set(['headers', 'invocationId']); break;
    case 7: set(['error', 'allowReconnect']); break;
    case 8: case 9: set(['sequenceId']); break;
  }
  if (p.invocationId === null) delete p.invocationId;
  if (p.error === null) delete p.error;
  if (p.headers && typeof p.headers === 'object' && Object.keys(p.headers).length === 0) delete p.headers;
  check(p);
  return finish(p);
}

/** The handshake request (client) or response (server), a JSON record. */
function handshakeRecord(dir: Direction, text: string): Packet {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const o = (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : null) as Fields | null;
  if (dir === 'client') {
    const p: Packet = { protocol: 'signalr', type: 'Handshake', summary: '' };
    if (o && typeof o.protocol === 'string' && typeof o.version === 'number') {
      p.hubProtocol = o.protocol;
      p.version = o.version;
      p.summary = `Handshake ${o.protocol} v${o.version}`;
    } else {
      p.summary = `Handshake invalid ${preview(text)}`;
      addViolation(p, violation('signalr-bad-handshake', 'the handshake request is not {"protocol": string, "version": number}'));
    }
    return p;
  }
  const p: Packet = { protocol: 'signalr', type: 'HandshakeResponse', summary: 'HandshakeResponse ok' };
  if (!o) {
    p.summary = `HandshakeResponse invalid ${preview(text)}`;
    addViolation(p, violation('signalr-bad-handshake', 'the handshake response is not a JSON object'));
  } else if (o.error !== undefined) {
    p.error = o.error;
    p.summary = `HandshakeResponse error ${quote(String(o.error))}`;
  }
  return p;
}

/** Reads a SignalR MessagePack length (HubProtocol.md: 7-bit groups, low first, at most 5 bytes). */
export function readSignalrLength(buf: Buffer, at: number): { value: number; size: number } | null | -1 {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (at + i >= buf.length) return null;
    const b = buf[at + i];
    value += (b & 0x7f) * 128 ** i;
    if ((b & 0x80) === 0) return value > 0x7fffffff ? -1 : { value, size: i + 1 };
  }
  return -1;
}

/** One connection's SignalR: the handshake per direction, then records in the negotiated encoding. */
export class SignalrSession {
  /** 'json' or 'messagepack' once the client's handshake says; binary messages are MessagePack anyway. */
  hubProtocol: string | null = null;
  private readonly sides: Record<Direction, { handshake: boolean; text: PendingBytes; binary: PendingBytes; messages: number; lost: boolean }>;

  constructor(handshakeSeen = false) {
    const side = () => ({ handshake: handshakeSeen, text: new PendingBytes(), binary: new PendingBytes(), messages: 0, lost: false });
    this.sides = { client: side(), server: side() };
  }

  message(dir: Direction, opcode: number, payload: Buffer): PacketResult {
    const side = this.sides[dir];
    const out: Packet[] = [];
    // The handshake and JSON records end with 0x1e; MessagePack messages are length-prefixed.
    const records = !side.handshake || opcode === 1 || this.hubProtocol === 'json';
    const buf = records ? side.text : side.binary;
    if (payload.length > 0) {
      buf.push(payload);
      side.messages++;
    }
    if (records) this.records(dir, buf, out);
    else this.binary(dir, buf, out);
    if (buf.length > SIGNALR_MAX_RECORD) {
      out.push({ protocol: 'signalr', type: 'invalid', summary: `invalid: more than ${SIGNALR_MAX_RECORD} bytes without a record's end`,
        violations: [violation('signalr-record-too-long', `an unfinished record of ${buf.length} bytes was dropped`)] });
      buf.clear();
    }
    buf.settle();
    if (buf.length === 0) side.messages = 0;
    return resultOf('signalr', out, buf.length > 0);
  }

  private records(dir: Direction, buf: PendingBytes, out: Packet[]): void {
    const side = this.sides[dir];
    const all = buf.view();
    let at = 0;
    for (;;) {
      const end = all.indexOf(RS, at);
      if (end < 0) break;
      const text = all.toString('utf8', at, end);
      let p: Packet;
      if (!side.handshake) {
        side.handshake = true;
        p = handshakeRecord(dir, text);
        if (dir === 'client' && typeof p.hubProtocol === 'string') this.hubProtocol = p.hubProtocol;
      } else p = decodeJsonRecord(text);
      if (side.messages > 1) p.fromMessages = side.messages;
      side.messages = 1;
      out.push(p);
      at = end + 1;
      // After the handshake a MessagePack connection goes on in binary messages.
      if (this.hubProtocol === 'messagepack' && at < all.length && side.handshake) {
        this.sides[dir].binary.push(all.subarray(at));
        buf.consume(all.length);
        this.binary(dir, this.sides[dir].binary, out);
        return;
      }
    }
    buf.consume(at);
  }

  private binary(dir: Direction, buf: PendingBytes, out: Packet[]): void {
    const side = this.sides[dir];
    for (;;) {
      if (buf.length === 0) break;
      const all = buf.view();
      const len = readSignalrLength(all, 0);
      if (len === null) break;
      if (len === -1) {
        out.push({ protocol: 'signalr', type: 'invalid', summary: 'invalid: a MessagePack length longer than 5 bytes', encoding: 'messagepack',
          violations: [violation('signalr-bad-length', `length bytes ${all.subarray(0, 5).toString('hex')}… continue past 5 bytes or exceed 2 GB`)] });
        buf.clear();
        break;
      }
      if (len.value > SIGNALR_MAX_RECORD) {
        out.push({ protocol: 'signalr', type: 'invalid', summary: `invalid: a ${len.value}-byte message`, encoding: 'messagepack',
          violations: [violation('signalr-record-too-long', `a MessagePack message of ${len.value} bytes is over ${SIGNALR_MAX_RECORD}: dropped`)] });
        buf.clear();
        break;
      }
      if (all.length < len.size + len.value) break;
      const p = decodeMsgpackMessage(all.subarray(len.size, len.size + len.value));
      if (side.messages > 1) p.fromMessages = side.messages;
      side.messages = 1;
      out.push(p);
      buf.consume(len.size + len.value);
    }
  }
}

/** A strict sniff: a client's first text message is a whole handshake request record. */
export function sniffSignalrHandshake(dir: Direction, opcode: number, payload: Buffer): boolean {
  if (dir !== 'client' || opcode !== 1 || payload[payload.length - 1] !== RS || payload.indexOf(RS) !== payload.length - 1) return false;
  try {
    const o = JSON.parse(payload.toString('utf8', 0, payload.length - 1)) as Fields;
    return typeof o === 'object' && o !== null && typeof o.protocol === 'string' && typeof o.version === 'number' && Object.keys(o).length === 2;
  } catch {
    return false;
  }
}

/**
 * ASP.NET Core SignalR: a client's first message that is a whole handshake request, or
 * the query's `id` being a connection token as ASP.NET Core makes them (22 characters of
 * base64url: 16 random bytes; HubProtocol.md / TransportProtocols.md "WebSockets").
 */
export const signalr: ProtocolModule = {
  name: 'signalr',
  fromHandshake(ctx) {
    const id = ctx.query.get('id');
    return id !== null && /^[A-Za-z0-9_-]{22}$/.test(id) && ctx.subprotocol === null ? `query id=${id} (a SignalR connection token)` : null;
  },
  sniff(dir, opcode, payload) {
    return sniffSignalrHandshake(dir, opcode, payload) ? 'the client\'s first message is a SignalR handshake request ({"protocol","version"} and 0x1e)' : null;
  },
  open() {
    return new SignalrSession() as ProtocolSession;
  },
};
