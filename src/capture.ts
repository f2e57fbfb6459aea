/**
 * Capture files (`wsscope proxy --save FILE`): the raw bytes of every connection, both
 * directions, with timestamps, so that replaying a capture re-runs the decoder and yields
 * the same events as the live session (DESIGN.md, "Capture files").
 *
 * Format: NDJSON. The first line is `{"format":"wsscope-capture","version":1}`; then, in
 * arrival order, `open` lines (the open event), `data` lines
 * `{"event":"data","conn":1,"dir":"client","ts":...,"bytes":"<hex>"}` holding every raw chunk
 * (handshake included), `error` lines of a connection, and `end` lines (the end event).
 * Lines with an unknown `event` are skipped, so that later versions may add events.
 *
 * Memory is bounded both ways: the writer splits chunks into pieces of at most
 * MAX_DATA_BYTES (the decoder yields the same events whatever the chunking, and every
 * piece keeps the chunk's ts), and the reader refuses lines longer than MAX_LINE_CHARS.
 */
import * as fs from 'fs';
import { StringDecoder } from 'string_decoder';
import type { ConnectionDecoder } from './decoder';
import { createDecoder } from './protocols';
import type { Direction, EndEvent, ErrorEvent, InterceptEvent, OpenEvent, WsEvent } from './decoder/events';
import type { DataListener, Session } from './session';

export const CAPTURE_FORMAT = 'wsscope-capture';
export const CAPTURE_VERSION = 1;
/** The writer's largest `bytes` per data line (a socket read is at most 64 KiB anyway). */
export const MAX_DATA_BYTES = 64 * 1024;
/** The reader's longest accepted line: a full data line is about 2 * 64 KiB + 100. */
export const MAX_LINE_CHARS = 1024 * 1024;

export type CaptureRecord =
  | { kind: 'header'; line: number; version: number }
  | { kind: 'open'; line: number; event: OpenEvent }
  | { kind: 'data'; line: number; conn: number; dir: Direction; ts: number; bytes: Buffer }
  | { kind: 'end'; line: number; event: EndEvent }
  | { kind: 'error'; line: number; event: ErrorEvent }
  | { kind: 'intercept'; line: number; event: InterceptEvent };

