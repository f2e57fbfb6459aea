/**
 * STOMP 1.0, 1.1 and 1.2 (https://stomp.github.io/stomp-specification-1.2.html) over
 * WebSocket: frames are `COMMAND EOL (header EOL)* EOL body NUL`, EOL being LF or (1.2)
 * CR LF; a lone EOL between frames is a heart-beat (§Heart-beating). A frame may span
 * messages and a message may hold several (stomp.js reassembles them the same way), so
 * frames are reassembled per direction (packets.ts).
 */
import type { Direction, Violation } from '../decoder/events';
import { appViolation, clip, preview, utf8Text } from './json';
import { PacketStream } from './packets';
import type { AppPacket, ProtocolContext, ProtocolModule } from './types';

const P = 'stomp';
const CLIENT_COMMANDS = new Set(['CONNECT', 'STOMP', 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'BEGIN', 'COMMIT', 'ABORT', 'ACK', 'NACK', 'DISCONNECT']);
const SERVER_COMMANDS = new Set(['CONNECTED', 'MESSAGE', 'RECEIPT', 'ERROR']);
/** Headers longer than this end framing (a frame's head is small; the body is not limited). */
const MAX_HEAD = 64 * 1024;
/** Characters of the body kept in the packet. */
const BODY_CHARS = 4096;
const SUBPROTOCOLS: Record<string, string> = { 'v10.stomp': '1.0', 'v11.stomp': '1.1', 'v12.stomp': '1.2' };

const V = (rule: string, message: string): Violation => appViolation(P, rule, message, 'STOMP 1.2');

/** Where the head (command and headers) ends: the index after its blank line, or -1. */
function headEnd(buf: Buffer): number {
  for (let i = buf.indexOf(0x0a); i >= 0 && i < buf.length; i = buf.indexOf(0x0a, i + 1)) {
    if (buf[i + 1] === 0x0a) return i + 2;
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/** The frame's content-length header (the first one, 1.2 "Repeated Header Entries"), or null. */
function contentLength(head: string): number | null | 'bad' {
  const m = /(?:^|\n)content-length:([^\r\n]*)/.exec(head);
  if (!m) return null;
  return /^\d{1,12}$/.test(m[1]) ? Number(m[1]) : 'bad';
}

/** Trailing EOLs after a frame's NUL (they belong to it: "MAY be followed by EOLs"). */
function eolsAt(buf: Buffer, at: number): number {
  let i = at;
  while (i < buf.length && (buf[i] === 0x0a || (buf[i] === 0x0d && buf[i + 1] === 0x0a))) i += buf[i] === 0x0a ? 1 : 2;
  return i - at;
}

/** packets.ts PacketLength for STOMP. */
export function stompLength(buf: Buffer): number | string {
  if (buf[0] === 0x0a) return 1;
  if (buf[0] === 0x0d) return buf.length < 2 ? 0 : buf[1] === 0x0a ? 2 : 'a CR not followed by LF';
  const lf = buf.indexOf(0x0a);
  const firstLine = buf.toString('latin1', 0, lf < 0 ? Math.min(buf.length, 32) : lf).replace(/\r$/, '');
  if (!/^[A-Z]*$/.test(firstLine) || firstLine.length > 20) return `not a STOMP command: ${JSON.stringify(clip(firstLine, 24))}`;
  const end = headEnd(buf);
  if (end < 0) return buf.length > MAX_HEAD ? `no end of headers in ${MAX_HEAD} bytes` : 0;
  const len = contentLength(buf.toString('utf8', 0, end));
  if (typeof len === 'number') {
    if (buf.length < end + len + 1) return 0;
    return end + len + 1 + eolsAt(buf, end + len + 1);
  }
  const nul = buf.indexOf(0, end);
  return nul < 0 ? 0 : nul + 1 + eolsAt(buf, nul + 1);
}

/** 1.2 "Value Encoding": \r \n \c \\ ; any other escape is an error. */
function unescape(s: string, out: Violation[]): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.?)/gs, (all, c: string) => {
    switch (c) {
      case 'r':
        return '\r';
      case 'n':
        return '\n';
      case 'c':
        return ':';
      case '\\':
        return '\\';
      default:
        out.push(V('bad-escape', `undefined escape sequence ${JSON.stringify(all)} in a header (must be treated as a fatal protocol error)`));
        return all;
    }
  });
}

