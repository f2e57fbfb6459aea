/**
 * The NDJSON output (`--ui json`): exactly the events of DESIGN.md, one JSON object a line,
 * nothing else (human messages go to stderr).
 *
 * Four things keep it cheap on the proxy's hot path:
 *   - the lines of small frame and message events (most of them on a chatty connection)
 *     come from a template of their usual shape, checked first (frameTemplate);
 *   - lines are batched and written every few milliseconds (or every 256 KiB): stdout
 *     redirected to a file or a pipe writes synchronously, one syscall per write;
 *   - the hex fields of frame and message events (a 64 KiB payload is 128 KiB of hex) are
 *     copied into the line without JSON's escape scan: hex needs no escaping. Every other
 *     value goes through JSON.stringify, and keys keep the event's own order, so a line is
 *     exactly JSON.stringify(event);
 *   - a large payload whose hex was never made into a string (the decoder's lazy hex) is
 *     written as hex digits straight from its bytes into the line's Buffer (eventChunk):
 *     making the 128 KiB string, then encoding it back into bytes for the file, cost 4
 *     times as much as writing the digits.
 */
import type { Writable } from 'stream';
import type { FrameEvent, MessageEvent, WsEvent } from '../decoder/events';
import { lazyHexBytes, writeHexPairs } from '../decoder/strings';
import type { Session } from '../session';

/** Keys whose string values are lowercase hex by contract (events.ts). */
const HEX_KEYS = new Set(['header', 'maskKey', 'payload', 'data']);
const HEX = /^[0-9a-f]*$/;
/** Hex strings shorter than this are not worth the shortcut (one JSON.stringify is faster). */
const SHORTCUT_MIN = 8192;

/**
 * True for the decoder's hex strings. A full regex test costs as much as the copy it saves
 * (0.15 ms for 128 KiB), so: the start must be hex, and nothing JSON would escape may
 * occur (a quote or a backslash, found by the engine's fast single-character search;
 * control characters cannot come out of hex encoding).
 */
function looksHex(value: string): boolean {
  return HEX.test(value.slice(0, 64)) && value.indexOf('"') < 0 && value.indexOf('\\') < 0;
}

/**
 * The keys of the decoder's frame and message events, in the order it makes them
 * (frames.ts frameEvent, messages.ts). An event with exactly these keys in this order, of
 * the contract's types, has its line made by a template: 2-3 times faster than
 * JSON.stringify on the small events of a chatty connection (the NDJSON worker's largest
 * cost, measured with --cpu-prof under 16-byte messages). Anything else (a close frame's
 * extra fields, a field another stage added, a value of an unexpected type) takes
 * JSON.stringify, so a line is always exactly JSON.stringify(event).
 */
const FRAME_KEYS = ['event', 'ts', 'conn', 'dir', 'index', 'offset', 'header', 'fin', 'rsv1', 'rsv2', 'rsv3', 'opcode', 'opcodeName', 'masked', 'maskKey', 'payloadLength', 'lengthForm', 'payload', 'payloadTruncated', 'violations'];
const MESSAGE_KEYS = ['event', 'ts', 'conn', 'dir', 'opcode', 'opcodeName', 'frames', 'length', 'compressed', '', 'truncated', 'violations'];
/** Strings put between quotes as they are: nothing in them JSON would escape. */
const PLAIN = /^[0-9a-z]*$/;

