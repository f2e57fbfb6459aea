/**
 * A frame explained field by field, as a teacher would on a projector (RFC 6455 §5.2):
 * the bits of the first two bytes under their names, the length form and why it was
 * chosen, the masking key and the unmasking of the first bytes, the payload, the close
 * code, the violations. Pure functions of a FrameEvent: plain text lines, no colours, no
 * I/O. The pieces are exported separately so that other views can reuse them.
 */
import type { FrameEvent, Violation } from '../decoder/events';
import { headerFields, type HeaderField } from '../decoder/fields';
import { escapeForTerminal, quoteForTerminal } from './escape';
import { minimalLengthForm, RULES } from '../decoder/constants';
import { closeCodeName, opcodeMeaning } from './names';
import { showPayload, spacedHex, splitCutCharacters, utf8OrNull } from './payload';

export interface ExplainOptions {
  /** How many payload bytes the unmasking walk-through shows (default 8). */
  unmaskBytes?: number;
  /** Hex dumps show at most this many bytes (default 256). */
  maxDumpBytes?: number;
  /** Text payloads show at most this many characters (default 2000). */
  maxTextChars?: number;
  /**
   * The opcode of the message a continuation frame belongs to (1 text, 2 binary), when the
   * caller knows it; a text message's fragments are then shown as text.
   */
  messageOpcode?: number;
  /** The frame's payload is compressed (permessage-deflate, RFC 7692). */
  compressed?: boolean;
}

/** Width of the label column of every explanation line. */
const LABEL = 15;
/** The label column of an explanation line: frames and handshakes line up. */
export const label = (name: string) => `  ${name.padEnd(LABEL)}`;

/** What a field's value means, one short phrase per field of the first two bytes. */
function fieldMeaning(field: HeaderField): string {
  const v = field.value as number;
  switch (field.key) {
    case 'fin':
      return v ? 'final frame of its message' : 'more fragments of this message follow';
    case 'rsv1':
      return v ? 'set: "compressed" under permessage-deflate (RFC 7692 §6), else must be 0' : 'no extension meaning';
    case 'rsv2':
    case 'rsv3':
      return v ? 'set: only an extension may use it, else must be 0 (RFC 6455 §5.2)' : 'no extension meaning';
    case 'opcode':
      return opcodeMeaning(v);
    case 'mask':
      return v ? 'payload masked with the masking key' : 'payload not masked';
    case 'payloadLen':
      if (v === 126) return 'the length follows in 16 bits';
      if (v === 127) return 'the length follows in 64 bits';
      return 'the payload length itself';
    default:
      return '';
  }
}

/**
 * The first two bytes bit by bit: a row with all 16 bits, then one row per field with
 * its bits in place (dots elsewhere), its value and its meaning. `header` holds at least
 * the 2 fixed bytes.
 */
export function headerBitRows(header: Buffer): string[] {
  if (header.length < 2) return [];
  const byteBits = (b: number) => b.toString(2).padStart(8, '0');
  const rows = [
    `${label('')}byte 0    byte 1`,
    `${label('')}${byteBits(header[0])}  ${byteBits(header[1])}`,
  ];
  for (const field of headerFields(header)) {
    if (field.bitOffset >= 16) continue;
    let diagram = '';
    for (let bit = 0; bit < 16; bit++) {
      if (bit === 8) diagram += '  ';
      const inField = bit >= field.bitOffset && bit < field.bitOffset + field.bitLength;
      diagram += inField ? field.bits[bit - field.bitOffset] : '.';
    }
    const value = String(field.value).padEnd(4);
    rows.push(`${label(field.name)}${diagram}  ${value} ${fieldMeaning(field)}`.trimEnd());
  }
  return rows;
}

/** The extended payload length bytes, if any, with their value. */
export function extendedLengthRows(header: Buffer): string[] {
  const rows: string[] = [];
  for (const field of headerFields(header)) {
    if (field.key !== 'extendedLength16' && field.key !== 'extendedLength64') continue;
    const bytes = header.subarray(2, 2 + field.bitLength / 8);
    const value = field.bitLength === 64 ? bytes.readBigUInt64BE(0).toString() : String(field.value);
    rows.push(`${label('Extended len')}${spacedHex(bytes)} = ${value} (${field.bitLength}-bit unsigned, network byte order)`);
  }
  return rows;
}

/**
 * The payload length as the header states it, exactly: a 64-bit length above 2^53 (e.g. one
 * with its top bit set) is read from the header bytes rather than the event's number.
 */
