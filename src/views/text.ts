/**
 * The text log (`--ui text`): one readable line per frame, handshake, HTTP exchange, open
 * and end; `-v` adds the field breakdown of every frame header (RFC 6455 §5.2) and the
 * handshake headers. Pure functions of the events, so tests assert exact lines.
 *
 * Everything that came from the wire is escaped by src/explain/escape.ts: control
 * characters, escape sequences, bidi overrides and line separators are shown as visible
 * escapes (\x1b, \u202e), never interpreted by the terminal.
 */
import type { Writable } from 'stream';
import { closeCodeName } from '../decoder/constants';
import { lazyHexBytes } from '../decoder/strings';
import type { Direction, FrameEvent, HttpRequestHead, HttpResponseHead, MessageEvent, Violation, WsEvent } from '../decoder/events';
import { escapeForTerminal, quoteForTerminal } from '../explain/escape';
import { appRows, appSummary, appViolations } from '../explain/app';
import { explainFrame } from '../explain/frame';
import { modeSummary, tlsSummary } from '../explain/names';
import { spacedHex, utf8OrNull } from '../explain/payload';
import type { Session } from '../session';
import { LineBatcher } from './json';

export interface TextOptions {
  /** Adds the field breakdown of each frame and the handshake headers. */
  verbose?: boolean;
  /** Formats `ts` (default: local time HH:MM:SS.mmm). */
  time?: (ts: number) => string;
}

/** Longest payload preview: characters of text, or bytes of hex. */
const PREVIEW_CHARS = 60;
const PREVIEW_BYTES = 24;

