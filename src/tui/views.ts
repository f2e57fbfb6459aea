/**
 * The panes and detail views of the terminal UI as pure functions: store records in,
 * styled lines out (see text.ts). No blessed here, so that every screen is testable as
 * exact strings.
 */
import { WS_GUID } from '../decoder/constants';
import { hexFieldPrefix } from '../decoder/strings';
import type { HandshakeEvent, HttpEvent, MessageEvent, Violation } from '../decoder/events';
import { appPackets, appRows, appSummary } from '../explain/app';
import { closeCodeName, modeSummary, tlsSummary } from '../explain/names';
import { prettyJson, spacedHex, utf8OrNull } from '../explain/payload';
import { localTime } from '../views/text';
import { bitDiagram, definedOpcodeName, fieldTable, lengthFormLines, opcodeShort, xorLines } from './fields';
import { hexDumpDoc, hexLegend } from './hex';
import { PROTOCOL_NAMES } from '../protocols/types';
import { ruleInfo } from './rules';
import { frameViolations, type ConnRecord, type FrameRecord } from './store';
import { bytes, doc, fit, seg, thousands, visible, wordWrap, wrapText, type Colour, type Doc, type Line } from './text';

// ---------------------------------------------------------------------------------------
// Shared bits

/** Direction at a glance: an arrow pointing from the sender, and a colour per side. */
export const DIR_COLOURS: Record<'client' | 'server', Colour> = { client: 'green', server: 'cyan' };
export const dirArrow = (dir: 'client' | 'server') => (dir === 'client' ? 'C ──▶ S' : 'C ◀── S');

export const PREVIEW_BYTES = 256;
/** Bytes of a hex preview: 383 columns, more than a row of any terminal has room for. */
export const HEX_PREVIEW_BYTES = 128;

/** App text unescaped here: the renderer (visible) makes it safe, as it does every payload. */
const raw = (text: string): string => text;

/** The opcode of the message a frame belongs to (a continuation takes its group's). */
function messageOpcode(r: FrameRecord): number {
  return r.ev.opcode === 0 && r.group ? r.group.opcode : r.ev.opcode;
}

/** One line of payload for the frames list (made visible later by the renderer). */
export function preview(r: FrameRecord): string {
  const ev = r.ev;
  // What the message carries (src/protocols), on the frame that completed it.
  const app = r.group?.message?.app && (r.groupPos === 'last' || r.groupPos === 'only') ? appSummary(r.group.message.app, raw) : null;
  if (app !== null) return `◆ ${app}`;
  // Only the bytes shown: reading ev.payload would make the whole hex string of a large
  // payload (and unmask it) for every frame on screen (issue #13).
  const payload = hexFieldPrefix(ev, 'payload', PREVIEW_BYTES);
  if (ev.opcode === 0x8) {
    if (ev.closeCode === undefined) return ev.payloadLength === 0 ? '(no status code)' : spacedHex(payload);
    return `${ev.closeCode} ${closeCodeName(ev.closeCode)}${ev.closeReason ? ` "${ev.closeReason}"` : ''}`;
  }
  if (r.group?.compressed) {
    const m = r.group.message;
    if (m && (r.groupPos === 'last' || r.groupPos === 'only')) {
      // An inflated binary message is hex like any other binary payload (spaced).
      return `⇲ ${m.text !== undefined ? m.text : spacedHex(hexFieldPrefix(m, 'data', HEX_PREVIEW_BYTES))}`;
    }
    return `(compressed) ${spacedHex(payload.subarray(0, HEX_PREVIEW_BYTES))}`;
  }
  if (ev.payloadLength === 0) return '';
  const op = messageOpcode(r);
  if (op === 0x1 || op === 0x9 || op === 0xa) {
    // Lossy on purpose: a preview may cut a character in two; the Payload view is exact.
    const text = payload.toString('utf8');
    if (op === 0x1 || /^[\x20-\x7e\u00a0-\uffff\s]*$/.test(text)) return text;
  }
  return spacedHex(payload.subarray(0, HEX_PREVIEW_BYTES));
}