function hasKeys(record: object, keys: string[], slot: string | null): boolean {
  let i = 0;
  for (const k in record) {
    const want = keys[i++];
    if (k !== want && !(want === '' && k === slot)) return false;
  }
  return i === keys.length;
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const bool = (v: unknown): v is boolean => v === true || v === false;
const plain = (v: unknown): v is string => typeof v === 'string' && PLAIN.test(v);

/** The line of a small frame event by template, or null when it is not of the usual shape. */
function frameTemplate(e: FrameEvent): string | null {
  if (
    !hasKeys(e, FRAME_KEYS, null) ||
    !num(e.ts) || !num(e.conn) || !plain(e.dir) || !num(e.index) || !num(e.offset) || !plain(e.header) ||
    !bool(e.fin) || !bool(e.rsv1) || !bool(e.rsv2) || !bool(e.rsv3) || !num(e.opcode) || !plain(e.opcodeName) || !bool(e.masked) ||
    !(e.maskKey === null || plain(e.maskKey)) || !num(e.payloadLength) || !num(e.lengthForm) || !plain(e.payload) ||
    !bool(e.payloadTruncated) || !Array.isArray(e.violations)
  ) {
    return null;
  }
  return (
    `{"event":"frame","ts":${e.ts},"conn":${e.conn},"dir":"${e.dir}","index":${e.index},"offset":${e.offset},"header":"${e.header}",` +
    `"fin":${e.fin},"rsv1":${e.rsv1},"rsv2":${e.rsv2},"rsv3":${e.rsv3},"opcode":${e.opcode},"opcodeName":"${e.opcodeName}",` +
    `"masked":${e.masked},"maskKey":${e.maskKey === null ? 'null' : `"${e.maskKey}"`},"payloadLength":${e.payloadLength},` +
    `"lengthForm":${e.lengthForm},"payload":"${e.payload}","payloadTruncated":${e.payloadTruncated},` +
    `"violations":${e.violations.length === 0 ? '[]' : JSON.stringify(e.violations)}}\n`
  );
}

/** The line of a small message event by template, or null when it is not of the usual shape. */
function messageTemplate(e: MessageEvent): string | null {
  const text = e.text !== undefined;
  if (
    !hasKeys(e, MESSAGE_KEYS, text ? 'text' : 'data') ||
    !num(e.ts) || !num(e.conn) || !plain(e.dir) || !num(e.opcode) || !plain(e.opcodeName) || !num(e.frames) || !num(e.length) ||
    !bool(e.compressed) || !bool(e.truncated) || !Array.isArray(e.violations) || (text ? typeof e.text !== 'string' : !plain(e.data))
  ) {
    return null;
  }
  return (
    `{"event":"message","ts":${e.ts},"conn":${e.conn},"dir":"${e.dir}","opcode":${e.opcode},"opcodeName":"${e.opcodeName}",` +
    `"frames":${e.frames},"length":${e.length},"compressed":${e.compressed},` +
    (text ? `"text":${JSON.stringify(e.text)}` : `"data":"${e.data}"`) +
    `,"truncated":${e.truncated},"violations":${e.violations.length === 0 ? '[]' : JSON.stringify(e.violations)}}\n`
  );
}

/** JSON.stringify(event) + "\n", faster for small frames and messages and for large hex payloads. */
export function eventLine(event: WsEvent): string {
  // Small events: one JSON.stringify call is fastest.
  const big =
    (event.event === 'frame' && event.payload.length >= SHORTCUT_MIN) ||
    (event.event === 'message' && event.data !== undefined && event.data.length >= SHORTCUT_MIN);
  if (!big) {
    const line = event.event === 'frame' ? frameTemplate(event) : event.event === 'message' ? messageTemplate(event) : null;
    return line ?? JSON.stringify(event) + '\n';
  }
  let out = '{';
  let first = true;
  const record = event as unknown as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    let text: string | undefined;
    if (typeof value === 'string' && value.length >= 64 && HEX_KEYS.has(key) && looksHex(value)) text = `"${value}"`;
    else text = JSON.stringify(value);
    if (text === undefined) continue; // undefined and functions are left out, as JSON.stringify does
    out += `${first ? '' : ','}"${key}":${text}`;
    first = false;
  }
  return out + '}\n';
}

/**
 * The digits last written by eventChunk: a single-frame message's `data` is its frame's
 * `payload` (the same bytes), so its line copies them instead of encoding them again.
 */
let lastHex: { bytes: Buffer | null; digits: Buffer } = { bytes: null, digits: Buffer.alloc(0) };