export function localTime(ts: number): string {
  const d = new Date(ts);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** src/explain's breakdown of a frame without its first line (the log line says that): what -v adds. */
function explainedFrameLines(frame: FrameEvent): string[] {
  return explainFrame(frame).split('\n').slice(1);
}

/** A quoted, escaped (src/explain/escape.ts), capped string. */
export function quote(text: string, cut = false): string {
  // PREVIEW_CHARS code points lie within 2 * PREVIEW_CHARS UTF-16 units: a 64 KiB text is
  // not split into characters to show its start. Longer than that means more characters.
  const chars = [...text.slice(0, 2 * PREVIEW_CHARS)];
  const more = cut || chars.length > PREVIEW_CHARS || text.length > 2 * PREVIEW_CHARS;
  return `${quoteForTerminal(chars.slice(0, PREVIEW_CHARS).join(''))}${more ? '…' : ''}`;
}

function hexPreview(bytes: Buffer, cut: boolean): string {
  return `${spacedHex(bytes.subarray(0, PREVIEW_BYTES))}${cut || bytes.length > PREVIEW_BYTES ? ' …' : ''}`;
}

/**
 * The bytes behind a hex field (frame `payload`, message `data`): a large one's bytes as
 * the decoder kept them, without making its hex string (decoder/strings.ts LazyHex), since
 * a preview shows only its start.
 */
function hexFieldBytes<K extends 'payload' | 'data'>(obj: { [k in K]?: string }, key: K): Buffer {
  return lazyHexBytes(obj, key) ?? Buffer.from(obj[key] ?? '', 'hex');
}

/** The payload preview of a frame: text frames as text, binary as hex, others by content. */
function payloadPreview(frame: Pick<FrameEvent, 'opcode' | 'rsv1' | 'payload' | 'payloadTruncated' | 'payloadLength' | 'closeCode' | 'closeReason'>): string {
  const bytes = hexFieldBytes(frame, 'payload');
  const cut = frame.payloadTruncated || bytes.length < frame.payloadLength;
  if (frame.opcode === 0x8) {
    if (frame.closeCode === undefined) return bytes.length ? hexPreview(bytes, cut) : '(no code)';
    const reason = frame.closeReason ? ` ${quote(frame.closeReason)}` : '';
    return `${frame.closeCode} (${closeCodeName(frame.closeCode)})${reason}`;
  }
  if (bytes.length === 0) return cut ? '…' : '(empty)';
  // RSV1 on a data frame: DEFLATE bytes (RFC 7692 §6), not text; the message line has the inflated text.
  if (frame.opcode === 0x2 || frame.rsv1) return hexPreview(bytes, cut);
  // A text frame cut at the preview cap may end inside a character: decode leniently.
  const text = frame.opcode === 0x1 ? bytes.toString('utf8') : utf8OrNull(bytes);
  return text === null ? hexPreview(bytes, cut) : quote(text, cut);
}

const ARROWS: Record<Direction, string> = { client: 'C→S', server: 'S→C' };

function violationsSuffix(violations: Violation[]): string {
  return violations.length ? `  !! ${violations.map((v) => v.rule).join(', ')}` : '';
}

function violationLines(violations: Violation[], indent: string): string[] {
  return violations.map((v) => `${indent}!! ${v.rule}: ${escapeForTerminal(v.message)}${v.section ? ` (${v.section})` : ''}`);
}

function requestLine(r: HttpRequestHead): string {
  return `${escapeForTerminal(r.method)} ${escapeForTerminal(r.target)}`;
}

function responseLine(r: HttpResponseHead | null): string {
  return r ? `${r.status} ${escapeForTerminal(r.reason)}` : '(no response)';
}

function headerLines(prefix: string, headers: [string, string][], indent: string): string[] {
  return headers.map(([n, v]) => `${indent}${prefix} ${escapeForTerminal(n)}: ${escapeForTerminal(v)}`);
}

/** The text lines of one event (usually one line). */
export function formatEvent(event: WsEvent, options: TextOptions = {}): string[] {
  const time = options.time ?? localTime;
  const t = time(event.ts);
  const v = options.verbose === true;
  switch (event.event) {
    case 'listening': {
      const backend = event.backend ? ` (built-in backend on ${event.backend})` : '';
      return [`${t} proxy listening on ${event.proxy}, forwarding to ${event.target ?? '?'}${backend}`];
    }
    case 'open': {
      const line = `${t} #${event.conn} open  ${escapeForTerminal(event.client)} → ${escapeForTerminal(event.target)}${event.note ? `  (${escapeForTerminal(event.note)})` : ''}`;
      const mode = modeSummary(event);
      if (!mode && !(v && event.mode)) return [line];
      const lines = [`${line}${mode ? `  [${escapeForTerminal(mode)}]` : ''}${event.upstream && event.upstream !== event.target ? ` via ${escapeForTerminal(event.upstream)}` : ''}`];
      if (v || event.tls || event.upstreamTls) {
        lines.push(`    client TLS: ${escapeForTerminal(tlsSummary(event.tls))}`, `    server TLS: ${event.upstream ? escapeForTerminal(tlsSummary(event.upstreamTls)) : 'not connected'}`);
      }
      return lines;
    }
    case 'handshake': {
      const accept = event.acceptValid ? 'accept ok' : event.accept === null ? 'no accept' : 'ACCEPT WRONG';
      const extra = [event.protocol ? `protocol ${escapeForTerminal(event.protocol)}` : '', event.extensions ? `extensions ${escapeForTerminal(event.extensions)}` : '']
        .filter(Boolean)
        .join('  ');
      const lines = [
        `${t} #${event.conn} handshake  ${requestLine(event.request)} → ${responseLine(event.response)}  ${accept}${extra ? `  ${extra}` : ''}${violationsSuffix(event.violations)}`,
      ];
      if (v) {
        lines.push(...headerLines('>', event.request.headers, '    '), ...headerLines('<', event.response.headers, '    '));
        if (!event.acceptValid && event.expectedAccept) lines.push(`    expected Sec-WebSocket-Accept: ${event.expectedAccept}`);
        lines.push(...violationLines(event.violations, '    '));
      }
      return lines;
    }
    case 'http': {
      const lines = [`${t} #${event.conn} http  ${requestLine(event.request)} → ${responseLine(event.response)}`];
      if (v) {
        lines.push(...headerLines('>', event.request.headers, '    '));
        if (event.response) lines.push(...headerLines('<', event.response.headers, '    '));
      }
      return lines;
    }
    case 'frame': {
      const flags = [event.fin ? 'FIN' : '---', event.rsv1 ? 'RSV1' : '', event.rsv2 ? 'RSV2' : '', event.rsv3 ? 'RSV3' : '']
        .filter(Boolean)
        .join(' ');
      const mask = event.masked ? `mask ${event.maskKey}` : 'unmasked';
      const lines = [
        `${t} #${event.conn} ${ARROWS[event.dir]} ${event.opcodeName.padEnd(12)} ${flags.padEnd(3)}  len ${String(event.payloadLength).padEnd(6)} ${mask.padEnd(13)} ${payloadPreview(event)}${violationsSuffix(event.violations)}`,
      ];
      // src/explain's breakdown: bit rows, length form, unmasking, payload, violations
      // (its text is already escaped for the terminal).
      if (v) lines.push(...explainedFrameLines(event).map((l) => `    ${l}`));
      return lines;
    }
    case 'message': {
      // What the message carries (src/protocols), shown whenever it was recognised.
      const app = appSummary(event.app);
      const appLines = app === null ? [] : [`${t} #${event.conn} ${ARROWS[event.dir]} ${app}${violationsSuffix(appViolations(event.app))}`, ...(v ? appRows(event.app, '    ').slice(1) : [])];
      // A one-frame, uncompressed message repeats its frame: shown only with -v.
      if (!v && event.frames === 1 && !event.compressed && event.violations.length === 0) return appLines;
      return [
        ...appLines,
        `${t} #${event.conn} ${ARROWS[event.dir]} message ${event.opcodeName}  ${event.source === 'har' ? 'frames not recorded (HAR)' : `${event.frames} frame${event.frames === 1 ? '' : 's'}`}  ${event.length} bytes${event.compressed ? '  deflated' : ''}  ${messagePreview(event)}${violationsSuffix(event.violations)}`,
        ...(v ? violationLines(event.violations, '    ') : []),
      ];
    }
    case 'protocol':
      return [`${t} #${event.conn} protocol ${escapeForTerminal(event.protocol)}  (${escapeForTerminal(event.reason)})`];
    case 'end':
      return [`${t} #${event.conn} end   ${escapeForTerminal(event.reason)} (client sent ${event.bytes.client} bytes, server ${event.bytes.server})`];
    case 'error':
      return [`${t} ${event.conn !== undefined ? `#${event.conn} ` : ''}error ${escapeForTerminal(event.message)}`];
    case 'intercept':
      return [`${t} #${event.conn} ${ARROWS[event.dir]} ${event.action} ${escapeForTerminal(event.explain)}`];
    default:
      return [];
  }
}

function messagePreview(m: MessageEvent): string {
  if (m.text !== undefined) return quote(m.text, m.truncated);
  // `in`, not a read: reading `data` would make the hex string that hexFieldBytes avoids.
  if (!('data' in m)) return '';
  const bytes = hexFieldBytes(m, 'data');
  return bytes.length ? hexPreview(bytes, m.truncated === true) : '(empty)';
}

/**
 * Writes the text log of a session to `out` (batched every FLUSH_MS, see LineBatcher);
 * returns a function that unsubscribes and writes what is still pending.
 */
export function attachTextView(session: Session, out: Writable, options: TextOptions = {}): () => void {
  const batcher = new LineBatcher(out);
  const off = session.onEvent((event) => {
    const lines = formatEvent(event, options);
    if (lines.length) batcher.push(lines.join('\n') + '\n');
  });
  return () => {
    off();
    batcher.flush();
  };
}