// ---------------------------------------------------------------------------------------
// The connections pane

const STATE_COLOURS: Record<string, Colour> = { open: 'green', handshaking: 'yellow', closing: 'yellow', http: 'magenta' };

/** Wide terminals get frames and bytes each way; narrow ones frame counts only. */
const wideConns = (cols: number) => cols >= 110;

export function connectionsHeader(cols: number): Line {
  const traffic = wideConns(cols) ? `${fit('C ──▶ S', 17)}${fit('C ◀── S', 17)}` : fit('frames ▶ ◀', 14);
  return [seg(`${fit('   #', 7)}${fit('client', 22)}${fit('state', 12)}${traffic}target`, undefined, { bold: true })];
}

export function connectionRow(c: ConnRecord, selected: boolean, cols: number): Line {
  const last = c.http[c.http.length - 1];
  const state = c.passThrough ? (c.state === 'closed' ? 'http closed' : 'http pass') : c.state;
  const mode = modeSummary(c.open);
  // The upstream of a forward request or a tunnel holds the client's request path: escaped.
  let target = visible(`${mode ? `${mode} ` : ''}${c.open?.upstream ?? c.target}`);
  if (c.passThrough && last) {
    target += visible(`  ${last.request.method} ${last.request.target}${last.response ? ` → ${last.response.status}` : ''}`);
  }
  const traffic: Line = wideConns(cols)
    ? (['client', 'server'] as const).map((dir) => seg(fit(`${thousands(c.framesBy[dir])} ${c.messagesOnly ? 'msg' : 'fr'} ${bytes(c.bytesBy[dir])}`, 16) + ' ', DIR_COLOURS[dir]))
    : [
        seg(fit(`▶${thousands(c.framesBy.client)}`, 6), DIR_COLOURS.client),
        seg(fit(` ◀${thousands(c.framesBy.server)}`, 8), DIR_COLOURS.server),
      ];
  const line: Line = [
    seg(selected ? '▶' : ' ', undefined, { bold: true }),
    seg(c.errors.length ? '!' : ' ', 'red', { bold: true }),
    seg(fit(`${c.id}`, 4, 'right') + ' '),
    seg(fit(c.client, 21) + ' '),
    seg(fit(state, 11) + ' ', STATE_COLOURS[c.passThrough ? 'http' : c.state]),
    ...traffic,
    seg(target),
  ];
  return selected ? line.map((s) => ({ ...s, inverse: true })) : line;
}

// ---------------------------------------------------------------------------------------
// The frames pane

const COLS = { time: 12, dir: 7, op: 6, len: 9 };

export function framesHeader(): Line {
  return [
    seg(
      `    ${fit('time', COLS.time)} ${fit('dir', COLS.dir)}  ${fit('opcode', COLS.op)} FIN RSV MASK ${fit('length', COLS.len, 'right')}  payload`,
      undefined,
      { bold: true },
    ),
  ];
}

/** The group marker: ┌ first fragment, ├ middle, └ last, │ control frame in between. */
const GROUP_MARKS: Record<string, string> = { first: '┌', middle: '├', last: '└', inside: '│', orphan: '?', only: ' ' };