/** A malformed capture: `message` is one line, "SOURCE:LINE: what is wrong". */
export class CaptureFormatError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${source}:${line}: ${reason}`);
    this.name = 'CaptureFormatError';
  }
}

// ---------------------------------------------------------------------------------------
// Writing

/** The header line and the data lines of one chunk, without the trailing newline. */
export function headerLine(): string {
  return JSON.stringify({ format: CAPTURE_FORMAT, version: CAPTURE_VERSION });
}

export function dataLines(conn: number, dir: Direction, ts: number, chunk: Buffer): string[] {
  const lines: string[] = [];
  for (let start = 0; start < chunk.length; start += MAX_DATA_BYTES) {
    const bytes = chunk.subarray(start, start + MAX_DATA_BYTES).toString('hex');
    lines.push(`{"event":"data","conn":${conn},"dir":"${dir}","ts":${ts},"bytes":"${bytes}"}`);
  }
  return lines;
}

/** Events a capture keeps besides data: those that replay cannot re-derive from the bytes. */
export function isCapturedEvent(event: WsEvent): event is OpenEvent | EndEvent | ErrorEvent | InterceptEvent {
  // An intercept line keeps what a hook or the terminal UI changed, with the original
  // frame: the data lines hold what each side really received.
  return event.event === 'open' || event.event === 'end' || event.event === 'intercept' || (event.event === 'error' && event.conn !== undefined);
}

/**
 * Streams a capture to a file while the session runs. The file is opened synchronously so
 * that an unwritable path fails at once (the caller turns the error into one line).
 */
export class CaptureWriter {
  readonly stream: fs.WriteStream;
  private detach: (() => void)[] = [];

  constructor(readonly path: string) {
    const fd = fs.openSync(path, 'w');
    this.stream = fs.createWriteStream(path, { fd, autoClose: true });
    this.stream.on('error', () => {
      /* reported by close(); a full disk must not crash the proxy */
    });
    this.write(headerLine());
  }

  /** Subscribes to a session: open/end/error lines and every raw chunk. */
  attach(session: Session): this {
    this.detach.push(
      session.onEvent((event) => {
        if (isCapturedEvent(event)) this.write(JSON.stringify(event));
      }),
      session.onData((conn, dir, ts, chunk) => {
        for (const line of dataLines(conn, dir, ts, chunk)) this.write(line);
      }),
    );
    return this;
  }

  private write(line: string): void {
    if (!this.stream.destroyed) this.stream.write(line + '\n');
  }

  /** Unsubscribes, flushes and closes the file. */
  close(): Promise<void> {
    for (const off of this.detach.splice(0)) off();
    return new Promise((resolve, reject) => {
      if (this.stream.destroyed) return resolve();
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}

// ---------------------------------------------------------------------------------------
// Reading

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isConn = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isTs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Parses one line of a capture. `lineNo` counts from 1; the first non-blank line must be
 * the header. Returns null for blank lines and lines with an unknown `event`.
 */
export function parseCaptureLine(text: string, lineNo: number, source = 'capture', first = lineNo === 1): CaptureRecord | null {
  const fail = (reason: string): never => {
    throw new CaptureFormatError(source, lineNo, reason);
  };
  const trimmed = text.trim();
  if (trimmed === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    fail(first ? 'not a wsscope capture (the first line is not JSON)' : 'not a JSON line');
  }
  if (!isObject(value)) return fail('not a JSON object');
  if (first) {
    if (value.format !== CAPTURE_FORMAT) {
      // A golden file or `--ui json` output is NDJSON too: point at the file that was meant.
      if (typeof value.event === 'string') fail('decoded events (a golden file or --ui json output), not a capture: use the .capture.ndjson that --save writes');
      fail(`not a wsscope capture (the first line must be {"format":"${CAPTURE_FORMAT}","version":${CAPTURE_VERSION}})`);
    }
    if (value.version !== CAPTURE_VERSION) fail(`unsupported capture version ${JSON.stringify(value.version)} (this wsscope reads version ${CAPTURE_VERSION})`);
    return { kind: 'header', line: lineNo, version: CAPTURE_VERSION };
  }
  const event = value.event;
  if (typeof event !== 'string') return fail('no "event" field');
  if (event !== 'data' && event !== 'open' && event !== 'end' && event !== 'error' && event !== 'intercept') return null;
  if (!isTs(value.ts)) fail(`${event} line without a numeric "ts"`);
  if (event === 'intercept') {
    if (!isConn(value.conn) || (value.dir !== 'client' && value.dir !== 'server') || typeof value.action !== 'string' || !Array.isArray(value.sent)) {
      fail('intercept line without "conn", "dir", "action" and "sent"');
    }
    return { kind: 'intercept', line: lineNo, event: value as unknown as InterceptEvent };
  }
  if (event === 'error') {
    if (typeof value.message !== 'string') fail('error line without a "message" string');
    if (value.conn !== undefined && !isConn(value.conn)) fail('error line with a bad "conn"');
    return { kind: 'error', line: lineNo, event: value as unknown as ErrorEvent };
  }
  if (!isConn(value.conn)) fail(`${event} line without a non-negative integer "conn"`);
  if (event === 'data') {
    if (value.dir !== 'client' && value.dir !== 'server') fail('data line with "dir" other than "client" or "server"');
    const hex = value.bytes;
    if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) fail('data line whose "bytes" is not hex');
    return {
      kind: 'data',
      line: lineNo,
      conn: value.conn as number,
      dir: value.dir as Direction,
      ts: value.ts as number,
      bytes: Buffer.from(hex as string, 'hex'),
    };
  }
  if (event === 'open') {
    if (typeof value.client !== 'string' || typeof value.target !== 'string') fail('open line without "client" and "target" strings');
    return { kind: 'open', line: lineNo, event: value as unknown as OpenEvent };
  }
  const bytes = value.bytes;
  if (typeof value.reason !== 'string') fail('end line without a "reason" string');
  if (!isObject(bytes) || typeof bytes.client !== 'number' || typeof bytes.server !== 'number') {
    fail('end line without "bytes": {"client": N, "server": N}');
  }
  return { kind: 'end', line: lineNo, event: value as unknown as EndEvent };
}

/**
 * Reads a capture line by line from a file (or any readable stream), with bounded memory.
 * Throws CaptureFormatError (one line, naming the line) on the first malformed line, and
 * the fs error for an unreadable file.
 */
export async function* readCapture(input: string | NodeJS.ReadableStream, source?: string): AsyncGenerator<CaptureRecord> {
  const name = source ?? (typeof input === 'string' ? input : 'capture');
  const stream = typeof input === 'string' ? fs.createReadStream(input) : input;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNo = 0;
  let sawHeader = false;
  function* lines(text: string, final: boolean): Generator<CaptureRecord> {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      yield* one(line);
    }
    if (pending.length > MAX_LINE_CHARS) {
      throw new CaptureFormatError(name, lineNo + 1, `line longer than ${MAX_LINE_CHARS} characters`);
    }
    if (final && pending !== '') {
      const line = pending;
      pending = '';
      yield* one(line);
    }
  }
  function* one(line: string): Generator<CaptureRecord> {
    lineNo++;
    if (line.length > MAX_LINE_CHARS) throw new CaptureFormatError(name, lineNo, `line longer than ${MAX_LINE_CHARS} characters`);
    const record = parseCaptureLine(line, lineNo, name, !sawHeader);
    if (record) {
      sawHeader = true;
      yield record;
    }
  }
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      yield* lines(typeof chunk === 'string' ? chunk : decoder.write(chunk), false);
    }
    yield* lines(decoder.end(), true);
    if (!sawHeader) throw new CaptureFormatError(name, Math.max(lineNo, 1), 'empty file: not a wsscope capture');
  } finally {
    if (typeof input === 'string') (stream as fs.ReadStream).destroy();
  }
}

// ---------------------------------------------------------------------------------------
// Replaying

export interface ReplayOptions {
  maxPayload?: number;
  /** `--protocol NAME`: the application protocol of every connection (src/protocols). */
  protocol?: string;
  /**
   * Receives every data record's raw chunk before the decoder does, as the live proxy
   * publishes a chunk (session.publishData) before decoding it: for writers of the raw
   * bytes (`wsscope replay --pcap`). Left out, a replay publishes events only.
   */
  onData?: DataListener;
}

/**
 * Re-runs the decoder over captured records, publishing what the live proxy published:
 * open events as recorded, the decoder's events for the data, error events as recorded, and
 * for an end line `finish(ts)` then the end event (the proxy does the same, in that order);
 * with `onData`, each chunk goes there before it is decoded. Connections left open at the
 * end of the file are finished with the last ts seen.
 */
export class CaptureReplayer {
  private readonly decoders = new Map<number, ConnectionDecoder>();
  private lastTs = 0;

  constructor(
    private readonly publish: (event: WsEvent) => void,
    private readonly options: ReplayOptions = {},
  ) {}

  private decoder(conn: number): ConnectionDecoder {
    let decoder = this.decoders.get(conn);
    if (!decoder) {
      decoder = createDecoder({ conn, maxPayload: this.options.maxPayload, protocol: this.options.protocol, onEvent: this.publish });
      this.decoders.set(conn, decoder);
    }
    return decoder;
  }

  /** Feeds one record. */
  feed(record: CaptureRecord): void {
    switch (record.kind) {
      case 'header':
        return;
      case 'open':
        this.lastTs = record.event.ts;
        this.decoder(record.event.conn);
        this.publish(record.event);
        return;
      case 'data':
        this.lastTs = record.ts;
        this.options.onData?.(record.conn, record.dir, record.ts, record.bytes);
        this.decoder(record.conn).push(record.dir, record.bytes, record.ts);
        return;
      case 'error':
      case 'intercept':
        this.lastTs = record.event.ts;
        this.publish(record.event);
        return;
      case 'end': {
        this.lastTs = record.event.ts;
        const decoder = this.decoders.get(record.event.conn);
        this.decoders.delete(record.event.conn);
        decoder?.finish(record.event.ts);
        this.publish(record.event);
        return;
      }
    }
  }

  /** Finishes the connections the capture left open (e.g. the proxy was killed). */
  finish(): void {
    for (const decoder of this.decoders.values()) decoder.finish(this.lastTs);
    this.decoders.clear();
  }
}

/** Replays a whole capture (a file path or a stream) into `publish`; resolves when done. */
export async function replayCaptureFile(input: string | NodeJS.ReadableStream, publish: (event: WsEvent) => void, options: ReplayOptions & { source?: string } = {}): Promise<void> {
  const replayer = new CaptureReplayer(publish, options);
  for await (const record of readCapture(input, options.source)) replayer.feed(record);
  replayer.finish();
}
