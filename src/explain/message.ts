/**
 * A complete data message explained: after reassembly of its fragments (RFC 6455 §5.4)
 * and inflation (RFC 7692), shown as text, indented JSON or a hex dump.
 */
import type { MessageEvent } from '../decoder/events';
import { showPayload } from './payload';
import { appRows } from './app';
import { violationRows, type ExplainOptions } from './frame';

/** The whole explanation of a message, lines joined with "\n". */
export function explainMessage(message: MessageEvent, options: ExplainOptions & { shownAbove?: boolean } = {}): string {
  const to = message.dir === 'client' ? 'server' : 'client';
  const isText = message.text !== undefined;
  const bytes = isText ? Buffer.from(message.text ?? '', 'utf8') : Buffer.from(message.data ?? '', 'hex');
  const parts = [
    // A HAR records messages, not frames (src/import/har.ts).
    message.source === 'har' ? 'frames not recorded (HAR)' : `${message.frames} frame${message.frames === 1 ? '' : 's'}`,
    `${message.length} byte${message.length === 1 ? '' : 's'}${message.compressed ? ' after inflating (permessage-deflate)' : ''}`,
  ];
  if (message.truncated) parts.push(`first ${bytes.length} kept`);
  const lines = [`message  ${message.dir} -> ${to}  conn ${message.conn}  ${message.opcodeName}, ${parts.join(', ')}`];
  if (options.shownAbove) {
    lines.push('    (the payload of the frame above)');
  } else if (message.length > 0 && bytes.length === 0) {
    lines.push(message.violations.length ? '    (no content: see the violations)' : '    (none of it kept)');
  } else if (message.length > 0) {
    lines.push(...showPayload(bytes, { asText: isText, maxDumpBytes: options.maxDumpBytes, maxTextChars: options.maxTextChars, indent: '    ' }).lines);
  }
  lines.push(...violationRows(message.violations));
  // What the message carries (src/protocols): its packets as a tree.
  if (message.app) lines.push('  application protocol:', ...appRows(message.app, '    '));
  return lines.join('\n');
}