export function frameRow(r: FrameRecord, selected: boolean): Line {
  const ev = r.ev;
  const bad = frameViolations(r).length > 0;
  const dirColour = DIR_COLOURS[ev.dir];
  const rsv = `${ev.rsv1 ? 1 : 0}${ev.rsv2 ? 1 : 0}${ev.rsv3 ? 1 : 0}`;
  const line: Line = [
    seg(selected ? '▶' : ' ', undefined, { bold: true }),
    seg(bad ? '!' : ' ', 'red', { bold: true }),
    seg(GROUP_MARKS[r.groupPos ?? ''] ?? ' ', 'yellow', { bold: true }),
    seg(' '),
    seg(fit(localTime(ev.ts), COLS.time) + ' '),
    seg(dirArrow(ev.dir), dirColour, { bold: true }),
    seg('  '),
    seg(fit(opcodeShort(ev.opcode), COLS.op), ev.opcode >= 8 ? 'magenta' : dirColour),
    // A message-only row (a HAR's) has no frame header: its bits are not known, not 0.
    seg(r.messageOnly ? '  -  ---  -  ' : `  ${ev.fin ? 1 : 0}  ${rsv}  ${ev.masked ? 1 : 0}  `),
    seg(fit(thousands(ev.payloadLength), COLS.len, 'right') + '  '),
    seg(visible(preview(r))),
  ];
  return selected ? line.map((s) => ({ ...s, inverse: true })) : line;
}

// ---------------------------------------------------------------------------------------
// Detail views

export type DetailView = 'fields' | 'hex' | 'payload' | 'handshake' | 'violations';
export const DETAIL_VIEWS: { view: DetailView; key: string; title: string }[] = [
  { view: 'fields', key: '1', title: 'Fields' },
  { view: 'hex', key: '2', title: 'Hex' },
  { view: 'payload', key: '3', title: 'Payload' },
  { view: 'handshake', key: '4', title: 'Handshake' },
  { view: 'violations', key: '5', title: 'Violations' },
];

/** The title line of a frame's detail: where it is and what it is. */
export function frameTitle(r: FrameRecord): Line {
  const ev = r.ev;
  if (r.messageOnly) {
    return [
      seg(`conn ${ev.conn}  `, undefined, { bold: true }),
      seg(`${dirArrow(ev.dir)}`, DIR_COLOURS[ev.dir], { bold: true }),
      seg(`  ${ev.dir} message #${ev.index}  ${localTime(ev.ts)}  ${definedOpcodeName(ev.opcode) ?? opcodeShort(ev.opcode)}  ${thousands(ev.payloadLength)}-byte payload  (from a HAR: no frame detail)`),
    ];
  }
  const headerLength = ev.header.length / 2;
  return [
    seg(`conn ${ev.conn}  `, undefined, { bold: true }),
    seg(`${dirArrow(ev.dir)}`, DIR_COLOURS[ev.dir], { bold: true }),
    seg(`  ${ev.dir} frame #${ev.index}  ${localTime(ev.ts)}  offset ${ev.offset}  ${definedOpcodeName(ev.opcode) ?? opcodeShort(ev.opcode)}  ${headerLength}-byte header + ${thousands(ev.payloadLength)}-byte payload`),
  ];
}

/**
 * What a message-only row (a HAR's) cannot show, said plainly where the frame's fields,
 * bits and bytes would be.
 */
export function noFrameDetail(r: FrameRecord, cols: number): Line[] {
  const lines: Line[] = [frameTitle(r), []];
  const para = (text: string, colour?: Colour) => wordWrap(text, Math.max(20, cols - 2)).forEach((part) => lines.push([seg(part, colour)]));
  lines.push([seg('A HAR has no frame detail.', 'yellow', { bold: true })]);
  para(
    'This message was read from a HAR file (saved by browser DevTools), which records each message after reassembly and decompression: its frames were not recorded. So the header fields are absent here: FIN, RSV1-3, the opcode bits, MASK and the masking key, the payload length and its form, fragmentation and permessage-deflate compression are not known (not zero), and control frames (ping, pong, close) are not in the file.',
  );
  lines.push([]);
  para(`What the HAR does record: the sender (${r.ev.dir}), the time, the type (${definedOpcodeName(r.ev.opcode) ?? opcodeShort(r.ev.opcode)}) and the payload: see 3 Payload; the recorded handshake: 4 Handshake.`);
  return lines;
}

