/**
 * One-line (and, with verbose, a few-line) text of the decoder's events for `wsscope send`
 * and `wsscope demo`: what went out and what came back, readable on a projector.
 * Pure functions of the events, so tests can assert exact lines.
 */
import { headerFields } from '../decoder/fields';
import type { FrameEvent, MessageEvent, Violation, WsEvent } from '../decoder/events';
import type { Handshake } from './client';

/** Opcode names of RFC 6455 §5.2 / §11.8. */
const OPCODES: Record<number, string> = {
  0: 'continuation',
  1: 'text',
  2: 'binary',
  8: 'close',
  9: 'ping',
  10: 'pong',
};

/** Close codes of RFC 6455 §7.4.1 (and the IANA registry, §11.7). */
const CLOSE_CODES: Record<number, string> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status received',
  1006: 'abnormal closure',
  1007: 'invalid payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'mandatory extension',
  1011: 'internal error',
  1012: 'service restart',
  1013: 'try again later',
  1015: 'TLS handshake failure',
};

export function opcodeName(opcode: number): string {
  return OPCODES[opcode] ?? `reserved opcode ${opcode}`;
}

export function closeCodeName(code: number): string {
  if (CLOSE_CODES[code]) return CLOSE_CODES[code];
  if (code >= 3000 && code <= 3999) return 'registered by libraries';
  if (code >= 4000 && code <= 4999) return 'private use';
  return 'not a valid close code';
}

/** Longest preview of a payload on one line (characters of text, or bytes of hex). */
const PREVIEW = 60;

/** A payload preview: quoted text when it is printable UTF-8, else hex. */
export function preview(bytes: Buffer, truncated = false): string {
  if (bytes.length === 0) return '(empty)';
  const text = bytes.toString('utf8');
  const printable = !text.includes('\ufffd') && !/[\x00-\x08\x0b-\x1f\x7f]/.test(text);
  if (printable) {
    const chars = [...text];
    const cut = chars.length > PREVIEW;
    return JSON.stringify(chars.slice(0, PREVIEW).join('')) + (cut || truncated ? '…' : '');
  }
  const hex = bytes.subarray(0, PREVIEW / 2).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return hex + (bytes.length > PREVIEW / 2 || truncated ? ' …' : '');
}

/** Groups a number's digits by thousands: 65536 → "65,536". */
function count(n: number): string {
  return n.toLocaleString('en-US');
}

function arrow(dir: 'client' | 'server'): string {
  return dir === 'client' ? '→' : '←';
}

function violationLines(violations: Violation[]): string[] {
  return violations.map((v) => `    ! ${v.rule}: ${v.message}${v.section ? ` (${v.section})` : ''}`);
}

/** "→ frame 0  text  FIN  masked 37fa213d  5 bytes (7-bit length)  "Hello"" */
export function frameLine(e: FrameEvent): string {
  const bits = [e.fin ? 'FIN' : 'not FIN', e.rsv1 ? 'RSV1' : '', e.rsv2 ? 'RSV2' : '', e.rsv3 ? 'RSV3' : '']
    .filter(Boolean)
    .join(' ');
  const mask = e.masked ? `masked ${e.maskKey}` : 'unmasked';
  const length = `${count(e.payloadLength)} byte${e.payloadLength === 1 ? '' : 's'} (${e.lengthForm}-bit length)`;
  let body: string;
  if (e.opcode === 8) {
    body = e.closeCode === undefined
      ? 'no close code'
      : `code ${e.closeCode} (${closeCodeName(e.closeCode)})` + (e.closeReason ? ` reason ${JSON.stringify(e.closeReason)}` : '');
  } else if (e.rsv1 && (e.opcode === 1 || e.opcode === 2 || e.opcode === 0)) {
    body = 'compressed: ' + preview(Buffer.from(e.payload, 'hex'), e.payloadTruncated);
  } else {
    body = preview(Buffer.from(e.payload, 'hex'), e.payloadTruncated);
  }
  return `${arrow(e.dir)} frame ${e.index}  ${opcodeName(e.opcode)}  ${bits}  ${mask}  ${length}  ${body}`;
}

/** "← message  text  3 frames  16 bytes  "Hello, fragments"" */
export function messageLine(e: MessageEvent): string {
  const frames = `${e.frames} frame${e.frames === 1 ? '' : 's'}`;
  const length = `${count(e.length)} byte${e.length === 1 ? '' : 's'}`;
  const content = e.text !== undefined ? Buffer.from(e.text, 'utf8') : Buffer.from(e.data ?? '', 'hex');
  const compressed = e.compressed ? '  inflated' : '';
  return `${arrow(e.dir)} message  ${opcodeName(e.opcode)}  ${frames}${compressed}  ${length}  ${preview(content, e.truncated)}`;
}

/** The header's fields bit by bit (RFC 6455 §5.2), for --verbose. */
export function headerFieldLines(e: FrameEvent): string[] {
  const fields = headerFields(Buffer.from(e.header, 'hex'));
  return fields.map((f) => `      ${f.name.padEnd(30)} ${f.bits.length > 32 ? f.bits.slice(0, 32) + '…' : f.bits}  = ${f.value}`);
}

export interface FormatOptions {
  verbose?: boolean;
  /** Show message events for one-frame, uncompressed messages too (they repeat the frame). */
  allMessages?: boolean;
}

/**
 * Lines for one event. Message events made of one uncompressed frame say nothing the frame
 * line did not, so they are left out unless asked for (or when they carry violations).
 */
export function eventLines(event: WsEvent, options: FormatOptions = {}): string[] {
  switch (event.event) {
    case 'frame': {
      const lines = [frameLine(event)];
      if (options.verbose) lines.push(`      header ${event.header.replace(/(..)(?!$)/g, '$1 ')}`, ...headerFieldLines(event));
      return lines.concat(violationLines(event.violations));
    }
    case 'message':
      if (event.frames > 1 || event.compressed || event.violations.length || options.allMessages || options.verbose) {
        return [messageLine(event), ...violationLines(event.violations)];
      }
      return [];
    case 'error':
      return [`! ${event.message}`];
    default:
      return [];
  }
}

/** The handshake summary: request line, status line, the accept check, the extensions. */
export function handshakeLines(h: Handshake, verbose = false): string[] {
  const lines: string[] = [];
  if (verbose) {
    lines.push(`→ ${h.request.method} ${h.request.target} ${h.request.version}`);
    for (const [n, v] of h.request.headers) lines.push(`    ${n}: ${v}`);
    lines.push(`← ${h.response.version ?? 'HTTP/1.1'} ${h.response.status} ${h.response.reason}`);
    for (const [n, v] of h.response.headers) lines.push(`    ${n}: ${v}`);
  } else {
    lines.push(`→ ${h.request.method} ${h.request.target} ${h.request.version}  Sec-WebSocket-Key: ${h.key}`);
    lines.push(`← ${h.response.version ?? 'HTTP/1.1'} ${h.response.status} ${h.response.reason}  Sec-WebSocket-Accept: ${h.accept}`);
  }
  lines.push(`  accept ${h.acceptValid ? 'valid' : 'INVALID'}: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) = ${h.expectedAccept}`);
  const offered = h.request.headers.find(([n]) => n.toLowerCase() === 'sec-websocket-extensions')?.[1];
  if (h.extensions) lines.push(`  extensions: ${h.extensions}`);
  else if (offered) lines.push(`  extensions: none (offered ${offered}, the server declined)`);
  return lines;
}
