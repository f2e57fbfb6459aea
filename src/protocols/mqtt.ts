/**
 * MQTT 3.1, 3.1.1 and 5.0 control packets inside WebSocket messages (MQTT 3.1.1 OASIS
 * Standard §2-§3 and §6; MQTT 5.0 OASIS Standard §1.5, §2-§3 and §6).
 *
 * "A single WebSocket data frame can contain multiple or partial MQTT Control Packets.
 * The receiver MUST NOT assume that MQTT Control Packets are aligned on WebSocket frame
 * boundaries" [MQTT-6.0.0-2]: mqtt.js 5 and aedes write one packet as several messages (a
 * v4 CONNECT as nine), so each direction is reassembled: bytes are kept until a packet is
 * whole (at most MQTT_MAX_PACKET bytes of one packet; a bigger one is decoded from its
 * first MQTT_KEPT_HEAD bytes and the rest skipped), and each packet is reported on the
 * message that completes it.
 *
 * Sans-IO: bytes in, packet descriptions out.
 */
import type { Direction, Violation } from '../decoder/events';
import type { ProtocolModule, ProtocolSession } from './types';
import { Packet, PacketResult, PendingBytes, Reader, ShortRead, addViolation, isUtf8, previewBytes, quote, resultOf, ruleViolation } from './wire';

/** The largest MQTT packet a direction buffers whole (1 MiB); see docs/design.md. */
export const MQTT_MAX_PACKET = 1024 * 1024;
/** Of a packet larger than MQTT_MAX_PACKET, how many bytes are kept and decoded (the rest is skipped). */
export const MQTT_KEPT_HEAD = 64 * 1024;

/** Control packet types, MQTT 5.0 §2.1.2 (15 AUTH is 5.0 only). */
export const MQTT_TYPES: Record<number, string> = {
  1: 'CONNECT', 2: 'CONNACK', 3: 'PUBLISH', 4: 'PUBACK', 5: 'PUBREC', 6: 'PUBREL', 7: 'PUBCOMP',
  8: 'SUBSCRIBE', 9: 'SUBACK', 10: 'UNSUBSCRIBE', 11: 'UNSUBACK', 12: 'PINGREQ', 13: 'PINGRESP',
  14: 'DISCONNECT', 15: 'AUTH',
};

const MQTT_PAIRS: Record<number, 'request' | 'response'> = { 3: 'request', 4: 'response', 5: 'response', 6: 'request', 7: 'response', 8: 'request', 9: 'response', 10: 'request', 11: 'response' };

/** Who may send each type (§2.1.2's "Direction of flow"). */
const FROM_CLIENT = new Set([1, 3, 4, 5, 6, 7, 8, 10, 12, 14, 15]);
const FROM_SERVER = new Set([2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15]);