export function fieldsView(r: FrameRecord, cols = 120): Line[] {
  if (r.messageOnly) return noFrameDetail(r, cols);
  const ev = r.ev;
  const lines: Line[] = [frameTitle(r), [], ...bitDiagram(ev), [], ...fieldTable(ev), [], ...lengthFormLines(ev), [], ...xorLines(ev)];
  const violations = frameViolations(r);
  if (violations.length) lines.push([], [seg(`! ${violations.length} violation${violations.length > 1 ? 's' : ''}: see view 5`, 'red', { bold: true })]);
  return lines;
}

export function hexView(r: FrameRecord, cols = 120): Doc {
  if (r.messageOnly) {
    const data = Buffer.from(r.ev.payload, 'hex');
    return doc(noFrameDetail(r, cols), [[], [seg(`The message's payload bytes (${thousands(r.ev.payloadLength)}):`, undefined, { bold: true })]], plainHexDump(data));
  }
  return doc([frameTitle(r), []], hexDumpDoc(r.ev), [[], hexLegend(r.ev)]);
}

/** A plain hex dump of bytes (for payloads): offset, 16 hex bytes, ASCII; rows built lazily. */
export function plainHexDump(data: Buffer, indent = '  '): Doc {
  return {
    length: Math.ceil(data.length / 16),
    line(r: number): Line {
      const row = r * 16;
      const chunk = data.subarray(row, row + 16);
      let ascii = '';
      for (const b of chunk) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      return [seg(indent), seg(row.toString(16).padStart(6, '0') + '  '), seg(`${spacedHex(chunk).padEnd(48)} ${ascii}`.trimEnd())];
    },
  };
}

/** Text shown as text (wrapped), or JSON indented; every character made visible. */
function textLines(text: string, cols: number, indent = '  '): Line[] {
  const json = prettyJson(text);
  const source = json ?? text;
  const lines: Line[] = [];
  for (const raw of source.split('\n')) {
    for (const part of wrapText(visible(raw), Math.max(10, cols - indent.length))) lines.push([seg(indent), seg(part)]);
  }
  return lines;
}

/** A payload: text (or JSON) when it should be and is valid UTF-8, else a hex dump. */
function payloadBody(data: Buffer, asText: boolean, cols: number): { kind: string; lines: Line[] | Doc } {
  const text = asText ? utf8OrNull(data) : null;
  if (text !== null) return { kind: prettyJson(text) !== null ? 'JSON' : 'text', lines: textLines(text, cols) };
  return { kind: asText ? 'bytes (not valid UTF-8)' : 'bytes', lines: plainHexDump(data) };
}

/** A message's bytes as the decoder kept them (its text as UTF-8, or its data; capped at --max-payload). */
function messageBytes(m: MessageEvent): Buffer {
  return m.text !== undefined ? Buffer.from(m.text, 'utf8') : Buffer.from(m.data ?? '', 'hex');
}

/** Records looked at, and messages gathered, when finding the messages a packet came from (per render). */
const MAX_PACKET_WALK = 20_000;
const MAX_PACKET_MESSAGES = 1000;

/**
 * The messages a packet was reassembled from (`app.fromMessages`: mqtt.js writes one MQTT
 * packet as several WebSocket messages, a Socket.IO binary event is a text message and its
 * attachments), oldest first and ending with r's own, found among the connection's kept
 * frames by their message index; null when some of them are no longer in the store.
 */
function packetMessages(r: FrameRecord, c: ConnRecord, count: number): MessageEvent[] | null {
  const last = r.messageIndex;
  if (last === undefined || !r.group?.message || c.frames.length <= c.head) return null;
  const first = last - Math.min(count, MAX_PACKET_MESSAGES) + 1;
  const out: MessageEvent[] = [r.group.message];
  // Sequence numbers are contiguous per connection: r's place in c.frames.
  let i = c.head + (r.n - c.frames[c.head].n) - 1;
  for (let walked = 0; i >= c.head && walked < MAX_PACKET_WALK && out.length < last - first + 1; i--, walked++) {
    const f = c.frames[i];
    if (f.ev.dir !== r.ev.dir || f.messageIndex === undefined || !f.group?.message) continue;
    if (f.messageIndex < first) break;
    out.unshift(f.group.message);
  }
  return out.length === last - first + 1 ? out : null;
}

