/**
 * Explains a stream of events, in order. Pure apart from the little state it needs to
 * explain a frame in context: which message a continuation frame belongs to (text or
 * binary) and whether that message is compressed (RSV1 on its first frame when
 * permessage-deflate was negotiated, RFC 7692 §6.1).
 */
import type { Direction, WsEvent } from '../decoder/events';
import { escapeForTerminal } from './escape';
import { explainFrame, type ExplainOptions } from './frame';
import { explainHandshake, explainHttp } from './handshake';
import { explainMessage } from './message';

export interface TextRendererOptions extends Omit<ExplainOptions, 'messageOpcode' | 'compressed'> {
  /** Treat permessage-deflate as negotiated on every connection (raw frames with no handshake). */
  assumeDeflate?: boolean;
}

interface OpenMessage {
  opcode: number;
  compressed: boolean;
}

export class TextRenderer {
  private readonly deflate = new Map<number, boolean>();
  private readonly open = new Map<string, OpenMessage>();
  /** Per conn/dir: the last data frame was a whole message whose payload was shown in full. */
  private readonly shown = new Map<string, boolean>();

  constructor(private readonly options: TextRendererOptions = {}) {}

  /** The explanation of one event: lines joined with "\n", no trailing newline. */
  render(event: WsEvent): string {
    switch (event.event) {
      case 'listening':
        return `listening  proxy ${event.proxy}${event.backend ? `  backend ${event.backend}` : ''}${event.target ? `  target ${escapeForTerminal(event.target)}` : ''}`;
      case 'open':
        return `open  conn ${event.conn}  client ${escapeForTerminal(event.client)} -> ${escapeForTerminal(event.target)}${event.note ? `\n    (${escapeForTerminal(event.note)})` : ''}`;
      case 'handshake':
        this.deflate.set(event.conn, Boolean(event.permessageDeflate) || /(^|,)\s*permessage-deflate\b/i.test(event.extensions ?? ''));
        return explainHandshake(event);
      case 'http':
        return explainHttp(event);
      case 'frame': {
        const key = `${event.conn}/${event.dir}`;
        let current = this.open.get(key);
        if (event.opcode === 0x1 || event.opcode === 0x2) {
          // Compressed: RSV1 with permessage-deflate negotiated. With no handshake seen (raw
          // frames), trust the decoder: RSV1 it did not flag is RSV1 an extension defines.
          const negotiated = this.deflate.get(event.conn) ?? !event.violations.some((v) => v.rule === 'rsv-without-extension');
          const deflate = this.options.assumeDeflate || negotiated;
          current = { opcode: event.opcode, compressed: deflate && event.rsv1 };
          this.open.set(key, current);
        }
        const text = explainFrame(event, { ...this.options, messageOpcode: current?.opcode, compressed: event.opcode < 0x8 && current?.compressed });
        if (event.opcode < 0x8) {
          const whole = event.fin && event.opcode !== 0 && !current?.compressed && !event.payloadTruncated;
          this.shown.set(key, whole);
          if (event.fin) this.open.delete(key);
        }
        return text;
      }
      case 'message': {
        // A one-frame message repeats its frame's payload: say so instead of showing it twice.
        const key = `${event.conn}/${event.dir}`;
        const shownAbove = event.frames === 1 && !event.compressed && this.shown.get(key) === true;
        this.shown.delete(key);
        return explainMessage(event, { ...this.options, shownAbove });
      }
      case 'protocol':
        return `protocol  conn ${event.conn}  ${escapeForTerminal(event.protocol)}  (${escapeForTerminal(event.reason)})`;
      case 'end':
        return `end  conn ${event.conn}  ${escapeForTerminal(event.reason)}  (client sent ${event.bytes.client} bytes, server ${event.bytes.server})`;
      case 'error':
        return `error${event.conn !== undefined ? `  conn ${event.conn}` : ''}  ${escapeForTerminal(event.message)}`;
      case 'intercept':
        // One line from the stage itself (src/intercept/engine.ts), e.g. "script onFrame dropped client ping frame #0".
        return `intercept  conn ${event.conn}  ${event.action}  ${escapeForTerminal(event.explain)}`;
    }
  }

  /** Forgets a connection's state (call when it ends, to keep memory bounded). */
  forget(conn: number): void {
    this.deflate.delete(conn);
    for (const dir of ['client', 'server'] as Direction[]) {
      this.open.delete(`${conn}/${dir}`);
      this.shown.delete(`${conn}/${dir}`);
    }
  }
}