class StompDecoder {
  /** The version both sides agreed on (CONNECTED's `version`); until then the one offered by the subprotocol, or 1.0. */
  version: string;

  constructor(version: string | null) {
    this.version = version ?? '1.0';
  }

  decode(bytes: Buffer, dir: Direction): AppPacket {
    if (bytes[0] === 0x0a || bytes[0] === 0x0d) return { protocol: P, type: 'heart-beat', summary: 'heart-beat' };
    const violations: Violation[] = [];
    const end = headEnd(bytes);
    const headText = bytes.toString('utf8', 0, end - 1);
    const lines = headText.split('\n').map((l) => l.replace(/\r$/, ''));
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    const command = lines[0];
    const p: AppPacket = { protocol: P, type: command, summary: command };
    const known = dir === 'client' ? CLIENT_COMMANDS : SERVER_COMMANDS;
    if (!known.has(command)) violations.push(V(CLIENT_COMMANDS.has(command) || SERVER_COMMANDS.has(command) ? 'wrong-direction' : 'unknown-command', `${command || '(empty)'} is not a command the ${dir} sends`));
    // CONNECT and CONNECTED headers are never escaped (1.2 "Value Encoding"), nor 1.0's.
    const escaped = this.version !== '1.0' && command !== 'CONNECT' && command !== 'CONNECTED' && command !== 'STOMP';
    const headers: [string, string][] = [];
    const first = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon < 0) {
        violations.push(V('bad-header', `header line without a colon: ${JSON.stringify(clip(line, 40))}`));
        continue;
      }
      const name = escaped ? unescape(line.slice(0, colon), violations) : line.slice(0, colon);
      const value = escaped ? unescape(line.slice(colon + 1), violations) : line.slice(colon + 1);
      headers.push([name, value]);
      if (!first.has(name)) first.set(name, value);
    }
    p.headers = headers;
    // The body: up to content-length, or up to the NUL.
    const len = contentLength(bytes.toString('utf8', 0, end));
    let bodyEnd: number;
    if (len === 'bad') violations.push(V('bad-content-length', `content-length is not a number: ${JSON.stringify(first.get('content-length'))}`));
    if (typeof len === 'number') {
      bodyEnd = end + len;
      if (bytes[bodyEnd] !== 0) violations.push(V('missing-null', `no NUL after the ${len} body bytes content-length announces`));
    } else {
      bodyEnd = bytes.indexOf(0, end);
      if (bodyEnd < 0) bodyEnd = bytes.length;
    }
    const body = bytes.subarray(end, Math.min(bodyEnd, bytes.length));
    p.bodyLength = body.length;
    if (body.length) {
      const text = utf8Text(body);
      if (text !== null) p.body = text.length > BODY_CHARS ? text.slice(0, BODY_CHARS) : text;
      else p.bodyHex = body.toString('hex', 0, Math.min(body.length, BODY_CHARS / 2));
      if (command !== 'SEND' && command !== 'MESSAGE' && command !== 'ERROR') violations.push(V('unexpected-body', `a ${command} frame has no body`));
    }
    this.fields(p, command, first, violations);
    if (violations.length) p.violations = violations;
    return p;
  }

  /** The fields every view uses (topic, id, pair) and the summary. */
  private fields(p: AppPacket, command: string, h: Map<string, string>, violations: Violation[]): void {
    const dest = h.get('destination');
    if (dest !== undefined) p.topic = dest;
    const receipt = h.get('receipt');
    const receiptId = h.get('receipt-id');
    if (receipt !== undefined) {
      p.id = receipt;
      p.pair = 'request';
    } else if (receiptId !== undefined && (command === 'RECEIPT' || command === 'ERROR')) {
      p.id = receiptId;
      p.pair = 'response';
    }
    const parts: string[] = [command];
    const need = (name: string) => {
      if (!h.has(name)) violations.push(V('missing-header', `${command} requires the ${name} header`));
    };
    switch (command) {
      case 'CONNECT':
      case 'STOMP': {
        if (h.has('accept-version')) parts.push(`accept-version ${h.get('accept-version')}`);
        if (h.has('host')) parts.push(`host ${h.get('host')}`);
        break;
      }
      case 'CONNECTED': {
        const version = h.get('version') ?? '1.0';
        this.version = version;
        p.version = version;
        parts.push(`version ${version}`);
        if (h.has('server')) parts.push(`server ${h.get('server')}`);
        break;
      }
      case 'SEND':
        need('destination');
        parts.push(String(dest ?? '?'));
        break;
      case 'SUBSCRIBE':
        need('destination');
        if (this.version !== '1.0') need('id');
        parts.push(String(dest ?? '?'));
        if (h.has('id')) parts.push(`id ${h.get('id')}`);
        break;
      case 'UNSUBSCRIBE':
        if (this.version !== '1.0') need('id');
        if (h.has('id')) parts.push(`id ${h.get('id')}`);
        break;
      case 'MESSAGE':
        need('destination');
        need('message-id');
        parts.push(String(dest ?? '?'));
        if (h.has('subscription')) parts.push(`(${h.get('subscription')})`);
        break;
      case 'RECEIPT':
        need('receipt-id');
        parts.push(String(receiptId ?? '?'));
        break;
      case 'ERROR':
        if (h.has('message')) parts.push(preview(h.get('message')));
        break;
      case 'ACK':
      case 'NACK':
        need(this.version === '1.2' ? 'id' : 'message-id');
        parts.push(String(h.get('id') ?? h.get('message-id') ?? '?'));
        break;
      case 'BEGIN':
      case 'COMMIT':
      case 'ABORT':
        need('transaction');
        parts.push(String(h.get('transaction') ?? '?'));
        break;
    }
    const hb = h.get('heart-beat');
    if (hb !== undefined) {
      const m = /^(\d+),(\d+)$/.exec(hb);
      if (m) {
        p.heartBeat = [Number(m[1]), Number(m[2])];
        parts.push(`heart-beat ${m[1]},${m[2]}`);
      } else violations.push(V('bad-heart-beat', `heart-beat is two numbers "cx,cy": ${JSON.stringify(hb)}`));
    }
    if (typeof p.body === 'string') parts.push(preview(p.body));
    else if (p.bodyHex !== undefined) parts.push(`<${String(p.bodyLength)} bytes>`);
    if (receipt !== undefined) parts.push(`receipt ${receipt}`);
    p.summary = parts.join(' ');
  }
}