export function payloadView(r: FrameRecord, cols: number, c?: ConnRecord): Doc {
  const ev = r.ev;
  const data = Buffer.from(ev.payload, 'hex');
  // Eager lines, with lazy hex dumps in between (parts), joined into one doc at the end.
  const parts: (Line[] | Doc)[] = [];
  let lines: Line[] = [frameTitle(r), []];
  const lazy = (d: Doc) => {
    parts.push(lines, d);
    lines = [];
  };
  const kept = data.length < ev.payloadLength ? ` (first ${thousands(data.length)} of ${thousands(ev.payloadLength)} bytes kept)` : '';
  const head = (text: string) => lines.push([seg(text, undefined, { bold: true })]);
  if (ev.opcode === 0x8) {
    if (ev.closeCode !== undefined) {
      head(`Close frame: status code ${ev.closeCode} (${closeCodeName(ev.closeCode)}), RFC 6455 §7.4`);
      lines.push([seg('  reason: '), seg(ev.closeReason ? `"${visible(ev.closeReason)}"` : '(none)')]);
    } else {
      head(ev.payloadLength === 0 ? 'Close frame with no status code (allowed, §5.5.1)' : `Close frame body, ${ev.payloadLength} bytes (not a code + reason):`);
      lazy(plainHexDump(data));
    }
    return doc(...parts, lines);
  }
  const group = r.group;
  const op = messageOpcode(r);
  const app = group?.message?.app && (r.groupPos === 'last' || r.groupPos === 'only') ? group.message.app : undefined;
  if (app) {
    // The decoded packet(s) first, the raw bytes below.
    head(`Application protocol (${r.ev.dir} message ${r.messageIndex ?? '?'}): what the message carries`);
    for (const row of appRows(app, '  ', raw)) {
      for (const part of wrapText(visible(row), Math.max(10, cols - 4))) lines.push([seg(part, /^\s*(violations|!)/.test(part) ? 'red' : undefined)]);
    }
    lines.push([]);
    // A packet reassembled from several messages: the bytes of all of them, not just this frame's.
    const from = Math.max(0, ...appPackets(app).map((p) => (typeof p.fromMessages === 'number' ? p.fromMessages : 0)));
    const msgs = from > 1 && c ? packetMessages(r, c, from) : null;
    if (from > 1) {
      const first = (r.messageIndex ?? 0) - Math.min(from, MAX_PACKET_MESSAGES) + 1;
      if (msgs) {
        const sizes = msgs.map((m) => messageBytes(m).length);
        const total = sizes.reduce((a, b) => a + b, 0);
        const cut = msgs.some((m) => m.truncated) ? ' (some cut at --max-payload)' : '';
        head(`The ${from > MAX_PACKET_MESSAGES ? `last ${MAX_PACKET_MESSAGES} of the ` : ''}${from} messages it was reassembled from: ${r.ev.dir} messages ${first}-${r.messageIndex}, ${sizes.join(' + ')} = ${thousands(total)} bytes${cut}`);
        lazy(plainHexDump(Buffer.concat(msgs.map(messageBytes))));
        lines.push([]);
      } else {
        lines.push([seg(`(${r.ev.dir} messages ${first}-${r.messageIndex}, which it was reassembled from, are no longer all in the store)`)], []);
      }
    }
  }
  if (group?.compressed) {
    head(`This frame's payload as sent: ${thousands(ev.payloadLength)} bytes compressed with permessage-deflate (RFC 7692)${kept}`);
    lazy(plainHexDump(data));
  } else {
    const body = payloadBody(data, op === 0x1 || op === 0x9 || op === 0xa, cols);
    const whose = r.messageOnly ? "This message's payload (from a HAR: no frame detail)" : "This frame's payload";
    head(`${whose}: ${body.kind}, ${thousands(ev.payloadLength)} byte${ev.payloadLength === 1 ? '' : 's'}${kept}`);
    if (Array.isArray(body.lines)) lines.push(...body.lines);
    else lazy(body.lines);
  }
  if (group && (group.compressed || r.groupPos !== 'only')) {
    lines.push([]);
    const m = group.message;
    const kind = definedOpcodeName(group.opcode);
    const part =
      r.groupPos === 'only' ? 'a one-frame message' : m ? `frame ${r.groupIndex} of the ${m.frames} frames of a ${kind} message (§5.4)` : `frame ${r.groupIndex} of a fragmented ${kind} message (§5.4)`;
    if (!m) {
      head(`This frame is ${part}; the message is not complete yet.`);
    } else {
      const what = m.compressed ? 'inflated' : 'reassembled';
      head(`This frame is ${part}. The ${what} message: ${thousands(m.length)} bytes in ${m.frames} frame${m.frames > 1 ? 's' : ''}${m.truncated ? ' (cut at --max-payload)' : ''}`);
      if (m.text !== undefined) lines.push(...textLines(m.text, cols));
      else lazy(plainHexDump(Buffer.from(m.data ?? '', 'hex')));
    }
  }
  return doc(...parts, lines);
}