/**
 * The line of eventLine(event) as UTF-8 bytes when the event has a large lazy hex field
 * (frame `payload`, message `data`) whose string was never made: the digits are written
 * straight from the payload's bytes. Otherwise eventLine(event), the string.
 */
export function eventChunk(event: WsEvent): string | Buffer {
  const key = event.event === 'frame' ? 'payload' : event.event === 'message' ? 'data' : null;
  const bytes = key === null ? null : lazyHexBytes(event, key);
  if (bytes === null || bytes.length < SHORTCUT_MIN / 2) return eventLine(event);
  // The JSON around the hex: `{...,"payload":"` and `",...}\n`, keys in the event's order.
  let before = '{';
  let after = '';
  const record = event as unknown as Record<string, unknown>;
  for (const k in record) {
    if (k === key) {
      before += `${before === '{' ? '' : ','}"${k}":"`;
      after = '"';
      continue;
    }
    const text = JSON.stringify(record[k]);
    if (text === undefined) continue; // left out, as JSON.stringify does
    if (after) after += `,"${k}":${text}`;
    else before += `${before === '{' ? '' : ','}"${k}":${text}`;
  }
  after += '}\n';
  const head = Buffer.byteLength(before);
  const total = head + 2 * bytes.length + Buffer.byteLength(after);
  // The digits are stored two at a time (16-bit), so they must start at an even offset:
  // the line starts at 0 or 1 of its own ArrayBuffer.
  const skew = head & 1;
  const buf = Buffer.allocUnsafeSlow(total + skew);
  buf.write(before, skew, 'utf8');
  const at = skew + head;
  if (bytes === lastHex.bytes) lastHex.digits.copy(buf, at);
  else {
    writeHexPairs(bytes, 0, bytes.length, new Uint16Array(buf.buffer, buf.byteOffset + at, bytes.length), 0);
    lastHex = { bytes, digits: buf.subarray(at, at + 2 * bytes.length) };
  }
  buf.write(after, at + 2 * bytes.length, 'utf8');
  return skew ? buf.subarray(1) : buf;
}

/** Lines at least this long are written at once, not joined with others. */
const BIG_LINE = 64 * 1024;

/** How long a line may wait for company before it is written (invisible to a reader). */
export const FLUSH_MS = 5;

/**
 * Collects lines and writes them in one `write` every FLUSH_MS, or sooner when `maxPending`
 * characters are waiting: one write (a syscall, or a trip to libuv's thread pool for a
 * file stream) per batch instead of per event. `flush()` writes what is pending at once.
 */
export class LineBatcher {
  private pending: string[] = [];
  private size = 0;
  private scheduled = false;

  constructor(
    private readonly out: Writable,
    private readonly maxPending = 256 * 1024,
  ) {}

  push(line: string | Buffer): void {
    if (typeof line !== 'string' || line.length >= BIG_LINE) {
      // A large line goes out on its own: joining it with the others would copy it again.
      this.flush();
      if (!this.out.destroyed && !this.out.writableEnded) this.out.write(line);
      return;
    }
    this.pending.push(line);
    this.size += line.length;
    if (this.size >= this.maxPending) this.flush();
    else if (!this.scheduled) {
      // One timer at a time: a flush for size (or a big line) leaves it running, for the
      // lines that follow (a reset in flush() started one more timer per 256 KiB of lines).
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        this.flush();
      }, FLUSH_MS);
    }
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    this.size = 0;
    if (!this.out.destroyed && !this.out.writableEnded) this.out.write(text);
  }
}

/**
 * Writes every event of a session to `out`, batched (see LineBatcher); returns a function
 * that unsubscribes and writes what is still pending.
 */
export function attachJsonView(session: Session, out: Writable): () => void {
  const batcher = new LineBatcher(out);
  const off = session.onEvent((event) => batcher.push(eventChunk(event)));
  return () => {
    off();
    batcher.flush();
  };
}