/** The rules this decoder checks; ids are stable (tests and docs use them). */
export const MQTT_RULES = {
  'mqtt-bad-remaining-length': 'MQTT 5.0 §1.5.5, 3.1.1 §2.2.3: the Remaining Length is at most four bytes',
  'mqtt-non-minimal-length': 'MQTT 5.0 §1.5.5 [MQTT-1.5.5-1]: a Variable Byte Integer uses the fewest bytes',
  'mqtt-reserved-type': 'MQTT 5.0 §2.1.2, 3.1.1 §2.2.1: packet type 0 is reserved (and 15 before 5.0)',
  'mqtt-bad-flags': 'MQTT 5.0 §2.1.3 [MQTT-2.1.3-1], 3.1.1 §2.2.2: fixed header flags as the table says',
  'mqtt-bad-qos': 'MQTT 5.0 §3.3.1.2 [MQTT-3.3.1-4]: QoS 3 is not allowed',
  'mqtt-wrong-direction': 'MQTT 5.0 §2.1.2: the packet type is not sent in this direction',
  'mqtt-truncated': 'MQTT 5.0 §2.1.4: a field runs past the Remaining Length',
  'mqtt-trailing-bytes': 'MQTT 5.0 §2.1.4: bytes left after the last field',
  'mqtt-bad-utf8': 'MQTT 5.0 §1.5.4 [MQTT-1.5.4-1, -2]: strings are well-formed UTF-8 without U+0000',
  'mqtt-bad-protocol-name': 'MQTT 5.0 §3.1.2.1, 3.1.1 §3.1.2.1 [MQTT-3.1.2-1]: the protocol name is "MQTT"',
  'mqtt-bad-protocol-level': 'MQTT 5.0 §3.1.2.2, 3.1.1 §3.1.2.2: the protocol level is 3, 4 or 5',
  'mqtt-bad-connect-flags': 'MQTT 5.0 §3.1.2.3 [MQTT-3.1.2-3, -11, -13], 3.1.1 [MQTT-3.1.2-22]: reserved flag 0, will QoS/retain only with a will',
  'mqtt-bad-connack-flags': 'MQTT 5.0 §3.2.2.1 [MQTT-3.2.2-1]: CONNACK flag bits 7-1 are reserved (0)',
  'mqtt-bad-packet-id': 'MQTT 5.0 §2.2.1 [MQTT-2.2.1-3]: a Packet Identifier is non-zero',
  'mqtt-topic-wildcard': 'MQTT 5.0 §3.3.2.1 [MQTT-3.3.2-2]: a PUBLISH topic has no wildcard characters',
  'mqtt-empty-topic': 'MQTT 5.0 §4.7.3 [MQTT-4.7.3-1]: topic names and filters are at least one character (5.0: unless a Topic Alias is given)',
  'mqtt-empty-subscribe': 'MQTT 5.0 §3.8.3 [MQTT-3.8.3-2], §3.10.3: SUBSCRIBE and UNSUBSCRIBE carry at least one topic filter',
  'mqtt-bad-subscription-options': 'MQTT 5.0 §3.8.3.1 [MQTT-3.8.3-5], 3.1.1 [MQTT-3-8.3-4]: reserved option bits are 0, Retain Handling is not 3',
  'mqtt-bad-property': 'MQTT 5.0 §2.2.2.2: an unknown property identifier',
  'mqtt-duplicate-property': 'MQTT 5.0 §2.2.2.2: a property other than User Property (and Subscription Identifier in PUBLISH) appears twice',
  'mqtt-bad-reason-code': 'MQTT 5.0 §2.4, 3.1.1 §3.2.2.3, §3.9.3: a reason or return code not defined for the packet',
  'mqtt-text-frame': 'MQTT 5.0 §6.0 [MQTT-6.0.0-1]: MQTT packets are sent in binary WebSocket messages',
} as const;
export type MqttRule = keyof typeof MQTT_RULES;

const violation = (rule: MqttRule, message: string): Violation => ruleViolation(MQTT_RULES, rule, message);

/** MQTT 5.0 §2.2.2.2 property identifiers: name and value type. */
type PropKind = 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair';
export const MQTT_PROPERTIES: Record<number, [string, PropKind]> = {
  0x01: ['payloadFormatIndicator', 'byte'], 0x02: ['messageExpiryInterval', 'u32'], 0x03: ['contentType', 'utf8'],
  0x08: ['responseTopic', 'utf8'], 0x09: ['correlationData', 'binary'], 0x0b: ['subscriptionIdentifier', 'varint'],
  0x11: ['sessionExpiryInterval', 'u32'], 0x12: ['assignedClientIdentifier', 'utf8'], 0x13: ['serverKeepAlive', 'u16'],
  0x15: ['authenticationMethod', 'utf8'], 0x16: ['authenticationData', 'binary'], 0x17: ['requestProblemInformation', 'byte'],
  0x18: ['willDelayInterval', 'u32'], 0x19: ['requestResponseInformation', 'byte'], 0x1a: ['responseInformation', 'utf8'],
  0x1c: ['serverReference', 'utf8'], 0x1f: ['reasonString', 'utf8'], 0x21: ['receiveMaximum', 'u16'],
  0x22: ['topicAliasMaximum', 'u16'], 0x23: ['topicAlias', 'u16'], 0x24: ['maximumQoS', 'byte'],
  0x25: ['retainAvailable', 'byte'], 0x26: ['userProperties', 'pair'], 0x27: ['maximumPacketSize', 'u32'],
  0x28: ['wildcardSubscriptionAvailable', 'byte'], 0x29: ['subscriptionIdentifierAvailable', 'byte'],
  0x2a: ['sharedSubscriptionAvailable', 'byte'],
};

