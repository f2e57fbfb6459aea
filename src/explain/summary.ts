/**
 * One-line summaries of frames and messages (send and demo print them): who, what, how
 * big, a taste of the payload, and the rules broken. Terminal-safe. (The text log's
 * one-line-per-event format is src/views/text.ts.)
 */
import type { FrameEvent, MessageEvent, Violation } from '../decoder/events';
import { quoteForTerminal } from './escape';
import { closeCodeName } from './names';
import { exactPayloadLength } from './frame';
import { utf8OrNull } from './payload';

/** At most this many characters of payload text in a summary. */
const TASTE = 40;

function taste(bytes: Buffer, asText: boolean): string {
  if (bytes.length === 0) return '';
  const text = asText ? utf8OrNull(bytes) : null;
  if (text !== null) return ' ' + quoteForTerminal(text.length > TASTE ? text.slice(0, TASTE) + '...' : text);
  const hex = bytes.subarray(0, 16).toString('hex');
  return ` ${hex}${bytes.length > 16 ? '...' : ''}`;
}

function broken(violations: Violation[]): string {
  return violations.length === 0 ? '' : ` ! ${violations.map((v) => v.rule).join(', ')}`;
}

/**
 * `options.messageOpcode`: the opcode of the message a continuation frame belongs to, when
 * the caller knows it (1: a text message's fragments then show as text when they are
 * whole UTF-8). `options.compressed`: the frame belongs to a permessage-deflate message, so
 * its payload is DEFLATE data, never shown as text. Added for wsscope send/demo.
 */
export function summarizeFrame(frame: FrameEvent, options: { messageOpcode?: number; compressed?: boolean } = {}): string {
  const flags = [frame.fin ? 'FIN' : 'no-FIN'];
  if (frame.rsv1) flags.push('RSV1');
  if (frame.rsv2) flags.push('RSV2');
  if (frame.rsv3) flags.push('RSV3');
  flags.push(frame.masked ? `masked ${frame.maskKey}` : 'unmasked');
  const payload = Buffer.from(frame.payload, 'hex');
  let body: string;
  if (frame.opcode === 0x8 && frame.closeCode !== undefined) {
    body = ` ${frame.closeCode} ${closeCodeName(frame.closeCode)}${frame.closeReason ? ' ' + quoteForTerminal(frame.closeReason) : ''}`;
  } else {
    const opcode = frame.opcode === 0x0 ? options.messageOpcode : frame.opcode;
    body = taste(payload, !options.compressed && (opcode === 0x1 || opcode === 0x9 || opcode === 0xa));
  }
  return `${frame.dir} frame #${frame.index} ${frame.opcodeName} ${flags.join(' ')} len=${exactPayloadLength(frame)}/${frame.lengthForm}-bit${body}${broken(frame.violations)}`;
}

export function summarizeMessage(message: MessageEvent): string {
  const bytes = message.text !== undefined ? Buffer.from(message.text, 'utf8') : Buffer.from(message.data ?? '', 'hex');
  const how = `${message.frames} frame${message.frames === 1 ? '' : 's'}${message.compressed ? ', deflated' : ''}`;
  return `${message.dir} message ${message.opcodeName} (${how}) ${message.length} bytes${taste(bytes, message.text !== undefined)}${broken(message.violations)}`;
}
