/**
 * WAMP v2, the Web Application Messaging Protocol (wamp-proto.org spec, "The WAMP
 * Protocol", RFC draft draft-oberstet-hybi-tavendo-wamp-02): every message is an array
 * whose first element is the message type code (§6.5), serialised as JSON (`wamp.2.json`,
 * text messages), MessagePack (`wamp.2.msgpack`) or CBOR (`wamp.2.cbor`, binary
 * messages); the `.batched` variants put several in one message (JSON separated by
 * 0x1e, binary ones each after a 4-byte big-endian length, §14.5.3).
 *
 * Sans-IO: message payloads in, packet descriptions out.
 */
import type { Direction, Violation } from '../decoder/events';
import { decodeBinary, type Encoding } from './binary';
import type { ProtocolModule, ProtocolSession } from './types';
import { preview } from './json';
import { type Packet, type PacketResult, jsonSafe, resultOf, ruleViolation } from './wire';

export type WampSerialization = 'json' | Encoding;

/** Field kinds of §6.5's message table. */
type Kind = 'id' | 'uri' | 'dict' | 'list' | 'int' | 'string';

/** Code → name, the fields in order (name and kind), and who sends it (§6.5, §7-§13). */
export const WAMP_MESSAGES: Record<number, { name: string; fields: [string, Kind][]; payload?: boolean; from: 'client' | 'router' | 'both' }> = {
  1: { name: 'HELLO', fields: [['realm', 'uri'], ['details', 'dict']], from: 'client' },
  2: { name: 'WELCOME', fields: [['session', 'id'], ['details', 'dict']], from: 'router' },
  3: { name: 'ABORT', fields: [['details', 'dict'], ['reason', 'uri']], from: 'both' },
  4: { name: 'CHALLENGE', fields: [['authMethod', 'string'], ['extra', 'dict']], from: 'router' },
  5: { name: 'AUTHENTICATE', fields: [['signature', 'string'], ['extra', 'dict']], from: 'client' },
  6: { name: 'GOODBYE', fields: [['details', 'dict'], ['reason', 'uri']], from: 'both' },
  8: { name: 'ERROR', fields: [['requestType', 'int'], ['request', 'id'], ['details', 'dict'], ['error', 'uri']], payload: true, from: 'both' },
  16: { name: 'PUBLISH', fields: [['request', 'id'], ['options', 'dict'], ['topic', 'uri']], payload: true, from: 'client' },
  17: { name: 'PUBLISHED', fields: [['request', 'id'], ['publication', 'id']], from: 'router' },
  32: { name: 'SUBSCRIBE', fields: [['request', 'id'], ['options', 'dict'], ['topic', 'uri']], from: 'client' },
  33: { name: 'SUBSCRIBED', fields: [['request', 'id'], ['subscription', 'id']], from: 'router' },
  34: { name: 'UNSUBSCRIBE', fields: [['request', 'id'], ['subscription', 'id']], from: 'client' },
  35: { name: 'UNSUBSCRIBED', fields: [['request', 'id']], from: 'router' },
  36: { name: 'EVENT', fields: [['subscription', 'id'], ['publication', 'id'], ['details', 'dict']], payload: true, from: 'router' },
  48: { name: 'CALL', fields: [['request', 'id'], ['options', 'dict'], ['procedure', 'uri']], payload: true, from: 'client' },
  49: { name: 'CANCEL', fields: [['request', 'id'], ['options', 'dict']], from: 'client' },
  50: { name: 'RESULT', fields: [['request', 'id'], ['details', 'dict']], payload: true, from: 'router' },
  64: { name: 'REGISTER', fields: [['request', 'id'], ['options', 'dict'], ['procedure', 'uri']], from: 'client' },
  65: { name: 'REGISTERED', fields: [['request', 'id'], ['registration', 'id']], from: 'router' },
  66: { name: 'UNREGISTER', fields: [['request', 'id'], ['registration', 'id']], from: 'client' },
  67: { name: 'UNREGISTERED', fields: [['request', 'id']], from: 'router' },
  68: { name: 'INVOCATION', fields: [['request', 'id'], ['registration', 'id'], ['details', 'dict']], payload: true, from: 'router' },
  69: { name: 'INTERRUPT', fields: [['request', 'id'], ['options', 'dict']], from: 'router' },
  70: { name: 'YIELD', fields: [['request', 'id'], ['options', 'dict']], payload: true, from: 'client' },
};