/** MQTT 5.0 §2.4 reason codes. 0x00 reads differently per packet (see reasonName). */
export const MQTT_REASON_CODES: Record<number, string> = {
  0x00: 'Success', 0x01: 'Granted QoS 1', 0x02: 'Granted QoS 2', 0x04: 'Disconnect with Will Message',
  0x10: 'No matching subscribers', 0x11: 'No subscription existed', 0x18: 'Continue authentication',
  0x19: 'Re-authenticate', 0x80: 'Unspecified error', 0x81: 'Malformed Packet', 0x82: 'Protocol Error',
  0x83: 'Implementation specific error', 0x84: 'Unsupported Protocol Version', 0x85: 'Client Identifier not valid',
  0x86: 'Bad User Name or Password', 0x87: 'Not authorized', 0x88: 'Server unavailable', 0x89: 'Server busy',
  0x8a: 'Banned', 0x8b: 'Server shutting down', 0x8c: 'Bad authentication method', 0x8d: 'Keep Alive timeout',
  0x8e: 'Session taken over', 0x8f: 'Topic Filter invalid', 0x90: 'Topic Name invalid',
  0x91: 'Packet Identifier in use', 0x92: 'Packet Identifier not found', 0x93: 'Receive Maximum exceeded',
  0x94: 'Topic Alias invalid', 0x95: 'Packet too large', 0x96: 'Message rate too high', 0x97: 'Quota exceeded',
  0x98: 'Administrative action', 0x99: 'Payload format invalid', 0x9a: 'Retain not supported',
  0x9b: 'QoS not supported', 0x9c: 'Use another server', 0x9d: 'Server moved',
  0x9e: 'Shared Subscriptions not supported', 0x9f: 'Connection rate exceeded', 0xa0: 'Maximum connect time',
  0xa1: 'Subscription Identifiers not supported', 0xa2: 'Wildcard Subscriptions not supported',
};

/** Which reason codes each 5.0 packet may carry (§3.x.2.x tables). */
const REASONS_FOR: Record<number, number[]> = {
  2: [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
  4: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  5: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  6: [0x00, 0x92],
  7: [0x00, 0x92],
  9: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
  11: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
  14: [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2],
  15: [0x00, 0x18, 0x19],
};

/** 3.1.1 §3.2.2.3 CONNACK return codes. */
export const MQTT_V4_CONNACK: Record<number, string> = {
  0: 'Connection Accepted', 1: 'unacceptable protocol version', 2: 'identifier rejected',
  3: 'Server unavailable', 4: 'bad user name or password', 5: 'not authorized',
};

function reasonName(type: number, code: number): string {
  if (code === 0) return type === 14 ? 'Normal disconnection' : type === 9 ? 'Granted QoS 0' : 'Success';
  return MQTT_REASON_CODES[code] ?? `0x${code.toString(16).padStart(2, '0')}`;
}

/** Reads an MQTT Variable Byte Integer (§1.5.5); null when more bytes are needed, -1 when longer than 4 bytes. */
export function readVarint(buf: Buffer, at: number): { value: number; size: number } | null | -1 {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    if (at + i >= buf.length) return null;
    const b = buf[at + i];
    value += (b & 0x7f) * 128 ** i;
    if ((b & 0x80) === 0) return { value, size: i + 1 };
  }
  return -1;
}

/** The protocol level a CONNECT announces: 3 (3.1), 4 (3.1.1) or 5 (5.0). */
export type MqttVersion = 3 | 4 | 5;

/** Decodes one complete control packet (fixed header included). `truncated`: only the packet's head was kept. */
export function decodeMqttPacket(buf: Buffer, version: MqttVersion, dir: Direction | null, truncated = false): Packet {
  const first = buf[0];
  const typeCode = first >> 4;
  const flags = first & 0x0f;
  const vi = readVarint(buf, 1);
  if (vi === null || vi === -1) throw new Error('decodeMqttPacket needs a whole fixed header');
  const remaining = vi.value;
  const name = MQTT_TYPES[typeCode] ?? `reserved ${typeCode}`;
  const p: Packet = { protocol: 'mqtt', type: name, code: typeCode, summary: name, remainingLength: remaining };
  if (truncated) p.truncated = true;
  if (vi.size > 1 && buf[vi.size] === 0) addViolation(p, violation('mqtt-non-minimal-length', `Remaining Length ${remaining} is written in ${vi.size} bytes`));
  if (typeCode === 0 || (typeCode === 15 && version < 5)) {
    addViolation(p, violation('mqtt-reserved-type', `packet type ${typeCode} is reserved${typeCode === 15 ? ' before MQTT 5.0' : ''}`));
    return p;
  }
  if (dir && !(dir === 'client' ? FROM_CLIENT : FROM_SERVER).has(typeCode)) {
    addViolation(p, violation('mqtt-wrong-direction', `${name} is not sent by the ${dir}`));
  }
  if (typeCode === 14 && version < 5 && dir === 'server') {
    addViolation(p, violation('mqtt-wrong-direction', 'DISCONNECT is sent by the server only in MQTT 5.0'));
  }
  const wantFlags = typeCode === 6 || typeCode === 8 || typeCode === 10 ? 0b0010 : 0;
  if (typeCode !== 3 && flags !== wantFlags) {
    addViolation(p, violation('mqtt-bad-flags', `${name} fixed header flags are ${flags.toString(2).padStart(4, '0')}, must be ${wantFlags.toString(2).padStart(4, '0')}`));
  }
  const headerSize = 1 + vi.size;
  const r = new Reader(buf, Math.min(buf.length, headerSize + remaining));
  r.pos = headerSize;
  const ctx: BodyCtx = { p, r, version, typeCode, flags, headerSize };
  try {
    BODIES[typeCode](ctx);
    if (r.left > 0 && !truncated) addViolation(p, violation('mqtt-trailing-bytes', `${r.left} bytes after the last field of ${name}`));
  } catch (e) {
    if (!(e instanceof ShortRead)) throw e;
    if (!truncated) addViolation(p, violation('mqtt-truncated', `${name}: ${e.message} (Remaining Length ${remaining})`));
  }
  if (!p.summaryDone) p.summary = name;
  delete p.summaryDone;
  return p;
}

