/**
 * The Hex view: an offset/hex/ASCII dump of a frame as it crossed the wire (header,
 * extended length, masking key, masked payload), each byte coloured like its field in
 * the Fields diagram. Byte 0 holds FIN, RSV1-3 (high nibble) and the opcode (low nibble),
 * so its two hex digits get the two colours; byte 1 is MASK + Payload len.
 */
import type { FrameEvent } from '../decoder/events';
import { FIELD_COLOURS, wirePayload } from './fields';
import { allLines, seg, type Colour, type Doc, type Line, type Seg } from './text';

export const HEX_PER_ROW = 16;

/** The frame's bytes as sent: the header, then the payload masked again with the key. */
export function wireBytes(frame: FrameEvent): { bytes: Buffer; headerLength: number } {
  const header = Buffer.from(frame.header, 'hex');
  return { bytes: Buffer.concat([header, wirePayload(frame)]), headerLength: header.length };
}

/** The colour of each byte of a header (positions from RFC 6455 §5.2). */
function byteColour(i: number, header: Buffer): Colour | undefined {
  if (i >= header.length) return FIELD_COLOURS.payload;
  if (i === 1) return FIELD_COLOURS.payloadLen;
  const len7 = header[1] & 0x7f;
  const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  if (i < 2 + ext) return FIELD_COLOURS.extendedLength16;
  return FIELD_COLOURS.maskingKey;
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/**
 * One row per 16 bytes: "0000  81 85 37 fa ...  ..7.!=" with coloured hex and ASCII.
 * Lazy: a row is built when it is shown.
 */
export function hexDumpDoc(frame: FrameEvent): Doc {
  const { bytes, headerLength } = wireBytes(frame);
  const header = bytes.subarray(0, headerLength);
  const rows = Math.ceil(bytes.length / HEX_PER_ROW);
  const cut = frame.payloadTruncated || frame.payload.length / 2 < frame.payloadLength;
  return {
    length: rows + (cut ? 1 : 0),
    line(r: number): Line {
      if (r >= rows) return [seg(`... ${frame.payloadLength - frame.payload.length / 2} more payload bytes not kept (--max-payload)`)];
      return hexRow(bytes, header, r * HEX_PER_ROW);
    },
  };
}

export function hexDump(frame: FrameEvent): Line[] {
  return allLines(hexDumpDoc(frame));
}

function hexRow(bytes: Buffer, header: Buffer, row: number): Line {
  const headerLength = header.length;
  const line: Line = [seg(row.toString(16).padStart(6, '0') + '  ')];
  const ascii: Seg[] = [];
  for (let col = 0; col < HEX_PER_ROW; col++) {
    const i = row + col;
    if (col === 8) line.push(seg(' '));
    if (i >= bytes.length) {
      line.push(seg('   '));
      continue;
    }
    const b = bytes[i];
    if (i === 0) {
      // High nibble: FIN + RSV1-3; low nibble: opcode.
      line.push(seg(hex2(b)[0], FIELD_COLOURS.fin, { bold: true }), seg(hex2(b)[1], FIELD_COLOURS.opcode, { bold: true }), seg(' '));
    } else {
      line.push(seg(hex2(b), byteColour(i, header), { bold: i < headerLength }), seg(' '));
    }
    ascii.push(seg(b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.', i === 0 ? FIELD_COLOURS.fin : byteColour(i, header)));
  }
  return trimEnd([...line, seg(' '), ...mergeSegs(ascii)]);
}

/** The legend under the dump: which colour is which field. */
export function hexLegend(frame: FrameEvent): Line {
  const parts: Line = [
    seg('byte 0: '),
    seg('FIN+RSV', FIELD_COLOURS.fin),
    seg(' | '),
    seg('opcode', FIELD_COLOURS.opcode),
    seg('  byte 1: '),
    seg('MASK+Payload len', FIELD_COLOURS.payloadLen),
  ];
  if (frame.lengthForm !== 7) parts.push(seg('  '), seg('extended length', FIELD_COLOURS.extendedLength16));
  if (frame.maskKey) parts.push(seg('  '), seg('masking key', FIELD_COLOURS.maskingKey), seg('  payload (masked, as sent)'));
  else parts.push(seg('  payload'));
  return parts;
}

/** Joins neighbouring segments of the same style (fewer tags for blessed to parse). */
function mergeSegs(segs: Seg[]): Seg[] {
  const out: Seg[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (last && last.fg === s.fg && last.bold === s.bold) last.t += s.t;
    else out.push({ ...s });
  }
  return out;
}

function trimEnd(line: Line): Line {
  while (line.length && line[line.length - 1].t.trim() === '') line = line.slice(0, -1);
  return line;
}