/** Requests and the answers that carry their Request id (§6.5: ids in the session scope). */
const REQUESTS = new Set([16, 32, 34, 48, 64, 66, 68]);
const RESPONSES = new Set([8, 17, 33, 35, 50, 65, 67, 70]);

export const WAMP_RULES = {
  'wamp-bad-encoding': 'WAMP §6.4: the message is not valid in the negotiated serialisation',
  'wamp-wrong-opcode': 'WAMP §14.5.2.1: JSON goes in text messages, MessagePack and CBOR in binary ones',
  'wamp-not-array': 'WAMP §6.1: a message is an array whose first element is the integer type code',
  'wamp-unknown-type': 'WAMP §6.5: a message type code not in the table',
  'wamp-bad-length': 'WAMP §6.5: the message has fewer or more elements than its type allows',
  'wamp-bad-field': 'WAMP §6.5, §5.1.2: an element of the wrong kind (id: integer in [0, 2^53]; uri: string; dict; list)',
  'wamp-bad-uri': 'WAMP §5.1.1: a URI is dot-separated components without whitespace, "#" or empty components',
  'wamp-wrong-direction': 'WAMP §6.5, §7-§13: the message type is not sent by this peer (client or router)',
} as const;
export type WampRule = keyof typeof WAMP_RULES;

const violation = (rule: WampRule, message: string): Violation => ruleViolation(WAMP_RULES, rule, message);

