/**
 * What `wsscope send` and `wsscope demo` print for the decoder's events: the explainer's
 * one-line summary (src/explain/summary.ts) with an arrow for the direction, the rules
 * broken spelled out, and with --verbose the explainer's full field-by-field explanation.
 * Terminal-safe: everything from the wire goes through the explainer's escaping.
 */
import { WS_GUID } from '../decoder/constants';
import type { Direction, FrameEvent, WsEvent } from '../decoder/events';
import { headerValue } from '../decoder/handshake';
import { escapeForTerminal, explainFrame, explainHandshake, explainMessage, summarizeFrame, summarizeMessage } from '../explain';
import type { Handshake } from './client';

export interface FormatOptions {
  verbose?: boolean;
}

const arrow = (dir: Direction) => (dir === 'client' ? '→' : '←');

/** The rules a frame or message breaks, one line each, with the RFC section. */
function violationLines(event: { violations: { rule: string; message: string; section?: string }[] }): string[] {
  return event.violations.map((v) => `    ! ${v.rule}${v.section ? ` (${v.section})` : ''}: ${escapeForTerminal(v.message)}`);
}

/**
 * Continuation frames shown in full before the rest of a long run is summed up in one
 * line: a server may stream a big message in hundreds of small frames.
 */
const SHOWN_CONTINUATIONS = 2;

/**
 * Turns events into lines. Keeps a little state per connection and direction: the
 * opcode of the message being fragmented (so that --verbose shows a text message's
 * fragments as text) and how many continuation frames were left out.
 */
export class EventPrinter {
  private readonly streams = new Map<string, { opcode: number; compressed: boolean; continuations: number; hidden: number }>();

  constructor(
    private readonly out: (line: string) => void,
    private readonly options: FormatOptions = {},
  ) {}

  private stream(event: FrameEvent) {
    const key = `${event.conn}/${event.dir}`;
    let s = this.streams.get(key);
    if (!s) this.streams.set(key, (s = { opcode: 0, compressed: false, continuations: 0, hidden: 0 }));
    return s;
  }

  print(event: WsEvent): void {
    if (event.event === 'frame') this.frame(event);
    else if (event.event === 'message') {
      // A one-frame, uncompressed message says nothing its frame line did not.
      if (!this.options.verbose && event.frames === 1 && !event.compressed && event.violations.length === 0) return;
      if (this.options.verbose) this.lines(explainMessage(event).split('\n'), event.dir);
      else this.out(`${arrow(event.dir)} ${summarizeMessage(event)}`);
      if (!this.options.verbose) violationLines(event).forEach((l) => this.out(l));
    } else if (event.event === 'handshake') {
      // The summary was printed when the connection opened (handshakeLines); the decoder adds
      // the rules broken, or with --verbose its whole explanation (headers, accept, deflate).
      if (this.options.verbose) explainHandshake(event).split('\n').slice(1).forEach((l) => this.out(l));
      else violationLines(event).forEach((l) => this.out(l));
    } else if (event.event === 'error') {
      this.out(`! ${escapeForTerminal(event.message)}`);
    }
  }

  private frame(event: FrameEvent): void {
    const s = this.stream(event);
    const isData = event.opcode === 1 || event.opcode === 2;
    if (isData) {
      s.opcode = event.opcode;
      s.compressed = event.rsv1;
      s.continuations = 0;
    }
    if (event.opcode === 0) {
      s.continuations++;
      const hide = !this.options.verbose && !event.fin && event.violations.length === 0 && s.continuations > SHOWN_CONTINUATIONS;
      if (hide) {
        s.hidden++;
        return;
      }
      if (s.hidden > 0) {
        this.out(`  … ${s.hidden} more continuation frame${s.hidden === 1 ? '' : 's'} like these`);
        s.hidden = 0;
      }
    }
    // A continuation frame is shown as its message (text or binary); the frames of a
    // compressed message are DEFLATE data, not text, until inflated as a whole.
    const messageOpcode = event.opcode === 0 ? s.opcode : undefined;
    const compressed = event.opcode === 0 ? s.compressed : isData && event.rsv1;
    if (this.options.verbose) {
      this.lines(explainFrame(event, { messageOpcode, compressed }).split('\n'), event.dir);
    } else {
      this.out(`${arrow(event.dir)} ${summarizeFrame(event, { messageOpcode, compressed })}`);
      violationLines(event).forEach((l) => this.out(l));
    }
  }

  private lines(lines: string[], dir: Direction): void {
    lines.forEach((line, i) => this.out(i === 0 ? `${arrow(dir)} ${line}` : line));
  }
}

/**
 * The handshake summary: request line, status line, the accept check, the extensions.
 * Nothing with --verbose: the decoder's handshake event is explained in full instead.
 */
export function handshakeLines(h: Handshake, verbose = false): string[] {
  if (verbose) return [];
  const esc = escapeForTerminal;
  const lines = [
    `→ ${h.request.method} ${esc(h.request.target)} ${h.request.version}  Sec-WebSocket-Key: ${h.key}`,
    `← ${esc(h.response.version ?? 'HTTP/1.1')} ${h.response.status} ${esc(h.response.reason)}  Sec-WebSocket-Accept: ${esc(h.accept ?? '(missing)')}`,
    `  accept ${h.acceptValid ? 'valid' : 'INVALID'}: base64(SHA-1(key + "${WS_GUID}")) = ${h.expectedAccept}`,
  ];
  const offered = headerValue(h.request.headers, 'sec-websocket-extensions');
  if (h.extensions) lines.push(`  extensions: ${esc(h.extensions)}`);
  else if (offered) lines.push(`  extensions: none (offered ${offered}, the server declined)`);
  return lines;
}