/** The accept value computed step by step (RFC 6455 §4.2.2, item 5.4). */
export function acceptSteps(hs: HandshakeEvent): Line[] {
  const lines: Line[] = [[seg('Sec-WebSocket-Accept, step by step (RFC 6455 §4.2.2):', undefined, { bold: true })]];
  if (hs.key === null) {
    lines.push([seg('  the request has no Sec-WebSocket-Key: nothing to compute', 'red')]);
    return lines;
  }
  // The decoder's own result (computeAccept) and verdict; the SHA-1 is its base64 decoded.
  const expected = hs.expectedAccept ?? '';
  const sha1 = Buffer.from(expected, 'base64');
  lines.push(
    [seg('  1. key (from the request)   '), seg(visible(hs.key), 'yellow')],
    [seg('  2. key + GUID               '), seg(visible(hs.key), 'yellow')],
    [seg('                              + '), seg(WS_GUID, 'cyan')],
    [seg('  3. SHA-1 of that (20 bytes) '), seg(sha1.toString('hex'))],
    [seg('  4. base64 of the hash       '), seg(expected, 'green', { bold: true })],
  );
  if (hs.accept === null) lines.push([seg('  5. the response has no Sec-WebSocket-Accept', 'red', { bold: true })]);
  else {
    const ok = hs.acceptValid;
    lines.push([
      seg('  5. the server sent          '),
      seg(visible(hs.accept), ok ? 'green' : 'red', { bold: true }),
      seg(ok ? '  ✓ matches' : '  ✗ does NOT match: the client must fail the connection', ok ? 'green' : 'red', { bold: true }),
    ]);
  }
  return lines;
}

/** A request or response head as sent; long header lines wrap (indented) instead of being cut. */
function headLines(title: string, first: string, headers: [string, string][], cols: number): Line[] {
  const lines: Line[] = [[seg(title, undefined, { bold: true })]];
  const wrapped = (text: string, style: (part: string, i: number) => Line) =>
    wordWrap(text, Math.max(10, cols - 4)).forEach((part, i) => lines.push([seg(i === 0 ? '  ' : '    '), ...style(part, i)]));
  wrapped(visible(first), (part) => [seg(part)]);
  for (const [name, value] of headers) {
    const n = visible(name);
    // The name in its colour on the first line; the rest of the text plain.
    wrapped(`${n}: ${visible(value)}`, (part, i) => (i === 0 && part.startsWith(n) ? [seg(n, 'cyan'), seg(part.slice(n.length))] : [seg(part)]));
  }
  return lines;
}

