/**
 * The Fields view of a frame (RFC 6455 §5.2): the header diagram of the RFC redrawn with
 * this frame's real bits, each field in its own colour and labelled with its value and
 * meaning; the table of fields; the length form and why; the masking key and the XOR
 * unmasking of the first bytes (§5.3). Pure: a FrameEvent in, styled lines out.
 */
import { isControlOpcode, isReservedOpcode, minimalLengthForm, opcodeName } from '../decoder/constants';
import type { FrameEvent } from '../decoder/events';
import { headerFields, type HeaderField, type HeaderFieldKey } from '../decoder/fields';
import { unmaskInto } from '../decoder/mask';
import { hexFieldPrefix } from '../decoder/strings';
import { spacedHex } from '../explain/payload';
import { seg, type Colour, type Line } from './text';

/** One colour per field, shared by the diagram, the field table and the hex dump. */
export const FIELD_COLOURS: Record<HeaderFieldKey | 'payload', Colour | undefined> = {
  fin: 'magenta',
  rsv1: 'yellow',
  rsv2: 'yellow',
  rsv3: 'yellow',
  opcode: 'cyan',
  mask: 'red',
  payloadLen: 'green',
  extendedLength16: 'light-green',
  extendedLength64: 'light-green',
  maskingKey: 'light-blue',
  payload: undefined,
};

/** The decoder's name of a defined opcode ("text", "close", ...); undefined for a reserved one. */
export function definedOpcodeName(opcode: number): string | undefined {
  return isReservedOpcode(opcode) ? undefined : opcodeName(opcode);
}

/** A short opcode name for narrow columns. */
export function opcodeShort(opcode: number): string {
  return opcode === 0 ? 'cont' : definedOpcodeName(opcode) ?? `0x${opcode.toString(16)}`;
}

/** What an opcode means (RFC 6455 §5.2, §11.8). */
export function opcodeMeaning(opcode: number): string {
  const name = definedOpcodeName(opcode);
  if (name === undefined) return isControlOpcode(opcode) ? 'reserved control opcode' : 'reserved non-control opcode';
  return isControlOpcode(opcode) ? `${name} (control frame)` : opcode === 0 ? 'continuation of a fragmented message' : `${name} (data frame)`;
}

/** The value and meaning of a header field, as the table and the diagram show them. */
export function fieldMeaning(field: HeaderField, frame: FrameEvent): { value: string; meaning: string } {
  const v = field.value;
  switch (field.key) {
    case 'fin':
      return { value: String(v), meaning: v ? 'final frame of the message' : 'more fragments follow' };
    case 'rsv1':
      return { value: String(v), meaning: v ? 'set: compressed (permessage-deflate, RFC 7692 §6)' : 'no extension meaning' };
    case 'rsv2':
    case 'rsv3':
      return { value: String(v), meaning: v ? 'set: needs a negotiated extension (§5.2)' : 'no extension meaning' };
    case 'opcode':
      return { value: `0x${(v as number).toString(16)}`, meaning: opcodeMeaning(v as number) };
    case 'mask':
      return {
        value: String(v),
        meaning: v ? 'payload masked' : 'payload not masked',
      };
    case 'payloadLen':
      return {
        value: String(v),
        meaning: v === 126 ? 'a 16-bit length follows' : v === 127 ? 'a 64-bit length follows' : 'the payload length',
      };
    case 'extendedLength16':
    case 'extendedLength64':
      return { value: String(frame.payloadLength), meaning: 'the payload length' };
    case 'maskingKey':
      return { value: spacedHex(Buffer.from(v as string, 'hex')), meaning: 'XOR key for the payload (§5.3)' };
  }
}

/** A stretch of one 32-bit diagram row: part of a field, or of the payload. */
interface Span {
  key: HeaderFieldKey | 'payload';
  /** Bits within the row: [start, end). */
  start: number;
  end: number;
  bits: string;
  /** Label lines (already short enough for the span). */
  labels: string[];
}

const INDENT = 6; // "   0  " : the byte offset of the row, then the diagram

function center(text: string, cols: number): string {
  const t = text.length > cols ? text.slice(0, cols) : text;
  const left = Math.floor((cols - t.length) / 2);
  return ' '.repeat(left) + t + ' '.repeat(cols - t.length - left);
}

/**
 * The kept payload as it crossed the wire (masked again with the key, §5.3), or its first
 * `count` bytes: the diagram and the hex dump show what was sent.
 */
export function wirePayload(frame: FrameEvent, count = Infinity): Buffer {
  const clear = hexFieldPrefix(frame, 'payload', count);
  if (!frame.maskKey) return clear;
  const sent = Buffer.allocUnsafe(clear.length);
  unmaskInto(clear, 0, sent, 0, clear.length, Buffer.from(frame.maskKey, 'hex'), 0);
  return sent;
}

