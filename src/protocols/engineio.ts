/**
 * Engine.IO v4 and v3 packets over WebSocket, and the Socket.IO v5 and v4 packets they
 * carry (https://github.com/socketio/engine.io-protocol, socket.io-protocol).
 *
 * Engine.IO over WebSocket: one packet per message. A text message is the packet type
 * digit (0 open, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop) and its data; a
 * binary message is a message packet's bytes (v4: the bytes as they are; v3: a 0x04 type
 * byte first).
 *
 * Socket.IO inside an Engine.IO message packet:
 * `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]` with types 0 CONNECT,
 * 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR (v4: ERROR), 5 BINARY_EVENT,
 * 6 BINARY_ACK. A binary packet is followed by its attachments, one binary message each,
 * replacing the `{"_placeholder":true,"num":N}` objects in its data: the packet is
 * reported on the message carrying its last attachment (`fromMessages`).
 */
import type { Direction, Violation } from '../decoder/events';
import { appViolation, isObject, parseJson, preview, type Json } from './json';
import type { AppPacket, AppResult, ProtocolContext, ProtocolModule, ProtocolSession } from './types';

const EIO_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'] as const;
const SIO_TYPES_V5 = ['CONNECT', 'DISCONNECT', 'EVENT', 'ACK', 'CONNECT_ERROR', 'BINARY_EVENT', 'BINARY_ACK'] as const;
const SIO_TYPES_V4 = ['CONNECT', 'DISCONNECT', 'EVENT', 'ACK', 'ERROR', 'BINARY_EVENT', 'BINARY_ACK'] as const;
/** Attachments a binary packet may announce before we stop waiting for them. */
const MAX_ATTACHMENTS = 1000;
/** Bytes of an attachment kept (as hex) in the joined packet. */
const ATTACHMENT_PREVIEW = 32;

const EV = (rule: string, message: string): Violation => appViolation('engine.io', rule, message);
const SV = (rule: string, message: string): Violation => appViolation('socket.io', rule, message);

/** The Engine.IO version the query names (EIO=3 or 4), or null. */
function eioVersion(query: URLSearchParams): 3 | 4 | null {
  const v = query.get('EIO');
  return v === '4' ? 4 : v === '3' ? 3 : null;
}

/** An Engine.IO open packet's JSON: `{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…}`. */
function isOpenHandshake(v: Json | undefined): v is { [k: string]: Json } {
  return isObject(v) && typeof v.sid === 'string' && typeof v.pingInterval === 'number' && typeof v.pingTimeout === 'number' && Array.isArray(v.upgrades);
}

interface SioHeader {
  code: number;
  attachments: number;
  namespace: string;
  id: number | undefined;
  json: string;
  violations: Violation[];
}

/** Splits a Socket.IO packet's text into its parts (socket.io-parser's decodeString). */
function sioHeader(text: string): SioHeader | null {
  const code = text.charCodeAt(0) - 0x30;
  if (!(code >= 0 && code <= 6)) return null;
  const violations: Violation[] = [];
  let i = 1;
  let attachments = 0;
  if (code === 5 || code === 6) {
    const dash = text.indexOf('-', i);
    const digits = dash < 0 ? '' : text.slice(i, dash);
    if (!/^\d{1,6}$/.test(digits)) violations.push(SV('bad-attachments', 'a binary packet starts with its attachment count and "-"'));
    else {
      attachments = Number(digits);
      i = dash + 1;
    }
  }
  let namespace = '/';
  if (text[i] === '/') {
    const comma = text.indexOf(',', i);
    namespace = comma < 0 ? text.slice(i) : text.slice(i, comma);
    i = comma < 0 ? text.length : comma + 1;
  }
  let id: number | undefined;
  let j = i;
  while (j < text.length && j - i < 16 && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
  if (j > i) {
    id = Number(text.slice(i, j));
    i = j;
  }
  return { code, attachments, namespace, id, json: text.slice(i), violations };
}

function quoteEvent(name: string): string {
  return JSON.stringify(name);
}

/** One side's Socket.IO binary packet waiting for its attachments. */
interface Waiting {
  packet: AppPacket;
  data: Json;
  need: number;
  got: Buffer[];
  messages: number;
}

/** Replaces `{"_placeholder":true,"num":N}` by a description of attachment N. */
function fillPlaceholders(v: Json, got: Buffer[], depth = 0): Json {
  if (depth > 64) return v;
  if (Array.isArray(v)) return v.map((x) => fillPlaceholders(x, got, depth + 1));
  if (isObject(v)) {
    if (v._placeholder === true && typeof v.num === 'number') {
      const b = got[v.num];
      return b ? { attachment: v.num, length: b.length, hex: b.toString('hex', 0, Math.min(b.length, ATTACHMENT_PREVIEW)) } : v;
    }
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) out[k] = fillPlaceholders(x, got, depth + 1);
    return out;
  }
  return v;
}