function httpLines(h: HttpEvent, cols: number): Line[] {
  const req = h.request;
  const lines = headLines('Request (client → server), as sent:', `${req.method} ${req.target} ${req.version}`, req.headers, cols);
  if (h.response) {
    const res = h.response;
    lines.push(...headLines('Response (server → client):', `${res.version ?? 'HTTP/1.1'} ${res.status} ${res.reason}`, res.headers, cols));
  }
  return lines;
}

const MODE_WORDS: Record<string, string> = {
  reverse: 'reverse proxy to --target',
  forward: 'forward proxy (an absolute-form request)',
  tunnel: 'CONNECT tunnel',
};

/** How the connection came and went: mode, upstream, and each side's TLS (version, cipher, ALPN, SNI). */
function tlsView(c: ConnRecord): Line[] {
  const open = c.open;
  if (!open?.mode) return [];
  const bold = (text: string) => seg(text, undefined, { bold: true });
  return [
    [bold('Mode:        '), seg(`${MODE_WORDS[open.mode] ?? visible(open.mode)}${open.passthrough ? ', relayed blind (--passthrough)' : ''}`)],
    [bold('Upstream:    '), seg(open.upstream ? visible(open.upstream) : 'not dialled')],
    [bold('Client TLS:  '), seg(visible(tlsSummary(open.tls)))],
    [bold('Server TLS:  '), seg(open.upstream ? visible(tlsSummary(open.upstreamTls)) : '-')],
  ];
}

export function handshakeView(c: ConnRecord | undefined, cols = 200): Line[] {
  if (!c) return [[seg('No connection selected.')]];
  const title: Line = [seg(`conn ${c.id}  ${c.client} → ${visible(c.target)}  ${c.state}`, undefined, { bold: true })];
  const hs = c.handshake;
  const tlsLines = tlsView(c);
  if (!hs) {
    if (c.http.length) {
      const lines: Line[] = [title, ...tlsLines, [seg('HTTP pass-through: no WebSocket upgrade on this connection; the exchanges:')]];
      for (const h of c.http) lines.push([], ...httpLines(h, cols));
      return lines;
    }
    if (c.state !== 'closed') return [title, ...tlsLines, [], [seg('Waiting for the opening handshake (RFC 6455 §4).')]];
    const lines: Line[] = [title, ...tlsLines, [], [seg('The connection closed without a complete opening handshake (RFC 6455 §4).')]];
    for (const e of c.errors.slice(-20)) lines.push([seg('  '), seg(visible(e), 'red')]);
    return lines;
  }
  // What the connection's events cannot show (a HAR's "messages only"), first.
  const note: Line[] = c.open?.note ? wordWrap(visible(c.open.note), Math.max(20, cols - 2)).map((part) => [seg(part, 'yellow')]) : [];
  const lines: Line[] = [title, ...note, ...tlsLines, [], ...httpLines({ event: 'http', ts: hs.ts, conn: hs.conn, request: hs.request, response: hs.response }, cols), [], ...acceptSteps(hs), []];
  lines.push([seg('Subprotocol: ', undefined, { bold: true }), seg(hs.protocol === null ? 'none' : visible(hs.protocol))]);
  const proto = hs.app ?? c.protocol;
  lines.push([seg('Application: ', undefined, { bold: true }), seg(proto ? `${visible(proto.protocol)} (${visible(proto.reason)})` : 'none recognised')]);
  wrapText(hs.extensions === null ? 'none' : visible(hs.extensions), Math.max(10, cols - 13)).forEach((part, i) =>
    lines.push([seg(i === 0 ? 'Extensions:  ' : '             ', undefined, { bold: true }), seg(part)]),
  );
  const d = hs.permessageDeflate;
  if (d) {
    const bits = (v: number | true | null) => (v === null ? 'not given (15)' : v === true ? 'offered without a value (15)' : String(v));
    lines.push(
      [seg('  permessage-deflate (RFC 7692): messages with RSV1 set are compressed')],
      [seg(`    server_no_context_takeover  ${d.serverNoContextTakeover ? 'yes' : 'no'}`)],
      [seg(`    client_no_context_takeover  ${d.clientNoContextTakeover ? 'yes' : 'no'}`)],
      [seg(`    server_max_window_bits      ${bits(d.serverMaxWindowBits)}`)],
      [seg(`    client_max_window_bits      ${bits(d.clientMaxWindowBits)}`)],
    );
  }
  if (hs.violations.length) lines.push([], ...violationLines(hs.violations, 100));
  return lines;
}

