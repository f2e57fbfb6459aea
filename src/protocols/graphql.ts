/**
 * GraphQL over WebSocket, both protocols in use:
 * - `graphql-transport-ws` (the graphql-ws library; enisdenjo/graphql-ws PROTOCOL.md):
 *   connection_init, connection_ack, ping, pong, subscribe, next, error, complete;
 * - `graphql-ws`, the legacy subscriptions-transport-ws (apollographql's PROTOCOL.md):
 *   connection_init, connection_ack, connection_error, ka, start, data, error, complete,
 *   stop, connection_terminate.
 * Each message is one JSON object `{type, id?, payload?}`; operations are paired by id
 * (subscribe/start → next/data … → complete/error).
 */
import type { Direction, Violation } from '../decoder/events';
import { appViolation, isObject, parseJson, preview, utf8Text, type Json } from './json';
import type { AppPacket, AppResult, ProtocolContext, ProtocolModule, ProtocolName } from './types';

type Who = 'client' | 'server' | 'both';

interface Spec {
  name: ProtocolName;
  /** Message types, who sends them, whether they carry an id, and their role in an operation. */
  types: Record<string, { from: Who; id: boolean; pair?: AppPacket['pair'] }>;
  start: string;
  doc: string;
}

const TRANSPORT_WS: Spec = {
  name: 'graphql-transport-ws',
  doc: 'graphql-ws PROTOCOL.md',
  start: 'subscribe',
  types: {
    connection_init: { from: 'client', id: false },
    connection_ack: { from: 'server', id: false },
    ping: { from: 'both', id: false },
    pong: { from: 'both', id: false },
    subscribe: { from: 'client', id: true, pair: 'request' },
    next: { from: 'server', id: true, pair: 'stream' },
    error: { from: 'server', id: true, pair: 'end' },
    complete: { from: 'both', id: true, pair: 'end' },
  },
};

const LEGACY_WS: Spec = {
  name: 'graphql-ws',
  doc: 'subscriptions-transport-ws PROTOCOL.md',
  start: 'start',
  types: {
    connection_init: { from: 'client', id: false },
    connection_ack: { from: 'server', id: false },
    connection_error: { from: 'server', id: false },
    ka: { from: 'server', id: false },
    connection_terminate: { from: 'client', id: false },
    start: { from: 'client', id: true, pair: 'request' },
    data: { from: 'server', id: true, pair: 'stream' },
    error: { from: 'server', id: true, pair: 'end' },
    complete: { from: 'server', id: true, pair: 'end' },
    stop: { from: 'client', id: true, pair: 'end' },
  },
};

/** The operation's kind and first field (or operationName), read from its query text. */
function operation(payload: { [k: string]: Json }): { kind: string; name: string | null } {
  const query = typeof payload.query === 'string' ? payload.query : '';
  // Skip comments; the first keyword (or a bare "{" selection: a query).
  const text = query.replace(/#[^\n]*/g, ' ');
  const kind = /^\s*(query|mutation|subscription)\b/.exec(text)?.[1] ?? (/^\s*\{/.test(text) ? 'query' : 'operation');
  if (typeof payload.operationName === 'string' && payload.operationName) return { kind, name: payload.operationName };
  const field = /\{\s*(?:\w+\s*:\s*)?(\w+)/.exec(text)?.[1] ?? null;
  return { kind, name: field };
}

function decodeGraphql(spec: Spec, dir: Direction, payload: Buffer): AppResult {
  const P = spec.name;
  const V = (rule: string, message: string): Violation => appViolation(P, rule, message, spec.doc);
  const text = utf8Text(payload);
  const v = text === null ? undefined : parseJson(text);
  if (!isObject(v)) {
    return { protocol: P, type: 'invalid', summary: `invalid: ${text === null ? 'not text' : preview(text)}`, violations: [V('not-an-object', 'each message is a JSON object {type, id?, payload?}')] };
  }
  const violations: Violation[] = [];
  const type = typeof v.type === 'string' ? v.type : null;
  const p: AppPacket = { protocol: P, type: type ?? 'invalid', summary: '' };
  const def = type !== null ? spec.types[type] : undefined;
  if (type === null) violations.push(V('missing-type', 'the message has no string "type"'));
  else if (!def) violations.push(V('unknown-type', `unknown message type ${JSON.stringify(type)}`));
  else if (def.from !== 'both' && def.from !== dir) violations.push(V('wrong-direction', `${type} is sent by the ${def.from}, not the ${dir}`));
  if (typeof v.id === 'string' || typeof v.id === 'number') {
    p.id = v.id;
    if (def?.pair) p.pair = def.pair;
  }
  if (def?.id && p.id === undefined) violations.push(V('missing-id', `${type} must carry the operation's id`));
  if ('payload' in v) p.payload = v.payload;
  const parts: string[] = [p.type];
  if (p.id !== undefined) parts.push(String(p.id));
  if (type === spec.start) {
    if (!isObject(v.payload) || typeof v.payload.query !== 'string') violations.push(V('bad-payload', `${type}'s payload is {query, variables?, operationName?}`));
    else {
      const op = operation(v.payload);
      p.operation = op.kind;
      if (op.name) p.event = op.name;
      parts.push(op.kind);
      if (op.name) parts.push(op.name);
      if (isObject(v.payload.variables) && Object.keys(v.payload.variables).length) parts.push(preview(v.payload.variables, 40));
    }
  } else if ('payload' in v && v.payload !== null) {
    parts.push(preview(v.payload));
  }
  p.summary = parts.join(' ');
  if (violations.length) p.violations = violations;
  return p;
}

/** A message that can only be this protocol: the operation start, with a query. */
function sniffStart(spec: Spec, dir: Direction, opcode: 1 | 2, payload: Buffer): string | null {
  if (dir !== 'client' || opcode !== 1 || payload[0] !== 0x7b) return null;
  const v = parseJson(payload.toString('utf8'));
  if (!isObject(v) || v.type !== spec.start || (typeof v.id !== 'string' && typeof v.id !== 'number')) return null;
  if (!isObject(v.payload) || typeof v.payload.query !== 'string') return null;
  return `the client's message is a ${spec.name} "${spec.start}" with an id and a GraphQL query`;
}

function graphqlModule(spec: Spec): ProtocolModule {
  return {
    name: spec.name,
    fromHandshake(ctx: ProtocolContext) {
      return ctx.subprotocol === spec.name ? `Sec-WebSocket-Protocol: ${ctx.subprotocol}` : null;
    },
    sniff: (dir, opcode, payload) => sniffStart(spec, dir, opcode, payload),
    open() {
      return { message: (dir, _opcode, payload) => decodeGraphql(spec, dir, payload) };
    },
  };
}

export const graphqlTransportWs = graphqlModule(TRANSPORT_WS);
export const graphqlWs = graphqlModule(LEGACY_WS);
