/**
 * SockJS framing over its WebSocket transport (sockjs-protocol 0.3.3, "Framing" and
 * "WebSocket"): the server sends `o` (open), `h` (heartbeat), `a["m1","m2"]` (an array of
 * messages, JSON strings), `m"m1"` (one message, older servers) and `c[code,"reason"]`
 * (close); the client sends a JSON array of strings (or one JSON string). Each message
 * string is the payload of the protocol inside (STOMP, most often), recognised in turn:
 * its packets are `app.inner`.
 */
import type { Direction, Violation } from '../decoder/events';
import { appViolation, clip, parseJson, preview, utf8Text, type Json } from './json';
import type { AppPacket, AppResult, NestedDecoder, ProtocolContext, ProtocolModule } from './types';

const P = 'sockjs';
const V = (rule: string, message: string): Violation => appViolation(P, rule, message, 'sockjs-protocol 0.3.3');
/** `/<prefix>/<server>/<session>/websocket`; sockjs-client's server id is three digits. */
const PATH = /^(.*)\/(\d{3})\/([^/.]+)\/websocket\/?$/;

/** Collects the inner packets of the messages, in order. */
function innerOf(nested: NestedDecoder, dir: Direction, messages: string[]): AppPacket[] {
  const out: AppPacket[] = [];
  for (const m of messages) {
    const r: AppResult = nested.message(dir, 1, Buffer.from(m, 'utf8'));
    if (!r || 'partial' in r) continue;
    if (Array.isArray(r)) out.push(...r);
    else out.push(r);
  }
  return out;
}

function messagesText(messages: string[]): string {
  return messages.map((m) => preview(m, 40)).join(', ');
}

class SockJsSession {
  private readonly nested: NestedDecoder;

  constructor(ctx: ProtocolContext) {
    this.nested = ctx.nested();
  }

  message(dir: Direction, _opcode: 1 | 2, payload: Buffer): AppResult {
    const text = utf8Text(payload);
    if (text === null) return { protocol: P, type: 'invalid', summary: 'invalid: not text', violations: [V('not-text', 'SockJS frames are text')] };
    return dir === 'server' ? this.server(text) : this.client(text);
  }

  private withMessages(p: AppPacket, messages: string[], dir: Direction): AppPacket {
    p.messages = messages;
    const inner = innerOf(this.nested, dir, messages);
    if (inner.length) p.inner = inner.length === 1 ? inner[0] : inner;
    const innerSummary = inner.map((i) => i.summary).join(' | ');
    p.summary = `${p.type} ${inner.length ? clip(innerSummary, 120) : messagesText(messages)}`;
    return p;
  }

  private client(text: string): AppResult {
    const v = parseJson(text);
    if (typeof v === 'string') return this.withMessages({ protocol: P, type: 'send', summary: '' }, [v], 'client');
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return this.withMessages({ protocol: P, type: 'send', summary: '' }, v as string[], 'client');
    return { protocol: P, type: 'invalid', summary: `invalid: ${preview(text)}`, violations: [V('bad-client-frame', 'the client sends a JSON array of strings')] };
  }

  private server(text: string): AppResult {
    const kind = text[0];
    const rest = text.slice(1);
    switch (kind) {
      case 'o':
      case 'h': {
        const p: AppPacket = { protocol: P, type: kind === 'o' ? 'open' : 'heartbeat', code: kind.charCodeAt(0), summary: kind === 'o' ? 'open' : 'heartbeat' };
        if (rest.length) p.violations = [V('unexpected-data', `the ${p.type} frame is the single letter ${kind}`)];
        return p;
      }
      case 'a':
      case 'm': {
        const v = parseJson(rest);
        const messages = kind === 'm' ? (typeof v === 'string' ? [v] : null) : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
        if (!messages) return { protocol: P, type: 'invalid', summary: `invalid: ${preview(text)}`, violations: [V('bad-array', kind === 'a' ? 'an "a" frame is a JSON array of strings' : 'an "m" frame is a JSON string')] };
        return this.withMessages({ protocol: P, type: kind === 'a' ? 'array' : 'message', code: kind.charCodeAt(0), summary: '' }, messages, 'server');
      }
      case 'c': {
        const v: Json | undefined = parseJson(rest);
        const p: AppPacket = { protocol: P, type: 'close', code: 0x63, summary: '' };
        if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string' && v.length === 2) {
          p.closeCode = v[0];
          p.closeReason = v[1];
          p.summary = `close ${v[0]} ${preview(v[1])}`;
        } else {
          p.summary = `close ${preview(rest)}`;
          p.violations = [V('bad-close', 'a "c" frame is [code, "reason"]')];
        }
        return p;
      }
      default:
        return { protocol: P, type: 'invalid', summary: `invalid: ${preview(text)}`, violations: [V('bad-frame-type', `a SockJS frame starts with o, h, a, m or c (starts with ${JSON.stringify(clip(text, 8))})`)] };
    }
  }
}

export const sockJs: ProtocolModule = {
  name: P,
  fromHandshake(ctx: ProtocolContext) {
    const m = PATH.exec(ctx.path);
    return m ? `path ${ctx.path} is SockJS's /<prefix>/<server>/<session>/websocket (server ${m[2]}, session ${m[3]})` : null;
  },
  sniff(dir: Direction, opcode: 1 | 2, payload: Buffer, ctx: ProtocolContext) {
    // "o" alone is weak evidence: only on a path ending in /websocket, as the server's first message.
    if (dir !== 'server' || opcode !== 1 || payload.length !== 1 || payload[0] !== 0x6f || !/\/websocket\/?$/.test(ctx.path)) return null;
    return `the server's first message is SockJS's open frame "o" on ${ctx.path}`;
  },
  open(ctx: ProtocolContext) {
    return new SockJsSession(ctx);
  },
};