/** A client's CONNECT/STOMP or a server's CONNECTED frame, whole (for sniffing). */
function isOpeningFrame(dir: Direction, payload: Buffer): boolean {
  const text = payload.toString('latin1', 0, Math.min(payload.length, 16));
  const ok = dir === 'client' ? /^(CONNECT|STOMP)\r?\n/.test(text) : /^CONNECTED\r?\n/.test(text);
  if (!ok) return false;
  const n = stompLength(payload);
  return typeof n === 'number' && n === payload.length;
}

export const stomp: ProtocolModule = {
  name: P,
  fromHandshake(ctx: ProtocolContext) {
    return ctx.subprotocol && ctx.subprotocol.toLowerCase() in SUBPROTOCOLS ? `Sec-WebSocket-Protocol: ${ctx.subprotocol}` : null;
  },
  sniff(dir: Direction, opcode: 1 | 2, payload: Buffer) {
    return isOpeningFrame(dir, payload) ? `the ${dir}'s first frame is a whole STOMP ${dir === 'client' ? 'CONNECT' : 'CONNECTED'} frame` : null;
  },
  open(ctx: ProtocolContext) {
    const decoder = new StompDecoder(ctx.subprotocol ? (SUBPROTOCOLS[ctx.subprotocol.toLowerCase()] ?? null) : null);
    const stream = new PacketStream(P, stompLength, (bytes, dir) => decoder.decode(bytes, dir));
    return { message: (dir, _opcode, payload) => stream.push(dir, payload) };
  },
};