/** Rule ids of src/protocols: the protocol's name and a hyphen (DESIGN.md), or the layer's own `app-`. */
function isAppRule(rule: string): boolean {
  return rule.startsWith('app-') || PROTOCOL_NAMES.some((p) => rule.startsWith(`${p}-`));
}

/** Each violation: rule id, RFC section, the RFC's sentence (and our note on it), and what was seen. */
export function violationLines(violations: Violation[], cols: number): Line[] {
  const lines: Line[] = [];
  for (const v of violations) {
    const info = ruleInfo(v.rule);
    // A rule of an application protocol (src/protocols) names its own spec, never RFC 6455.
    const section = v.section ?? info?.section ?? (isAppRule(v.rule) ? '' : 'RFC 6455');
    lines.push([seg('! ', 'red', { bold: true }), seg(v.rule, 'red', { bold: true }), ...(section ? [seg(`  ${visible(section)}`, 'yellow')] : [])]);
    wordWrap(visible(v.message), Math.max(20, cols - 10)).forEach((part, i) => lines.push([seg(i === 0 ? '    seen: ' : '          '), seg(part)]));
    if (info) {
      const wrapped = wordWrap(`"${info.sentence}"`, Math.max(20, cols - 10));
      wrapped.forEach((part, i) => lines.push([seg(i === 0 ? '    RFC:  ' : '          '), seg(part, 'cyan')]));
      // Our note is not the RFC's text: apart from the quote, unquoted and labelled as ours.
      if (info.note) wordWrap(`(ours) ${info.note}`, Math.max(20, cols - 10)).forEach((part, i) => lines.push([seg(i === 0 ? '    note: ' : '          '), seg(part)]));
    }
    lines.push([]);
  }
  return lines;
}

export function violationsView(r: FrameRecord | undefined, c: ConnRecord | undefined, cols: number): Line[] {
  const lines: Line[] = [];
  if (r) {
    const v = frameViolations(r);
    lines.push(frameTitle(r), []);
    if (v.length === 0) lines.push([seg(r.messageOnly ? 'This message breaks no rule the decoder checks (a HAR has no frames to check).' : 'This frame breaks no rule the decoder checks.', 'green')], []);
    else lines.push(...violationLines(v, cols));
  } else lines.push([seg('No frame selected.')], []);
  if (c?.handshake?.violations.length) lines.push([seg('The handshake of this connection:', undefined, { bold: true })], ...violationLines(c.handshake.violations, cols));
  if (c?.errors.length) {
    lines.push([seg('Errors on this connection:', undefined, { bold: true })]);
    for (const e of c.errors.slice(-20)) lines.push([seg('  '), seg(visible(e), 'red')]);
  }
  return lines;
}

/** The frame views need a frame; Handshake needs only the connection. */
export function detailDoc(view: DetailView, r: FrameRecord | undefined, c: ConnRecord | undefined, cols: number): Doc {
  if (view === 'handshake') return doc(handshakeView(c, cols));
  if (view === 'violations') return doc(violationsView(r, c, cols));
  if (!r) return doc([[seg(c ? 'No frame selected: frames appear here as they cross the proxy.' : 'No connection yet: point a WebSocket client at the proxy.')]]);
  if (view === 'fields') return doc(fieldsView(r, cols));
  if (view === 'hex') return hexView(r, cols);
  return payloadView(r, cols, c);
}