/**
 * The §5.2 diagram with this frame's bits: rows of 32 bits, each bit two columns wide,
 * fields between `|`, borders with `+` where fields meet; under each row, four label
 * lines (name, value, meaning), 1-bit fields spelled vertically as in the RFC. The first
 * payload bytes (as sent, i.e. masked) complete the last header row.
 */
export function bitDiagram(frame: FrameEvent): Line[] {
  const header = Buffer.from(frame.header, 'hex');
  const fields = headerFields(header);
  const headerBits = header.length * 8;
  const payloadBytesWanted = frame.payloadLength === 0 ? 0 : Math.max(1, (4 - (header.length % 4)) % 4 || 4);
  const payload = wirePayload(frame, payloadBytesWanted);
  const totalBits = headerBits + payload.length * 8;
  const rows = Math.ceil(totalBits / 32);

  // Every field (and the payload stretch) cut into per-row spans.
  type Piece = { key: HeaderFieldKey | 'payload'; from: number; to: number; bits: string; field?: HeaderField };
  const pieces: Piece[] = fields.map((f) => ({ key: f.key, from: f.bitOffset, to: f.bitOffset + f.bitLength, bits: f.bits, field: f }));
  if (payload.length) {
    const bits = [...payload].map((b) => b.toString(2).padStart(8, '0')).join('');
    pieces.push({ key: 'payload', from: headerBits, to: totalBits, bits });
  }
  const rowSpans: Span[][] = [];
  for (let r = 0; r < rows; r++) {
    const spans: Span[] = [];
    for (const p of pieces) {
      const start = Math.max(p.from, r * 32);
      const end = Math.min(p.to, r * 32 + 32);
      if (start >= end) continue;
      const first = start === p.from;
      spans.push({
        key: p.key,
        start: start - r * 32,
        end: end - r * 32,
        bits: p.bits.slice(start - p.from, end - p.from),
        labels: spanLabels(p.key, p.field, frame, end - start, first),
      });
    }
    rowSpans.push(spans);
  }

  const lines: Line[] = [];
  lines.push([seg(' '.repeat(INDENT)), seg('0                   1                   2                   3')]);
  lines.push([seg(' '.repeat(INDENT)), seg('0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1')]);
  lines.push(border([], rowSpans[0] ?? []));
  for (let r = 0; r < rows; r++) {
    const spans = rowSpans[r];
    const bitsLine: Line = [seg(String(r * 4).padStart(4) + '  ')];
    for (const s of spans) {
      bitsLine.push(seg('|'), seg(s.bits.split('').join(' '), FIELD_COLOURS[s.key], { bold: true }));
    }
    bitsLine.push(seg('|'));
    lines.push(bitsLine);
    const labelCount = Math.max(...spans.map((s) => s.labels.length));
    for (let l = 0; l < labelCount; l++) {
      const line: Line = [seg(' '.repeat(INDENT))];
      for (const s of spans) line.push(seg('|'), seg(center(s.labels[l] ?? '', (s.end - s.start) * 2 - 1), FIELD_COLOURS[s.key]));
      line.push(seg('|'));
      lines.push(line);
    }
    lines.push(border(spans, rowSpans[r + 1] ?? []));
  }
  return lines.map(trimRight);
}

/**
 * The labels of one span: vertical letters for 1-bit fields (as the RFC stacks them), else
 * the decoder's field name, the value and the meaning.
 */
function spanLabels(key: HeaderFieldKey | 'payload', field: HeaderField | undefined, frame: FrameEvent, bits: number, first: boolean): string[] {
  const cols = bits * 2 - 1;
  if (key === 'payload') {
    return ['Payload Data', frame.masked ? '(as sent: masked)' : '(as sent)'].map((t) => fitLabel(t, cols));
  }
  const f = field!;
  if (bits === 1) return [0, 1, 2, 3].map((i) => f.name[i] ?? ' ');
  if (!first) {
    // "Extended payload length (64)" continues without its bit count. The last 16 bits of a
    // 64-bit length get a 31-column cell: "(continued)" alone, not a cut name.
    const label = `${f.name.replace(/ \(\d+\)$/, '')} (continued)`;
    return [fitLabel(label.length <= cols ? label : '(continued)', cols)];
  }
  const { value, meaning } = fieldMeaning(f, frame);
  const short: Record<string, string> = {
    opcode: definedOpcodeName(f.value as number) ?? 'reserved',
    payloadLen: f.value === 126 ? '16-bit next' : f.value === 127 ? '64-bit next' : 'bytes',
  };
  return [fitLabel(f.name, cols), fitLabel(`= ${value}`, cols), fitLabel(short[key] ?? meaning, cols)];
}

