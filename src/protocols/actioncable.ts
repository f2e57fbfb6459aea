/**
 * Action Cable, Rails' WebSocket framework (subprotocol `actioncable-v1-json`; the
 * protocol of @rails/actioncable and ActionCable::Connection). Every message is a JSON
 * object. The client sends `{command: "subscribe"|"unsubscribe"|"message", identifier,
 * data?}` where `identifier` is itself JSON text (`{"channel":"ChatChannel",...}`) and
 * so is `data` (`{"action":"speak",...}`). The server sends `{type: "welcome"|"ping"|
 * "confirm_subscription"|"reject_subscription"|"disconnect", ...}` or a broadcast
 * `{identifier, message}`.
 */
import type { Direction, Violation } from '../decoder/events';
import { appViolation, isObject, parseJson, preview, utf8Text, type Json } from './json';
import type { AppPacket, AppResult, ProtocolContext, ProtocolModule } from './types';

const P = 'actioncable';
const SUBPROTOCOLS = new Set(['actioncable-v1-json', 'actioncable-v1-msgpack', 'actioncable-v1-ext-json', 'actioncable-unsupported']);
const COMMANDS = new Set(['subscribe', 'unsubscribe', 'message']);
const SERVER_TYPES = new Set(['welcome', 'ping', 'confirm_subscription', 'reject_subscription', 'disconnect']);
const V = (rule: string, message: string): Violation => appViolation(P, rule, message);

/** A JSON-in-JSON field: its parsed value, or the text with a violation when it is not JSON. */
function inner(p: AppPacket, field: 'identifier' | 'data', text: Json, violations: Violation[]): Json {
  if (typeof text !== 'string') {
    violations.push(V(`bad-${field}`, `${field} is a string of JSON text (is ${preview(text)})`));
    return text;
  }
  const v = parseJson(text);
  if (v === undefined) {
    violations.push(V(`bad-${field}`, `${field} is not JSON text: ${preview(text)}`));
    return text;
  }
  p[field] = v;
  return v;
}

function decodeActionCable(dir: Direction, payload: Buffer): AppResult {
  const text = utf8Text(payload);
  const v = text === null ? undefined : parseJson(text);
  if (!isObject(v)) return { protocol: P, type: 'invalid', summary: `invalid: ${text === null ? 'not text' : preview(text)}`, violations: [V('not-an-object', 'each message is a JSON object')] };
  const violations: Violation[] = [];
  const p: AppPacket = { protocol: P, type: 'invalid', summary: '' };
  let channel: string | undefined;
  const identifier = 'identifier' in v ? inner(p, 'identifier', v.identifier, violations) : undefined;
  if (isObject(identifier) && typeof identifier.channel === 'string') channel = identifier.channel;
  if (channel) p.topic = channel;
  const parts: string[] = [];
  if (dir === 'client') {
    const command = typeof v.command === 'string' ? v.command : null;
    if (!command || !COMMANDS.has(command)) violations.push(V('unknown-command', `the client's command is subscribe, unsubscribe or message (is ${preview(v.command)})`));
    p.type = command ?? 'invalid';
    if (!('identifier' in v)) violations.push(V('missing-identifier', 'a command names its subscription\'s identifier'));
    parts.push(p.type, channel ?? preview(v.identifier));
    if ('data' in v) {
      const data = inner(p, 'data', v.data, violations);
      if (isObject(data) && typeof data.action === 'string') {
        p.event = data.action;
        parts.push(data.action);
      }
      const rest = isObject(data) ? Object.fromEntries(Object.entries(data).filter(([k]) => k !== 'action')) : data;
      parts.push(preview(rest));
    } else if (command === 'message') violations.push(V('missing-data', 'a message command carries data'));
  } else if (typeof v.type === 'string') {
    p.type = v.type;
    if (!SERVER_TYPES.has(v.type)) violations.push(V('unknown-type', `unknown server message type ${JSON.stringify(v.type)}`));
    parts.push(v.type);
    if (channel) parts.push(channel);
    if (v.type === 'ping' && 'message' in v) {
      p.message = v.message;
      parts.push(String(v.message));
    }
    if (v.type === 'disconnect') {
      if ('reason' in v) p.reason = v.reason;
      if ('reconnect' in v) p.reconnect = v.reconnect;
      parts.push(`${preview(v.reason)}${v.reconnect === true ? ' (reconnect)' : ''}`);
    }
  } else if ('message' in v) {
    // A broadcast to a subscription.
    p.type = 'broadcast';
    p.message = v.message;
    if (!('identifier' in v)) violations.push(V('missing-identifier', 'a broadcast names its subscription\'s identifier'));
    parts.push('broadcast', channel ?? preview(v.identifier), preview(v.message));
  } else {
    violations.push(V('unknown-message', 'neither a typed server message nor a broadcast {identifier, message}'));
    parts.push('invalid', preview(v));
  }
  p.summary = parts.join(' ');
  if (violations.length) p.violations = violations;
  return p;
}

export const actionCable: ProtocolModule = {
  name: P,
  fromHandshake(ctx: ProtocolContext) {
    return ctx.subprotocol && SUBPROTOCOLS.has(ctx.subprotocol) ? `Sec-WebSocket-Protocol: ${ctx.subprotocol}` : null;
  },
  sniff(dir: Direction, opcode: 1 | 2, payload: Buffer) {
    // The server's greeting: exactly {"type":"welcome"} (and perhaps sid).
    if (dir !== 'server' || opcode !== 1 || payload[0] !== 0x7b || payload.length > 200) return null;
    const v = parseJson(payload.toString('utf8'));
    if (!isObject(v) || v.type !== 'welcome' || !Object.keys(v).every((k) => k === 'type' || k === 'sid')) return null;
    return 'the server\'s message is Action Cable\'s {"type":"welcome"}';
  },
  open() {
    return { message: (dir, _opcode, payload) => decodeActionCable(dir, payload) };
  },
};