export function exactPayloadLength(frame: FrameEvent): string {
  const header = Buffer.from(frame.header, 'hex');
  if (frame.lengthForm === 64 && header.length >= 10 && (header[1] & 0x7f) === 127) return header.readBigUInt64BE(2).toString();
  return String(frame.payloadLength);
}

/**
 * Which length form carried the length and why; a second line flags a non-minimal
 * encoding (RFC 6455 §5.2: "the minimal number of bytes MUST be used").
 */
export function lengthExplanation(payloadLength: number, lengthForm: 7 | 16 | 64, exact = String(payloadLength)): string[] {
  const bytes = `${exact} byte${payloadLength === 1 ? '' : 's'}`;
  let why: string;
  if (lengthForm === 7) why = '7-bit form: lengths 0-125 are written in Payload len itself';
  else if (lengthForm === 16) why = '16-bit form: Payload len 126, then the length in 2 bytes (for 126-65535 bytes)';
  else why = '64-bit form: Payload len 127, then the length in 8 bytes (for 65536 bytes and more; top bit 0)';
  const rows = [`${label('length')}${bytes}, ${why} (RFC 6455 §5.2)`];
  const minimal = minimalLengthForm(payloadLength);
  if (minimal !== lengthForm) {
    rows.push(`${label('')}NOT minimal: ${exact} fits the ${minimal}-bit form, and the minimal number of bytes MUST be used`);
  }
  return rows;
}

/**
 * The masking key and the unmasking of the first `count` payload bytes, one XOR per
 * line: masked ^ key[i % 4] = clear (RFC 6455 §5.3). `clear` is the unmasked payload (the
 * masked bytes are recomputed from it: XOR is its own inverse).
 */
export function maskingRows(maskKey: string | null, clear: Buffer, count = 8, total = clear.length): string[] {
  if (maskKey === null) {
    return [`${label('Masking-key')}none: the payload travels as is (servers never mask; clients always must, RFC 6455 §5.1)`];
  }
  const key = Buffer.from(maskKey, 'hex');
  const rows = [
    `${label('Masking-key')}${spacedHex(key)}`,
    `${label('unmasking')}clear[i] = masked[i] XOR key[i mod 4] (RFC 6455 §5.3)`,
  ];
  if (clear.length === 0) {
    rows.push(total > 0 ? '    (no payload bytes kept to unmask)' : '    (empty payload: nothing to unmask)');
    return rows;
  }
  const n = Math.min(count, clear.length);
  const hex = (b: number) => b.toString(16).padStart(2, '0');
  const width = String(n - 1).length + 2;
  for (let i = 0; i < n; i++) {
    const k = key[i % 4];
    const plain = clear[i];
    const printable = plain >= 0x20 && plain < 0x7f ? `  '${String.fromCharCode(plain)}'` : '';
    rows.push(`    ${`[${i}]`.padEnd(width)} ${hex(plain ^ k)} ^ ${hex(k)} = ${hex(plain)}${printable}`);
  }
  if (clear.length > n) rows.push(`    ... ${clear.length - n} more bytes unmasked the same way`);
  return rows;
}

