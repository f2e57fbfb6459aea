/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification): requests, notifications and
 * responses, one per message or several in a batch (§6). Requests and responses are
 * paired by `id` (the layer links them: types.ts `pair`).
 */
import type { Direction, Violation } from '../decoder/events';
import { appViolation, isObject, parseJson, preview, utf8Text, type Json } from './json';
import type { AppPacket, AppResult, ProtocolContext, ProtocolModule } from './types';

const P = 'json-rpc';

/** §5.1: the pre-defined error codes. */
const ERROR_NAMES: Record<number, string> = {
  [-32700]: 'Parse error',
  [-32600]: 'Invalid Request',
  [-32601]: 'Method not found',
  [-32602]: 'Invalid params',
  [-32603]: 'Internal error',
};

/** The name of an error code (§5.1), or undefined for an application's own code. */
export function errorName(code: number): string | undefined {
  return ERROR_NAMES[code] ?? (code >= -32099 && code <= -32000 ? 'Server error' : undefined);
}

const SUBPROTOCOLS = new Set(['jsonrpc', 'json-rpc', 'jsonrpc-2.0', 'jsonrpc2.0', 'jsonrpc2']);

/** A JSON-RPC 2.0 object by its shape alone (for sniffing): version "2.0" and a method or an answer with an id. */
function looksLikeRpc(v: Json): boolean {
  if (!isObject(v) || v.jsonrpc !== '2.0') return false;
  if (typeof v.method === 'string') return true;
  return 'id' in v && ('result' in v || 'error' in v);
}

function decodeOne(v: Json): AppPacket {
  const violations: Violation[] = [];
  if (!isObject(v)) {
    return { protocol: P, type: 'invalid', summary: `invalid: ${preview(v)}`, violations: [appViolation(P, 'not-an-object', 'a JSON-RPC message is a JSON object (§4, §5)')] };
  }
  if (v.jsonrpc !== '2.0') violations.push(appViolation(P, 'bad-version', `"jsonrpc" must be exactly "2.0" (is ${preview(v.jsonrpc)})`, 'JSON-RPC 2.0 §4'));
  const hasId = 'id' in v;
  const id = v.id;
  if (hasId && id !== null && typeof id !== 'string' && typeof id !== 'number') {
    violations.push(appViolation(P, 'bad-id', `"id" must be a string, a number or null (is ${preview(id)})`, 'JSON-RPC 2.0 §4'));
  } else if (typeof id === 'number' && !Number.isInteger(id)) {
    violations.push(appViolation(P, 'fractional-id', `"id" should not contain fractional parts (is ${id})`, 'JSON-RPC 2.0 §4'));
  }
  const idText = hasId ? ` #${typeof id === 'string' ? JSON.stringify(id) : String(id)}` : '';
  const base = (type: string): AppPacket => {
    const p: AppPacket = { protocol: P, type, summary: '' };
    if (hasId && (typeof id === 'string' || typeof id === 'number')) p.id = id;
    return p;
  };
  let p: AppPacket;
  if ('method' in v) {
    const method = v.method;
    if (typeof method !== 'string') violations.push(appViolation(P, 'bad-method', `"method" must be a string (is ${preview(method)})`, 'JSON-RPC 2.0 §4'));
    if ('params' in v && !Array.isArray(v.params) && !isObject(v.params)) {
      violations.push(appViolation(P, 'bad-params', `"params" must be an array or an object (is ${preview(v.params)})`, 'JSON-RPC 2.0 §4.2'));
    }
    if ('result' in v || 'error' in v) violations.push(appViolation(P, 'mixed-message', 'a request has no "result" or "error"', 'JSON-RPC 2.0 §4'));
    p = base(hasId ? 'request' : 'notification');
    p.event = String(method);
    if ('params' in v) p.params = v.params;
    if (hasId) p.pair = 'request';
    p.summary = `${p.type}${idText} ${String(method)}${'params' in v ? ` ${preview(v.params)}` : ''}`;
  } else if ('result' in v || 'error' in v) {
    if ('result' in v && 'error' in v) violations.push(appViolation(P, 'result-and-error', 'a response has "result" or "error", never both', 'JSON-RPC 2.0 §5'));
    if (!hasId) violations.push(appViolation(P, 'missing-id', 'a response must have an "id" (null when it could not be read)', 'JSON-RPC 2.0 §5'));
    if ('error' in v) {
      const e = v.error;
      p = base('error');
      p.error = e;
      if (!isObject(e) || typeof e.code !== 'number' || !Number.isInteger(e.code) || typeof e.message !== 'string') {
        violations.push(appViolation(P, 'bad-error', `"error" must be an object with an integer "code" and a string "message" (is ${preview(e)})`, 'JSON-RPC 2.0 §5.1'));
        p.summary = `error${idText} ${preview(e)}`;
      } else {
        p.code = e.code;
        const name = errorName(e.code);
        if (name) p.codeName = name;
        p.summary = `error${idText} ${e.code} ${preview(e.message)}${name && name !== e.message ? ` (${name})` : ''}`;
      }
    } else {
      p = base('result');
      p.result = v.result;
      p.summary = `result${idText} ${preview(v.result)}`;
    }
    if (hasId && id !== null) p.pair = 'response';
  } else {
    p = base('invalid');
    violations.push(appViolation(P, 'not-a-message', 'neither a request ("method") nor a response ("result" or "error")', 'JSON-RPC 2.0 §4, §5'));
    p.summary = `invalid ${preview(v)}`;
  }
  if (violations.length) p.violations = violations;
  return p;
}

/** One message: a request, notification or response, or a batch of them (§6). */
export function decodeJsonRpc(payload: Buffer): AppResult {
  const text = utf8Text(payload);
  const v = text === null ? undefined : parseJson(text);
  if (v === undefined) {
    return { protocol: P, type: 'invalid', summary: 'not JSON', violations: [appViolation(P, 'not-json', 'the message is not JSON text', 'JSON-RPC 2.0 §4')] };
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return { protocol: P, type: 'invalid', summary: 'empty batch', violations: [appViolation(P, 'empty-batch', 'a batch is a non-empty array', 'JSON-RPC 2.0 §6')] };
    return v.map((item) => {
      const p = decodeOne(item);
      p.batch = v.length;
      return p;
    });
  }
  return decodeOne(v);
}

export const jsonRpc: ProtocolModule = {
  name: P,
  fromHandshake(ctx: ProtocolContext) {
    return ctx.subprotocol && SUBPROTOCOLS.has(ctx.subprotocol.toLowerCase()) ? `Sec-WebSocket-Protocol: ${ctx.subprotocol}` : null;
  },
  sniff(_dir: Direction, opcode: 1 | 2, payload: Buffer) {
    if (opcode !== 1 || payload.length < 2 || (payload[0] !== 0x7b && payload[0] !== 0x5b)) return null;
    const text = utf8Text(payload);
    const v = text === null ? undefined : parseJson(text);
    if (v === undefined) return null;
    const items = Array.isArray(v) ? v : [v];
    if (items.length === 0 || !items.every(looksLikeRpc)) return null;
    return 'the first messages are JSON-RPC 2.0 objects ("jsonrpc": "2.0" with a method or a result)';
  },
  open() {
    return { message: (_dir, _opcode, payload) => decodeJsonRpc(payload) };
  },
};