interface BodyCtx {
  p: Packet;
  r: Reader;
  version: MqttVersion;
  typeCode: number;
  flags: number;
  headerSize: number;
}

function str(ctx: BodyCtx, what: string): string {
  const n = ctx.r.u16(`${what} length`);
  const b = ctx.r.bytes(n, what);
  if (!isUtf8(b) || b.includes(0)) {
    addViolation(ctx.p, violation('mqtt-bad-utf8', `${what} is not well-formed UTF-8 without U+0000`));
    return b.toString('latin1');
  }
  return b.toString('utf8');
}

function bin(ctx: BodyCtx, what: string): Buffer {
  return ctx.r.bytes(ctx.r.u16(`${what} length`), what);
}

function varint(ctx: BodyCtx, what: string): number {
  const v = readVarint(ctx.r.buf.subarray(0, ctx.r.end), ctx.r.pos);
  if (v === null) throw new ShortRead(what);
  if (v === -1) {
    addViolation(ctx.p, violation('mqtt-bad-remaining-length', `${what} is longer than four bytes`));
    throw new ShortRead(what);
  }
  ctx.r.pos += v.size;
  return v.value;
}

/** MQTT 5.0 §2.2.2: a Property Length then properties; returns them by name (userProperties as an object of strings or string lists). */
function properties(ctx: BodyCtx, where: string): Record<string, unknown> {
  const len = varint(ctx, `${where} property length`);
  ctx.r.need(len, `${where} properties`);
  const end = ctx.r.pos + len;
  const props: Record<string, unknown> = {};
  const sub = new Reader(ctx.r.buf, end);
  sub.pos = ctx.r.pos;
  const subCtx: BodyCtx = { ...ctx, r: sub };
  const repeatable = (id: number) => id === 0x26 || (id === 0x0b && ctx.typeCode === 3);
  while (sub.left > 0) {
    const id = varint(subCtx, `${where} property identifier`);
    const def = MQTT_PROPERTIES[id];
    if (!def) {
      addViolation(ctx.p, violation('mqtt-bad-property', `${where}: unknown property identifier 0x${id.toString(16).padStart(2, '0')}`));
      break; // its length is unknown: the rest of the properties cannot be read
    }
    const [name, kind] = def;
    let value: unknown;
    if (kind === 'byte') value = sub.u8(name);
    else if (kind === 'u16') value = sub.u16(name);
    else if (kind === 'u32') value = sub.u32(name);
    else if (kind === 'varint') value = varint(subCtx, name);
    else if (kind === 'utf8') value = str(subCtx, name);
    else if (kind === 'binary') value = bin(subCtx, name).toString('hex');
    else value = [str(subCtx, 'user property name'), str(subCtx, 'user property value')];
    if (name in props && !repeatable(id)) {
      addViolation(ctx.p, violation('mqtt-duplicate-property', `${where}: ${name} appears more than once`));
    }
    if (kind === 'pair') {
      const [k, v] = value as [string, string];
      const ups = (props.userProperties ??= {}) as Record<string, string | string[]>;
      const had = ups[k];
      ups[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    } else if (id === 0x0b && ctx.typeCode === 3) {
      ((props.subscriptionIdentifier ??= []) as number[]).push(value as number);
    } else props[name] = value;
  }
  ctx.r.pos = end;
  return props;
}

function setProps(ctx: BodyCtx, where: string, key = 'properties'): void {
  const props = properties(ctx, where);
  if (Object.keys(props).length > 0) ctx.p[key] = props;
}

function reason(ctx: BodyCtx, code: number): void {
  ctx.p.reasonCode = code;
  ctx.p.reason = reasonName(ctx.typeCode, code);
  const allowed = REASONS_FOR[ctx.typeCode];
  if (allowed && !allowed.includes(code)) {
    addViolation(ctx.p, violation('mqtt-bad-reason-code', `reason code 0x${code.toString(16).padStart(2, '0')} is not defined for ${ctx.p.type}`));
  }
}

function done(ctx: BodyCtx, summary: string): void {
  ctx.p.summary = summary;
  ctx.p.summaryDone = true;
}

function packetId(ctx: BodyCtx): number {
  const id = ctx.r.u16('Packet Identifier');
  ctx.p.packetId = id;
  if (id === 0) addViolation(ctx.p, violation('mqtt-bad-packet-id', `${ctx.p.type} has Packet Identifier 0`));
  return id;
}

const BODIES: Record<number, (ctx: BodyCtx) => void> = {
  1: connect,
  2: connack,
  3: publish,
  4: ack,
  5: ack,
  6: ack,
  7: ack,
  8: subscribe,
  9: suback,
  10: unsubscribe,
  11: suback,
  12: empty,
  13: empty,
  14: disconnect,
  15: disconnect,
};

function connect(ctx: BodyCtx): void {
  const { p, r } = ctx;
  const name = str(ctx, 'Protocol Name');
  p.protocolName = name;
  const level = r.u8('Protocol Level');
  p.protocolLevel = level;
  const known = level === 3 || level === 4 || level === 5;
  if (!known) addViolation(p, violation('mqtt-bad-protocol-level', `protocol level ${level} (3.1 is 3, 3.1.1 is 4, 5.0 is 5)`));
  const wantName = level === 3 ? 'MQIsdp' : 'MQTT';
  if (name !== wantName) addViolation(p, violation('mqtt-bad-protocol-name', `protocol name ${JSON.stringify(name)}, expected ${JSON.stringify(wantName)}`));
  // The body after the level is read as the announced version (5.0 has properties).
  ctx.version = level === 5 ? 5 : level === 3 ? 3 : 4;
  const f = r.u8('Connect Flags');
  const will = (f & 0x04) !== 0;
  const willQos = (f >> 3) & 3;
  const willRetain = (f & 0x20) !== 0;
  const hasPassword = (f & 0x40) !== 0;
  const hasUser = (f & 0x80) !== 0;
  p[ctx.version === 5 ? 'cleanStart' : 'cleanSession'] = (f & 0x02) !== 0;
  if (f & 0x01) addViolation(p, violation('mqtt-bad-connect-flags', 'the reserved Connect Flag (bit 0) is set'));
  if (!will && (willQos !== 0 || willRetain)) addViolation(p, violation('mqtt-bad-connect-flags', 'Will QoS or Will Retain set without the Will Flag'));
  if (willQos === 3) addViolation(p, violation('mqtt-bad-qos', 'Will QoS is 3'));
  if (hasPassword && !hasUser && ctx.version < 5) addViolation(p, violation('mqtt-bad-connect-flags', 'Password Flag without User Name Flag (3.1.1)'));
  p.keepAlive = r.u16('Keep Alive');
  if (ctx.version === 5) setProps(ctx, 'CONNECT');
  p.clientId = str(ctx, 'Client Identifier');
  let willText = '';
  if (will) {
    const w: Record<string, unknown> = { qos: willQos, retain: willRetain };
    if (ctx.version === 5) {
      const wp = properties(ctx, 'Will');
      if (Object.keys(wp).length > 0) w.properties = wp;
    }
    w.topic = str(ctx, 'Will Topic');
    const payload = bin(ctx, 'Will Payload');
    w.payloadLength = payload.length;
    w.payload = previewBytes(payload);
    p.will = w;
    willText = ` will ${w.topic as string} qos ${willQos}${willRetain ? ' retain' : ''}`;
  }
  if (hasUser) p.username = str(ctx, 'User Name');
  if (hasPassword) p.passwordLength = bin(ctx, 'Password').length;
  const v = level === 5 ? '5.0' : level === 4 ? '3.1.1' : level === 3 ? '3.1' : `level ${level}`;
  const clean = p.cleanStart ?? p.cleanSession;
  done(ctx, `CONNECT ${v} client ${quote(p.clientId as string)} keepalive ${p.keepAlive as number}${clean ? ' clean' : ''}` +
    `${hasUser ? ` user ${quote(p.username as string)}` : ''}${hasPassword ? ' password' : ''}${willText}`);
}

function connack(ctx: BodyCtx): void {
  const { p, r } = ctx;
  const flags = r.u8('Connect Acknowledge Flags');
  p.sessionPresent = (flags & 1) === 1;
  if (flags & 0xfe) addViolation(p, violation('mqtt-bad-connack-flags', `CONNACK flags 0x${flags.toString(16).padStart(2, '0')}: bits 7-1 are reserved`));
  const code = r.u8(ctx.version === 5 ? 'Connect Reason Code' : 'Connect Return code');
  if (ctx.version === 5) {
    reason(ctx, code);
    setProps(ctx, 'CONNACK');
  } else {
    p.returnCode = code;
    p.reason = MQTT_V4_CONNACK[code] ?? `return code ${code}`;
    if (!(code in MQTT_V4_CONNACK)) addViolation(p, violation('mqtt-bad-reason-code', `CONNACK return code ${code} is reserved`));
  }
  done(ctx, `CONNACK ${p.reason as string}${p.sessionPresent ? ' session-present' : ''}`);
}

function publish(ctx: BodyCtx): void {
  const { p, r, flags } = ctx;
  const qos = (flags >> 1) & 3;
  const dup = (flags & 0x08) !== 0;
  const retain = (flags & 0x01) !== 0;
  Object.assign(p, { qos, dup, retain });
  if (qos === 3) addViolation(p, violation('mqtt-bad-qos', 'PUBLISH with QoS 3'));
  if (qos === 0 && dup) addViolation(p, violation('mqtt-bad-flags', 'DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]'));
  const topic = str(ctx, 'Topic Name');
  p.topic = topic;
  if (/[+#]/.test(topic)) addViolation(p, violation('mqtt-topic-wildcard', `topic ${JSON.stringify(topic)} has a wildcard`));
  if (qos > 0) packetId(ctx);
  if (ctx.version === 5) setProps(ctx, 'PUBLISH');
  const props = p.properties as Record<string, unknown> | undefined;
  if (topic === '' && (ctx.version < 5 || props?.topicAlias === undefined)) {
    addViolation(p, violation('mqtt-empty-topic', 'PUBLISH with an empty topic' + (ctx.version === 5 ? ' and no Topic Alias' : '')));
  }
  const fields = r.pos - ctx.headerSize;
  const payload = r.rest();
  // Of a packet too big to keep whole, the payload's length is what the Remaining Length leaves.
  p.payloadLength = p.truncated ? (p.remainingLength as number) - fields : payload.length;
  if (isUtf8(payload)) p.payload = payload.toString('utf8');
  else p.payloadHex = payload.toString('hex');
  const alias = props?.topicAlias !== undefined ? ` alias ${props.topicAlias as number}` : '';
  done(ctx, `PUBLISH ${topic === '' ? '(alias)' : topic}${alias} qos ${qos}${qos > 0 ? ` id ${p.packetId as number}` : ''}` +
    `${dup ? ' dup' : ''}${retain ? ' retain' : ''} ${previewBytes(payload)}`);
}

function ack(ctx: BodyCtx): void {
  const { p, r } = ctx;
  const id = packetId(ctx);
  let text = '';
  if (ctx.version === 5 && r.left > 0) {
    reason(ctx, r.u8('Reason Code'));
    if (r.left > 0) setProps(ctx, p.type);
    if (p.reasonCode !== 0) text = ` ${p.reason as string}`;
  }
  done(ctx, `${p.type} id ${id}${text}`);
}

function subscribe(ctx: BodyCtx): void {
  const { p, r } = ctx;
  const id = packetId(ctx);
  if (ctx.version === 5) setProps(ctx, 'SUBSCRIBE');
  const subs: Record<string, unknown>[] = [];
  while (r.left > 0) {
    const topic = str(ctx, 'Topic Filter');
    const o = r.u8('Subscription Options');
    const s: Record<string, unknown> = { topic, qos: o & 3 };
    if (ctx.version === 5) {
      s.noLocal = (o & 4) !== 0;
      s.retainAsPublished = (o & 8) !== 0;
      s.retainHandling = (o >> 4) & 3;
    }
    const reservedBits = ctx.version === 5 ? o & 0xc0 : o & 0xfc;
    if (reservedBits || (o & 3) === 3 || (ctx.version === 5 && ((o >> 4) & 3) === 3)) {
      addViolation(p, violation('mqtt-bad-subscription-options', `subscription options 0x${o.toString(16).padStart(2, '0')} for ${JSON.stringify(topic)}`));
    }
    if (topic === '') addViolation(p, violation('mqtt-empty-topic', 'an empty Topic Filter'));
    subs.push(s);
  }
  p.subscriptions = subs;
  p.topics = subs.map((s) => s.topic);
  if (subs.length > 0) p.topic = subs[0].topic as string;
  if (subs.length === 0) addViolation(p, violation('mqtt-empty-subscribe', 'SUBSCRIBE without a topic filter'));
  done(ctx, `SUBSCRIBE id ${id} ${subs.map((s) => `${s.topic as string} qos ${s.qos as number}`).join(', ')}`.trimEnd());
}

function unsubscribe(ctx: BodyCtx): void {
  const { p, r } = ctx;
  const id = packetId(ctx);
  if (ctx.version === 5) setProps(ctx, 'UNSUBSCRIBE');
  const topics: string[] = [];
  while (r.left > 0) topics.push(str(ctx, 'Topic Filter'));
  p.topics = topics;
  if (topics.length > 0) p.topic = topics[0];
  if (topics.length === 0) addViolation(p, violation('mqtt-empty-subscribe', 'UNSUBSCRIBE without a topic filter'));
  done(ctx, `UNSUBSCRIBE id ${id} ${topics.join(', ')}`.trimEnd());
}

function suback(ctx: BodyCtx): void {
  const { p, r } = ctx;
  const id = packetId(ctx);
  if (ctx.version === 5) setProps(ctx, p.type);
  const codes: number[] = [];
  while (r.left > 0) codes.push(r.u8('Reason Code'));
  p.reasonCodes = codes;
  let names: string[];
  if (ctx.version === 5) {
    names = codes.map((c) => reasonName(ctx.typeCode, c));
    const allowed = REASONS_FOR[ctx.typeCode];
    for (const c of codes) {
      if (!allowed.includes(c)) addViolation(p, violation('mqtt-bad-reason-code', `reason code 0x${c.toString(16).padStart(2, '0')} is not defined for ${p.type}`));
    }
  } else if (ctx.typeCode === 9) {
    // 3.1.1 §3.9.3: 0x00-0x02 granted QoS, 0x80 Failure.
    names = codes.map((c) => (c <= 2 ? `Granted QoS ${c}` : c === 0x80 ? 'Failure' : `0x${c.toString(16)}`));
    for (const c of codes) {
      if (c > 2 && c !== 0x80) addViolation(p, violation('mqtt-bad-reason-code', `SUBACK return code 0x${c.toString(16).padStart(2, '0')} is not allowed`));
    }
  } else names = [];
  if (names.length > 0) p.reasons = names;
  done(ctx, `${p.type} id ${id}${names.length > 0 ? ' ' + names.join(', ') : ''}`);
}

function empty(ctx: BodyCtx): void {
  done(ctx, ctx.p.type);
}

/** DISCONNECT (5.0 may carry a reason and properties) and AUTH (5.0). */
function disconnect(ctx: BodyCtx): void {
  const { p, r } = ctx;
  if (ctx.version === 5 && r.left > 0) {
    reason(ctx, r.u8('Reason Code'));
    if (r.left > 0) setProps(ctx, p.type);
    done(ctx, `${p.type} ${p.reason as string}`);
  } else {
    if (ctx.version === 5) p.reason = reasonName(ctx.typeCode, 0);
    done(ctx, p.type);
  }
}

/**
 * One connection's MQTT: a reassembler per direction; the protocol level comes from the
 * client's CONNECT (before one is seen: `initialVersion`, 4 unless the subprotocol says 3.1).
 */
export class MqttSession {
  version: MqttVersion;
  private readonly sides: Record<Direction, MqttSide>;

  constructor(initialVersion: MqttVersion = 4) {
    this.version = initialVersion;
    this.sides = { client: new MqttSide(this, 'client'), server: new MqttSide(this, 'server') };
  }

  message(dir: Direction, opcode: number, payload: Buffer): PacketResult {
    const res = this.sides[dir].push(payload);
    if (opcode === 1) {
      const v = violation('mqtt-text-frame', 'MQTT packets in a text message');
      const first = Array.isArray(res) ? res[0] : res;
      if (first && !('partial' in first)) addViolation(first, v);
      else return { protocol: 'mqtt', type: 'text', summary: 'text message on an MQTT connection', violations: [v] };
    }
    return res;
  }
}

class MqttSide {
  private readonly pending = new PendingBytes();
  /** Bytes of an oversized packet still to skip. */
  private skip = 0;
  /** After a Remaining Length longer than four bytes the packet boundaries are lost. */
  private lost = false;
  private messagesInPacket = 0;
  /** Bytes the packet at the head needs before it can be decoded (0: not known yet). */
  private needed = 0;

  constructor(private readonly session: MqttSession, private readonly dir: Direction) {}

  push(payload: Buffer): PacketResult {
    if (this.lost) return null;
    const out: Packet[] = [];
    if (payload.length > 0) {
      this.pending.push(payload);
      this.messagesInPacket++;
    }
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.pending.length);
        this.pending.consume(n);
        this.skip -= n;
        if (this.skip > 0) break;
        this.messagesInPacket = this.pending.length > 0 ? 1 : 0;
        continue;
      }
      if (this.pending.length < Math.max(2, this.needed)) break;
      this.needed = 0;
      const buf = this.pending.view();
      const vi = readVarint(buf, 1);
      if (vi === null) break;
      if (vi === -1) {
        const p: Packet = { protocol: 'mqtt', type: MQTT_TYPES[buf[0] >> 4] ?? `reserved ${buf[0] >> 4}`, code: buf[0] >> 4, summary: '' };
        p.summary = `${p.type} (Remaining Length longer than four bytes: the rest of this direction is not decoded)`;
        addViolation(p, violation('mqtt-bad-remaining-length', `Remaining Length continues past four bytes (${buf.subarray(1, 5).toString('hex')}...)`));
        out.push(p);
        this.lost = true;
        this.pending.clear();
        break;
      }
      const total = 1 + vi.size + vi.value;
      if (total <= MQTT_MAX_PACKET) {
        if (buf.length < total) {
          this.needed = total;
          break;
        }
        const p = decodeMqttPacket(buf.subarray(0, total), this.session.version, this.dir);
        this.finish(p, out);
        this.pending.consume(total);
      } else {
        // Too big to buffer: decode from the head, skip the rest as it arrives.
        const head = 1 + vi.size + MQTT_KEPT_HEAD;
        if (buf.length < head) {
          this.needed = head;
          break;
        }
        const p = decodeMqttPacket(buf.subarray(0, head), this.session.version, this.dir, true);
        this.finish(p, out);
        this.pending.consume(head);
        this.skip = total - head;
        continue;
      }
      this.messagesInPacket = this.pending.length > 0 ? 1 : 0;
    }
    this.pending.settle();
    return resultOf('mqtt', out, this.pending.length > 0 || this.skip > 0);
  }

  private finish(p: Packet, out: Packet[]): void {
    const n = Math.max(1, this.messagesInPacket);
    if (n > 1) p.fromMessages = n;
    // types.ts conventions: the Packet Identifier pairs PUBLISH (QoS 1, 2) with PUBACK or
    // PUBREC, PUBREL with PUBCOMP, SUBSCRIBE with SUBACK, UNSUBSCRIBE with UNSUBACK (§4.3, §3.8).
    if (typeof p.packetId === 'number' && p.code !== undefined) {
      p.id = p.packetId;
      const pair = MQTT_PAIRS[p.code];
      if (pair) p.pair = pair;
    }
    if (p.code === 1 && typeof p.protocolLevel === 'number' && [3, 4, 5].includes(p.protocolLevel)) {
      this.session.version = p.protocolLevel as MqttVersion;
    }
    out.push(p);
  }
}

/** MQTT over WebSocket: "mqtt" (MQTT 5.0 §6.0, 3.1.1 §6.0) or "mqttv3.1" (MQTT 3.1) as the subprotocol, or a client's first message that is a whole CONNECT. */
export const mqtt: ProtocolModule = {
  name: 'mqtt',
  fromHandshake(ctx) {
    const sp = ctx.subprotocol?.toLowerCase();
    return sp === 'mqtt' || sp === 'mqttv3.1' ? `Sec-WebSocket-Protocol: ${ctx.subprotocol!}` : null;
  },
  sniff(dir, opcode, payload) {
    if (dir !== 'client' || opcode !== 2 || payload[0] !== 0x10) return null;
    const vi = readVarint(payload, 1);
    if (vi === null || vi === -1 || 1 + vi.size + vi.value !== payload.length) return null;
    const p = decodeMqttPacket(payload, 4, 'client');
    return p.violations ? null : `the client's first message is an MQTT CONNECT (protocol name ${JSON.stringify(p.protocolName)}, level ${p.protocolLevel as number})`;
  },
  open(ctx) {
    return new MqttSession(ctx.subprotocol?.toLowerCase() === 'mqttv3.1' ? 3 : 4) as ProtocolSession;
  },
};