/** The payload (`payload`: frame.payload's bytes): close code and reason, text, indented JSON or a hex dump. */
export function payloadRows(frame: FrameEvent, options: ExplainOptions = {}, payload = Buffer.from(frame.payload, 'hex')): string[] {
  const length = exactPayloadLength(frame);
  const shown =
    frame.payloadTruncated || payload.length < frame.payloadLength
      ? ` (first ${payload.length} of ${length} bytes kept)`
      : '';
  if (payload.length === 0 && frame.payloadLength > 0) {
    // Cut by the preview cap (--max-payload), or decoding stopped inside the header.
    return [`${label(frame.opcode === 0x8 ? 'close body' : 'payload')}${length} bytes, none of them kept`];
  }
  if (frame.opcode === 0x8) {
    if (frame.payloadLength === 0) return [`${label('close body')}empty: no status code (allowed, RFC 6455 §5.5.1)`];
    if (frame.closeCode !== undefined) {
      const rows = [`${label('close code')}${frame.closeCode} ${frame.closeCodeName ?? closeCodeName(frame.closeCode)} (bytes ${spacedHex(payload.subarray(0, 2))}, RFC 6455 §7.4)`];
      const reason = frame.closeReason ?? '';
      rows.push(`${label('close reason')}${reason === '' ? '(none)' : quoteForTerminal(reason)}`);
      return rows;
    }
    const why = frame.payloadTruncated ? 'cut by --max-payload' : 'not a valid code + reason';
    return [`${label('close body')}${length} bytes${shown}, ${why}:`, ...showPayload(payload, { asText: false, maxDumpBytes: options.maxDumpBytes, indent: '    ' }).lines];
  }
  if (frame.payloadLength === 0) return [`${label('payload')}empty`];
  if (options.compressed) {
    return [
      `${label('payload')}${length} bytes compressed with permessage-deflate (RFC 7692)${shown}; the message shows it inflated`,
      ...showPayload(payload, { asText: false, maxDumpBytes: options.maxDumpBytes, indent: '    ' }).lines,
    ];
  }
  const messageOpcode = frame.opcode === 0 ? options.messageOpcode : frame.opcode;
  // Text messages are shown as text; ping and pong bodies too when they happen to be text.
  const asText = messageOpcode === 0x1 || frame.opcode === 0x9 || frame.opcode === 0xa;
  // A text fragment may start or end inside a character (§5.4 cuts anywhere), and so may
  // a preview cut by --max-payload: show the text and the cut bytes apart.
  const isFragment = frame.opcode === 0 || !frame.fin;
  const truncated = shown !== '';
  if (messageOpcode === 0x1 && (isFragment || truncated) && utf8OrNull(payload) === null) {
    const cut = splitCutCharacters(payload, frame.opcode === 0, !frame.fin || truncated);
    if (cut) {
      const parts: string[] = [];
      if (cut.head.length) parts.push(`${spacedHex(cut.head)} (the end of a character begun in the previous fragment)`);
      if (cut.text !== '') parts.push(quoteForTerminal(cut.text));
      if (cut.tail.length) {
        parts.push(`${spacedHex(cut.tail)} (${truncated ? 'a character cut by the preview' : 'a character cut here: its rest must come in the next fragment'})`);
      }
      const kind = isFragment ? 'text fragment' : 'text';
      return [`${label('payload')}${kind}, ${length} byte${frame.payloadLength === 1 ? '' : 's'}${shown}`, `    ${parts.join(' then ')}`];
    }
  }
  const view = showPayload(payload, { asText, maxDumpBytes: options.maxDumpBytes, maxTextChars: options.maxTextChars, indent: '    ' });
  const kind = view.kind === 'json' ? 'JSON' : view.kind === 'text' ? 'text' : asText ? 'bytes (not valid UTF-8)' : 'bytes';
  return [`${label('payload')}${kind}, ${length} byte${frame.payloadLength === 1 ? '' : 's'}${shown}`, ...view.lines];
}

/** One line per violation: rule id, RFC section, message. */
export function violationRows(violations: Violation[]): string[] {
  if (violations.length === 0) return [];
  return [
    `${label('violations')}${violations.length}`,
    ...violations.map((v) => {
      const section = v.section ?? (RULES as Record<string, { section: string }>)[v.rule]?.section;
      return `    ! ${escapeForTerminal(v.rule)}${section ? ` (${section})` : ''}: ${escapeForTerminal(v.message)}`;
    }),
  ];
}

/** The title line of a frame: who sent it, where it is, how big it is. */
export function frameTitle(frame: FrameEvent): string {
  const to = frame.dir === 'client' ? 'server' : 'client';
  const headerLength = frame.header.length / 2;
  return `frame #${frame.index}  ${frame.dir} -> ${to}  conn ${frame.conn}  offset ${frame.offset}  ${headerLength}-byte header + ${exactPayloadLength(frame)}-byte payload`;
}

/** The whole explanation of one frame, lines joined with "\n" (no trailing newline). */
export function explainFrame(frame: FrameEvent, options: ExplainOptions = {}): string {
  const header = Buffer.from(frame.header, 'hex');
  const payload = Buffer.from(frame.payload, 'hex');
  const lines = [
    frameTitle(frame),
    `${label('header bytes')}${spacedHex(header)}`,
    ...headerBitRows(header),
    ...extendedLengthRows(header),
    ...lengthExplanation(frame.payloadLength, frame.lengthForm, exactPayloadLength(frame)),
    ...(frame.masked && frame.maskKey === null
      ? [`${label('Masking-key')}MASK is 1, but the decoder stopped before the masking key (see the violations)`]
      : maskingRows(frame.maskKey, payload, options.unmaskBytes ?? 8, frame.payloadLength)),
    ...payloadRows(frame, options, payload),
    ...violationRows(frame.violations),
  ];
  return lines.join('\n');
}