function describeArg(v: Json): string {
  if (isObject(v) && typeof v.attachment === 'number' && typeof v.length === 'number' && typeof v.hex === 'string') return `<${v.length} bytes>`;
  return preview(v, 40);
}

function argsText(args: Json[]): string {
  const parts = args.map(describeArg).join(',');
  return `[${parts.length > 80 ? `${parts.slice(0, 79)}…` : parts}]`;
}

class EngineIoSession implements ProtocolSession {
  /** Whether message packets carry Socket.IO: known from the path, or found from the first one. */
  private socketIo: boolean | null;
  private readonly waiting: Record<Direction, Waiting | null> = { client: null, server: null };

  constructor(
    private readonly version: 3 | 4,
    socketIo: boolean | null,
  ) {
    this.socketIo = socketIo;
  }

  message(dir: Direction, opcode: 1 | 2, payload: Buffer): AppResult {
    if (opcode === 2) return this.binary(dir, payload);
    return this.text(dir, payload.toString('utf8'));
  }

  private text(dir: Direction, text: string): AppResult {
    const code = text.charCodeAt(0) - 0x30;
    if (!(code >= 0 && code <= 6)) {
      return { protocol: 'engine.io', type: 'invalid', summary: `invalid: ${preview(text)}`, violations: [EV('bad-packet-type', `an Engine.IO packet starts with a type digit 0-6 (starts with ${JSON.stringify(text.slice(0, 1))})`)] };
    }
    const type = EIO_TYPES[code];
    const data = text.slice(1);
    if (type === 'message') {
      if (this.socketIo === null) this.socketIo = dir === 'client' && /^0(\/[^,]*,?)?(\{.*)?$/s.test(data);
      if (this.socketIo) return this.socketIoPacket(dir, data);
    }
    const p: AppPacket = { protocol: 'engine.io', type, code, summary: type };
    const violations: Violation[] = [];
    if (type === 'open') {
      const v = parseJson(data);
      if (isOpenHandshake(v)) {
        Object.assign(p, { sid: v.sid, upgrades: v.upgrades, pingInterval: v.pingInterval, pingTimeout: v.pingTimeout });
        if (typeof v.maxPayload === 'number') p.maxPayload = v.maxPayload;
        p.summary = `open sid ${v.sid} ping every ${v.pingInterval} ms (timeout ${v.pingTimeout} ms)`;
      } else {
        violations.push(EV('bad-open', 'an open packet carries JSON with sid, upgrades, pingInterval and pingTimeout'));
        p.data = data;
      }
      if (dir === 'client') violations.push(EV('open-from-client', 'only the server sends the open packet'));
    } else if (data.length) {
      p.data = data;
      p.summary = `${type} ${preview(data)}`;
      if (type === 'close' || type === 'upgrade' || type === 'noop') violations.push(EV('unexpected-data', `a ${type} packet has no data`));
    }
    if (type === 'ping' || type === 'pong') {
      // v4: the server pings and the client answers; v3: the other way round ("probe" is either).
      const pinger: Direction = this.version === 4 ? 'server' : 'client';
      const wrong = data !== 'probe' && (type === 'ping' ? dir !== pinger : dir === pinger);
      if (wrong) violations.push(EV('heartbeat-direction', `in Engine.IO v${this.version} the ${pinger} sends ping and the other side pong`));
    }
    if (violations.length) p.violations = violations;
    return p;
  }

  private binary(dir: Direction, payload: Buffer): AppResult {
    let bytes = payload;
    const violations: Violation[] = [];
    if (this.version === 3) {
      if (payload[0] !== 4) violations.push(EV('bad-binary-type', 'an Engine.IO v3 binary message starts with the type byte 04 (message)'));
      bytes = payload.subarray(1);
    }
    const waiting = this.waiting[dir];
    if (this.socketIo && waiting) {
      waiting.got.push(Buffer.from(bytes));
      waiting.messages++;
      if (waiting.got.length < waiting.need) return { protocol: 'socket.io', partial: true };
      this.waiting[dir] = null;
      return this.finishBinary(waiting);
    }
    const p: AppPacket = { protocol: 'engine.io', type: 'message', code: 4, summary: `message <${bytes.length} bytes>`, length: bytes.length, hex: bytes.toString('hex', 0, Math.min(bytes.length, ATTACHMENT_PREVIEW)) };
    if (this.socketIo) violations.push(SV('unexpected-attachment', 'a binary message with no binary packet waiting for it'));
    if (violations.length) p.violations = violations;
    return p;
  }

  private finishBinary(w: Waiting): AppPacket {
    const filled = fillPlaceholders(w.data, w.got);
    const p = w.packet;
    p.fromMessages = w.messages;
    p.attachments = w.got.map((b, i) => ({ attachment: i, length: b.length, hex: b.toString('hex', 0, Math.min(b.length, ATTACHMENT_PREVIEW)) }));
    this.fillData(p, filled);
    return p;
  }

  /** Sets event/args/data and the summary from the packet's JSON data. */
  private fillData(p: AppPacket, data: Json | undefined): void {
    const ns = p.namespace !== '/' ? ` ${String(p.namespace)}` : '';
    const ack = p.id !== undefined ? ` ack ${p.id}` : '';
    const violations = (p.violations ??= []) as Violation[];
    switch (p.type) {
      case 'EVENT':
      case 'BINARY_EVENT': {
        if (!Array.isArray(data) || data.length === 0 || typeof data[0] !== 'string') {
          violations.push(SV('bad-event', 'an EVENT carries a JSON array whose first element is the event name'));
          p.data = data ?? null;
          p.summary = `${p.type}${ns} ${data === undefined ? preview(p.raw) : preview(data)}${ack}`;
          break;
        }
        p.event = data[0];
        p.args = data.slice(1);
        p.summary = `${p.type}${ns} ${quoteEvent(data[0])} ${argsText(data.slice(1))}${ack}`;
        break;
      }
      case 'ACK':
      case 'BINARY_ACK':
        if (!Array.isArray(data)) violations.push(SV('bad-ack', 'an ACK carries a JSON array of the answer\'s arguments'));
        if (p.id === undefined) violations.push(SV('ack-without-id', 'an ACK names the ack id it answers'));
        p.args = data ?? null;
        p.summary = `${p.type}${ns} ${p.id ?? '?'} ${Array.isArray(data) ? argsText(data) : preview(data)}`;
        break;
      case 'CONNECT':
        if (data !== undefined) {
          p.data = data;
          if (!isObject(data)) violations.push(SV('bad-connect', 'a CONNECT carries a JSON object (auth, or the sid in the answer)'));
        }
        p.summary = `CONNECT${ns || ' /'}${isObject(data) && typeof data.sid === 'string' ? ` sid ${data.sid}` : data !== undefined ? ` ${preview(data)}` : ''}`;
        break;
      case 'DISCONNECT':
        if (data !== undefined) violations.push(SV('unexpected-data', 'a DISCONNECT has no data'));
        p.summary = `DISCONNECT${ns || ' /'}`;
        break;
      default:
        // CONNECT_ERROR (v5: an object with "message"), ERROR (v4: any JSON).
        p.data = data ?? null;
        p.summary = `${p.type}${ns} ${isObject(data) && typeof data.message === 'string' ? preview(data.message) : preview(data)}`;
    }
    if (violations.length === 0) delete p.violations;
  }

  private socketIoPacket(dir: Direction, text: string): AppResult {
    const h = sioHeader(text);
    if (!h) {
      return { protocol: 'socket.io', type: 'invalid', summary: `invalid: ${preview(text)}`, violations: [SV('bad-packet-type', `a Socket.IO packet starts with a type digit 0-6 (starts with ${JSON.stringify(text.slice(0, 1))})`)] };
    }
    const names = this.version === 4 ? SIO_TYPES_V5 : SIO_TYPES_V4;
    const p: AppPacket = { protocol: 'socket.io', type: names[h.code], code: h.code, summary: '', namespace: h.namespace };
    if (h.id !== undefined) {
      p.id = h.id;
      p.pair = h.code === 3 || h.code === 6 ? 'response' : 'request';
      if (h.code !== 2 && h.code !== 3 && h.code !== 5 && h.code !== 6) delete p.pair;
    }
    const violations = [...h.violations];
    let data: Json | undefined;
    if (h.json.length) {
      data = parseJson(h.json);
      if (data === undefined) {
        violations.push(SV('bad-json', `the packet's data is not JSON: ${preview(h.json)}`));
        p.raw = h.json;
      }
    }
    if (violations.length) p.violations = violations;
    if (this.waiting[dir]) {
      // A new packet while attachments were awaited: the old one is incomplete.
      const old = this.waiting[dir]!;
      this.waiting[dir] = null;
      violations.push(SV('missing-attachments', `the previous ${old.packet.type} got ${old.got.length} of its ${old.need} attachments`));
      p.violations = violations;
    }
    if ((h.code === 5 || h.code === 6) && h.attachments > 0 && h.attachments <= MAX_ATTACHMENTS && data !== undefined) {
      p.attachmentCount = h.attachments;
      this.waiting[dir] = { packet: p, data, need: h.attachments, got: [], messages: 1 };
      return { protocol: 'socket.io', partial: true };
    }
    if (h.attachments > MAX_ATTACHMENTS) violations.push(SV('too-many-attachments', `${h.attachments} attachments announced (more than ${MAX_ATTACHMENTS} are not awaited)`));
    if (violations.length) p.violations = violations;
    this.fillData(p, data);
    return p;
  }
}

/** Socket.IO: the default path `/socket.io/` with an EIO version in the query. */
export const socketIo: ProtocolModule = {
  name: 'socket.io',
  fromHandshake(ctx: ProtocolContext) {
    const v = eioVersion(ctx.query);
    if (v === null || !/(^|\/)socket\.io\/?$/.test(ctx.path)) return null;
    return `path ${ctx.path} with EIO=${v} (Socket.IO v${v + 1} over Engine.IO v${v})`;
  },
  open(ctx: ProtocolContext) {
    return new EngineIoSession(eioVersion(ctx.query) ?? 4, true);
  },
};

/** Engine.IO on another path (a Socket.IO inside is found from the client's first message packet). */
export const engineIo: ProtocolModule = {
  name: 'engine.io',
  fromHandshake(ctx: ProtocolContext) {
    const v = eioVersion(ctx.query);
    if (v === null || ctx.query.get('transport') !== 'websocket') return null;
    return `EIO=${v}&transport=websocket in the query (Engine.IO v${v})`;
  },
  sniff(dir: Direction, opcode: 1 | 2, payload: Buffer) {
    // The server's open packet: "0" then JSON with sid, upgrades, pingInterval, pingTimeout.
    if (dir !== 'server' || opcode !== 1 || payload[0] !== 0x30 || payload[1] !== 0x7b) return null;
    return isOpenHandshake(parseJson(payload.toString('utf8', 1))) ? 'the server\'s first message is an Engine.IO open packet (0{"sid":…,"pingInterval":…})' : null;
  },
  open(ctx: ProtocolContext) {
    return new EngineIoSession(eioVersion(ctx.query) ?? 4, null);
  },
};