function fitLabel(text: string, cols: number): string {
  return text.length <= cols ? text : text.slice(0, Math.max(0, cols - 1)) + '…';
}

/** A border line between two rows: `+` wherever a field boundary of either row falls. */
function border(above: Span[], below: Span[]): Line {
  const width = Math.max(...[...above, ...below].map((s) => s.end), 0);
  if (width === 0) return [];
  const cuts = new Set<number>();
  for (const s of [...above, ...below]) {
    cuts.add(s.start);
    cuts.add(s.end);
  }
  let text = '';
  for (let bit = 0; bit <= width; bit++) {
    text += cuts.has(bit) ? '+' : '-';
    if (bit < width) text += '-';
  }
  return [seg(' '.repeat(INDENT)), seg(text)];
}

function trimRight(line: Line): Line {
  if (line.length === 0) return line;
  const last = line[line.length - 1];
  const t = last.t.replace(/\s+$/, '');
  return t === last.t ? line : [...line.slice(0, -1), ...(t ? [{ ...last, t }] : [])];
}

/** The field table: name, bit positions, value, meaning; each name in its colour. */
export function fieldTable(frame: FrameEvent): Line[] {
  const header = Buffer.from(frame.header, 'hex');
  const lines: Line[] = [[seg('field                         bits    value        meaning', undefined, { bold: true })]];
  for (const f of headerFields(header)) {
    const { value, meaning } = fieldMeaning(f, frame);
    const bits = f.bitLength === 1 ? String(f.bitOffset) : `${f.bitOffset}-${f.bitOffset + f.bitLength - 1}`;
    lines.push([seg(f.name.padEnd(30), FIELD_COLOURS[f.key]), seg(`${bits.padEnd(8)}${value.padEnd(13)}${meaning}`.trimEnd())]);
  }
  return lines;
}

/** Which length form the frame used and why (RFC 6455 §5.2). */
export function lengthFormLines(frame: FrameEvent): Line[] {
  const n = frame.payloadLength;
  const form = frame.lengthForm;
  const out: string[] = [];
  if (form === 7) out.push(`Length: 7-bit form. ${n} ≤ 125, so Payload len holds the length itself.`);
  else if (form === 16) out.push(`Length: 16-bit form. Payload len = 126, then ${n} in 2 bytes (for 126..65535).`);
  else out.push(`Length: 64-bit form. Payload len = 127, then ${n} in 8 bytes (above 65535; top bit 0).`);
  const minimal = minimalLengthForm(n);
  if (minimal !== form) {
    return [
      [seg(out[0])],
      [seg(`  NOT minimal: ${n} fits the ${minimal}-bit form; §5.2 requires the minimal number of bytes.`, 'red')],
    ];
  }
  return [[seg(out[0])]];
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');
const bin8 = (b: number) => b.toString(2).padStart(8, '0');

/**
 * The unmasking of the first `count` payload bytes, one XOR per line (RFC 6455 §5.3:
 * "octet i of the transformed data is the XOR of octet i of the original data with octet
 * at index i modulo 4 of the masking key"): masked ⊕ key = clear, in hex and in bits.
 */
export function xorLines(frame: FrameEvent, count = 8): Line[] {
  const keyColour = FIELD_COLOURS.maskingKey;
  if (!frame.maskKey) {
    return [
      [
        seg('Not masked (MASK = 0): the payload is sent as is. '),
        seg(frame.dir === 'server' ? 'A server must not mask (§5.1).' : 'A client must always mask (§5.1)!', frame.dir === 'server' ? undefined : 'red'),
      ],
    ];
  }
  const key = Buffer.from(frame.maskKey, 'hex');
  const clear = hexFieldPrefix(frame, 'payload', count);
  const lines: Line[] = [
    [seg('Masking-key '), seg(spacedHex(key), keyColour, { bold: true }), seg(': clear[i] = masked[i] ⊕ key[i mod 4] (§5.3)')],
  ];
  if (clear.length === 0) {
    lines.push([seg('  (empty payload: nothing to unmask)')]);
    return lines;
  }
  for (let i = 0; i < clear.length; i++) {
    const k = key[i & 3];
    const c = clear[i];
    const m = c ^ k;
    const ch = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : '';
    lines.push([
      seg(`  [${i}] `.padEnd(7)),
      seg(`${hex2(m)} ${bin8(m)}`),
      seg(' ⊕ '),
      seg(`${hex2(k)} ${bin8(k)}`, keyColour),
      seg(' = '),
      seg(`${hex2(c)} ${bin8(c)}`, undefined, { bold: true }),
      seg(ch ? ` ${ch}` : ''),
    ]);
  }
  if (frame.payloadLength > clear.length) lines.push([seg(`  ... ${frame.payloadLength - clear.length} more bytes unmasked the same way`)]);
  return lines;
}