/** §5.1.1 relaxed URIs (the strict rule is only a SHOULD). */
const URI = /^([^\s.#]+\.)*[^\s.#]+$/;
const MAX_ID = 2 ** 53;

function kindOk(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'id': return (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_ID) || (typeof v === 'bigint' && v >= 0n && v <= BigInt(MAX_ID));
    case 'int': return typeof v === 'number' && Number.isInteger(v);
    case 'uri': case 'string': return typeof v === 'string';
    case 'dict': return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
    case 'list': return Array.isArray(v);
  }
}

/** Describes one decoded WAMP message (an array as the serialisation gave it). */
export function describeWamp(msg: unknown, dir: Direction | null): Packet {
  if (!Array.isArray(msg) || msg.length === 0 || typeof msg[0] !== 'number' || !Number.isInteger(msg[0])) {
    return { protocol: 'wamp', type: 'invalid', summary: `invalid: ${preview(jsonSafe(msg))}`,
      violations: [violation('wamp-not-array', 'the message is not an array starting with an integer type code')] };
  }
  const code = msg[0];
  const def = WAMP_MESSAGES[code];
  if (!def) {
    return { protocol: 'wamp', type: 'invalid', code, summary: `unknown type ${code}`,
      violations: [violation('wamp-unknown-type', `message type ${code} is not defined`)] };
  }
  const p: Packet = { protocol: 'wamp', type: def.name, code, summary: def.name };
  const vs: Violation[] = [];
  const min = 1 + def.fields.length;
  // UNSUBSCRIBED and UNREGISTERED may carry a Details dict (advanced profile, §13.3.x).
  const extra = def.payload ? 2 : code === 35 || code === 67 ? 1 : 0;
  if (msg.length < min || msg.length > min + extra) {
    vs.push(violation('wamp-bad-length', `${def.name} has ${msg.length} elements, expects ${extra ? `${min} to ${min + extra}` : min}`));
  }
  def.fields.forEach(([name, kind], i) => {
    if (i + 1 >= msg.length) return;
    const v = msg[i + 1];
    if (!kindOk(kind, v)) vs.push(violation('wamp-bad-field', `${def.name} ${name} is not a${kind === 'id' ? 'n id' : ` ${kind}`}: ${preview(jsonSafe(v))}`));
    else if (kind === 'uri' && !URI.test(v as string)) vs.push(violation('wamp-bad-uri', `${def.name} ${name} ${JSON.stringify(v)} is not a URI`));
    p[name] = jsonSafe(v);
  });
  if (def.payload) {
    const at = min;
    if (msg.length > at) {
      if (!kindOk('list', msg[at])) vs.push(violation('wamp-bad-field', `${def.name} Arguments is not a list`));
      p.args = jsonSafe(msg[at]);
    }
    if (msg.length > at + 1) {
      if (!kindOk('dict', msg[at + 1])) vs.push(violation('wamp-bad-field', `${def.name} ArgumentsKw is not a dict`));
      p.kwargs = jsonSafe(msg[at + 1]);
    }
  } else if (extra && msg.length > min) p.details = jsonSafe(msg[min]);
  if (dir && def.from !== 'both') {
    const sender = dir === 'client' ? 'client' : 'router';
    if (sender !== def.from) vs.push(violation('wamp-wrong-direction', `${def.name} is sent by the ${def.from}, not the ${sender}`));
  }
  // Conventions of src/protocols/types.ts: event (procedure), topic, id and pair.
  if (typeof p.procedure === 'string') p.event = p.procedure;
  if (typeof p.request === 'number' || typeof p.request === 'string') {
    p.id = p.request as number | string;
    if (REQUESTS.has(code)) p.pair = 'request';
    else if (RESPONSES.has(code)) {
      const progress = code === 50 && typeof p.details === 'object' && p.details !== null && (p.details as Record<string, unknown>).progress === true;
      p.pair = progress ? 'stream' : 'response';
    }
  }
  p.summary = summaryOf(p, code);
  if (vs.length) p.violations = vs;
  return p;
}

function summaryOf(p: Packet, code: number): string {
  const payload = [p.args !== undefined ? preview(p.args) : '', p.kwargs !== undefined ? preview(p.kwargs) : ''].filter(Boolean).join(' ');
  const tail = payload ? ' ' + payload : '';
  const f = (k: string) => (p[k] === undefined ? '?' : typeof p[k] === 'string' ? (p[k] as string) : preview(p[k]));
  switch (code) {
    case 1: return `HELLO ${f('realm')}`;
    case 2: return `WELCOME session ${f('session')}`;
    case 3: case 6: return `${p.type} ${f('reason')}`;
    case 4: return `CHALLENGE ${f('authMethod')}`;
    case 8: return `ERROR ${WAMP_MESSAGES[p.requestType as number]?.name ?? f('requestType')} ${f('request')} ${f('error')}${tail}`;
    case 16: case 32: return `${p.type} ${f('request')} ${f('topic')}${tail}`;
    case 17: return `PUBLISHED ${f('request')} publication ${f('publication')}`;
    case 33: return `SUBSCRIBED ${f('request')} subscription ${f('subscription')}`;
    case 34: return `UNSUBSCRIBE ${f('request')} subscription ${f('subscription')}`;
    case 36: return `EVENT subscription ${f('subscription')} publication ${f('publication')}${tail}`;
    case 48: case 64: return `${p.type} ${f('request')} ${f('procedure')}${tail}`;
    case 65: return `REGISTERED ${f('request')} registration ${f('registration')}`;
    case 66: return `UNREGISTER ${f('request')} registration ${f('registration')}`;
    case 68: return `INVOCATION ${f('request')} registration ${f('registration')}${tail}`;
    case 50: return `RESULT ${f('request')}${p.pair === 'stream' ? ' progress' : ''}${tail}`;
    default: return `${p.type}${p.request !== undefined ? ' ' + f('request') : ''}${tail}`;
  }
}

/** The serialisation a WAMP subprotocol names, or null when it is not WAMP's. */
export function wampSerialization(subprotocol: string | null): { serialization: WampSerialization; batched: boolean } | null {
  const m = /^wamp\.2\.(json|msgpack|cbor)(\.batched)?$/.exec(subprotocol ?? '');
  return m ? { serialization: m[1] as WampSerialization, batched: !!m[2] } : null;
}

/** Splits a message into its serialised WAMP messages (one, or several when batched). */
function split(payload: Buffer, serialization: WampSerialization, batched: boolean): Buffer[] | string {
  if (!batched) return [payload];
  const out: Buffer[] = [];
  if (serialization === 'json') {
    let at = 0;
    while (at < payload.length) {
      let end = payload.indexOf(0x1e, at);
      if (end < 0) end = payload.length;
      if (end > at) out.push(payload.subarray(at, end));
      at = end + 1;
    }
    return out;
  }
  for (let at = 0; at < payload.length; ) {
    if (at + 4 > payload.length) return 'a batched message ends inside a length prefix';
    const n = payload.readUInt32BE(at);
    if (at + 4 + n > payload.length) return `a batched message claims ${n} bytes, ${payload.length - at - 4} are left`;
    out.push(payload.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

/** Decodes one serialised WAMP message. */
export function decodeWamp(bytes: Buffer, serialization: WampSerialization, dir: Direction | null): Packet {
  let value: unknown;
  if (serialization === 'json') {
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      return bad(`not JSON: ${preview(bytes.toString('utf8'))}`, serialization);
    }
  } else {
    const d = decodeBinary(serialization, bytes);
    if (!d.ok) return bad(`not ${serialization === 'msgpack' ? 'MessagePack' : 'CBOR'}: ${d.error!}`, serialization);
    value = d.value;
    if (d.trailing) {
      const p = describeWamp(value, dir);
      (p.violations ??= []).push(violation('wamp-bad-encoding', 'bytes follow the message'));
      p.serialization = serialization;
      return p;
    }
  }
  const p = describeWamp(value, dir);
  p.serialization = serialization;
  return p;
}

function bad(why: string, serialization: WampSerialization): Packet {
  return { protocol: 'wamp', type: 'invalid', summary: `invalid: ${why}`, serialization, violations: [violation('wamp-bad-encoding', why)] };
}

/** One connection's WAMP: every message is whole (WAMP messages do not span WebSocket messages, §14.5.2). */
export class WampSession {
  constructor(private readonly serialization: WampSerialization, private readonly batched = false) {}

  message(dir: Direction, opcode: number, payload: Buffer): PacketResult {
    const parts = split(payload, this.serialization, this.batched);
    if (typeof parts === 'string') return bad(parts, this.serialization);
    const out = parts.map((b) => decodeWamp(b, this.serialization, dir));
    const wantText = this.serialization === 'json';
    if ((opcode === 1) !== wantText && out.length > 0) {
      (out[0].violations ??= []).push(violation('wamp-wrong-opcode', `${this.serialization} in a ${opcode === 1 ? 'text' : 'binary'} message`));
    }
    return resultOf('wamp', out, false);
  }
}

/** A strict sniff: a client's first text message that is a JSON HELLO with a roles dict (§7.1). */
export function sniffWampHello(dir: Direction, opcode: number, payload: Buffer): boolean {
  if (dir !== 'client' || opcode !== 1 || payload[0] !== 0x5b) return false;
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    return Array.isArray(v) && v.length === 3 && v[0] === 1 && typeof v[1] === 'string' && URI.test(v[1]) &&
      typeof v[2] === 'object' && v[2] !== null && typeof (v[2] as Record<string, unknown>).roles === 'object';
  } catch {
    return false;
  }
}

/** WAMP v2: a `wamp.2.*` subprotocol (§14.5.2), or a client's first message that is a JSON HELLO. */
export const wamp: ProtocolModule = {
  name: 'wamp',
  fromHandshake(ctx) {
    return wampSerialization(ctx.subprotocol) ? `Sec-WebSocket-Protocol: ${ctx.subprotocol!}` : null;
  },
  sniff(dir, opcode, payload) {
    return sniffWampHello(dir, opcode, payload) ? "the client's first message is a WAMP HELLO ([1, realm, {roles}])" : null;
  },
  open(ctx) {
    const s = wampSerialization(ctx.subprotocol) ?? { serialization: 'json' as const, batched: false };
    return new WampSession(s.serialization, s.batched) as ProtocolSession;
  },
};
