/**
 * `wsscope decode FILE|-` and `wsscope decode --hex "81 05 48 65 6c 6c 6f"`: decodes raw
 * frame bytes (binary or hex text), a stream that starts with the HTTP upgrade, or a
 * capture file, and explains every event (src/explain) or prints it as NDJSON.
 */
import * as fs from 'fs';
import { Readable } from 'stream';
import { parseArgs } from 'util';
import { type ConnectionDecoder, DEFAULT_MAX_PAYLOAD } from '../decoder';
import { createDecoder } from '../protocols';
import { parseHex } from '../decoder/build';
import { checkRequest, headerValue, parseRequestHead, parseResponseHead } from '../decoder/handshake';
import type { Direction, WsEvent } from '../decoder/events';
import { CaptureFormatError, replayCaptureFile } from '../capture';
import { TextRenderer } from '../explain';
import { replayImport, sniffImport, type ImportKind } from '../import';
import { CliError, parseChoice, parseMaxPayload, parseProtocol } from './errors';

const HELP = `usage: wsscope decode FILE|-  [OPTIONS]
       wsscope decode --hex "81 05 48 65 6c 6c 6f"  [OPTIONS]

Decodes WebSocket bytes offline and explains every frame field by field. The input is
recognised by its first bytes:
  - a capture file (first line {"format":"wsscope-capture",...}, see wsscope proxy --save):
    every connection is replayed from its handshake on;
  - a pcap or pcapng file (tcpdump, dumpcap, Wireshark): TCP reassembled, every WebSocket
    connection found by its upgrade request (any port) and decoded; a gap in the capture
    is reported and stops that direction;
  - a HAR file (browser DevTools, with _webSocketMessages): its messages (a HAR has no
    frame detail);
  - an HTTP upgrade: the request, the response, then one side's frames: decoded from the
    handshake on; or one side's head only ("GET ..." or "HTTP/1.1 101 ...") then that
    side's frames;
  - hex text (pairs of hex digits, any separators, # comments): raw frames;
  - anything else: raw frame bytes (streamed: any size).

  --hex HEX             the bytes as hex instead of a FILE
  --from client|server  who sent the raw frames, i.e. which masking rule applies
                        (RFC 6455 §5.1: clients mask, servers do not); default: guessed
                        from the MASK bit of the first frame (set: client, clear: server)
  --extensions VALUE    raw frames: assume this Sec-WebSocket-Extensions was negotiated,
                        e.g. "permessage-deflate" (RSV1 then means compressed)
  --ui text|json        the explanation (default) or the NDJSON events of docs/design.md
  --max-payload N       keep at most N payload bytes per frame/message (default 65536)
  --protocol NAME       decode the messages as this application protocol (socket.io,
                        stomp, json-rpc, ...) instead of detecting it
`;

type DecodeInputKind = 'capture' | ImportKind | 'http' | 'hex' | 'binary';

/** Recognises the input from its first bytes (see HELP). */
function classifyInput(bytes: Buffer): DecodeInputKind {
  // pcap/pcapng by their magic numbers, HAR by its JSON shape (src/import).
  const imported = sniffImport(bytes);
  if (imported) return imported;
  const head = bytes.subarray(0, 256).toString('latin1');
  if (/^\s*\{\s*"format"\s*:\s*"wsscope-capture"/.test(head)) return 'capture';
  // Decoded events (a golden file, --ui json output) would otherwise be "decoded" as raw
  // frames: 0x7b '{' is a frame header, and a thousand lines of nonsense follow.
  if (/^\s*\{\s*"event"\s*:\s*"/.test(head)) {
    throw new CliError('this is NDJSON of decoded events (a golden file or --ui json output), not bytes: decode the capture it came from (NAME.capture.ndjson, written by --save)');
  }
  if (/^(GET|HEAD|POST|PUT|OPTIONS|DELETE|PATCH|CONNECT) \S+ HTTP\/\d/.test(head) || /^HTTP\/\d(\.\d)? \d{3}/.test(head)) return 'http';
  if (hexTextToBytes(bytes) !== null) return 'hex';
  return 'binary';
}

/**
 * The text with its `#` comments (to the end of a line, handy in sample files) removed, or
 * null when it is not hex text: hex digits and the separators parseHex accepts.
 */
function hexText(content: Buffer | string): string | null {
  const text = (typeof content === 'string' ? content : content.toString('latin1')).replace(/#[^\n]*/g, '');
  return text.trim() !== '' && /^[\s0-9a-fA-Fx,:\-]*$/.test(text) ? text : null;
}

/** Hex text to bytes, or null when the content is not hex text (or not whole pairs). */
function hexTextToBytes(content: Buffer | string): Buffer | null {
  const text = hexText(content);
  return text === null ? null : parseHex(text);
}

export interface DecodeOptions {
  ui: 'text' | 'json';
  from?: Direction;
  extensions?: string;
  maxPayload: number;
  /** `--protocol NAME` (src/protocols). */
  protocol?: string;
}

/** Writes the events of a decoding, rendered as the --ui asks. */
export class EventPrinter {
  private readonly renderer: TextRenderer;
  private first = true;

  constructor(
    private readonly ui: 'text' | 'json',
    private readonly write: (text: string) => void,
    assumeDeflate = false,
  ) {
    this.renderer = new TextRenderer({ assumeDeflate });
  }

  readonly print = (event: WsEvent): void => {
    if (this.ui === 'json') {
      this.write(JSON.stringify(event) + '\n');
      return;
    }
    // A blank line between explanations; one-line events (open, end) too, for a steady rhythm.
    this.write((this.first ? '' : '\n') + this.renderer.render(event) + '\n');
    this.first = false;
    if (event.event === 'end') this.renderer.forget(event.conn);
  };
}

/** Where an HTTP head ends (after its blank line), or -1. */
function headEnd(bytes: Buffer, from: number): number {
  const crlf = bytes.indexOf('\r\n\r\n', from, 'latin1');
  const lf = bytes.indexOf('\n\n', from, 'latin1');
  const ends = [crlf >= 0 ? crlf + 4 : -1, lf >= 0 ? lf + 2 : -1].filter((e) => e >= 0);
  return ends.length ? Math.min(...ends) : -1;
}

/** The decoder of raw frames (connection 1, no handshake) that both decodeBytes and decodeStream use. */
function rawFrameDecoder(options: DecodeOptions, emit: (event: WsEvent) => void, extensions = options.extensions): ConnectionDecoder {
  return createDecoder({ conn: 1, maxPayload: options.maxPayload, protocol: options.protocol, start: 'frames', extensions, onEvent: emit });
}

/** RFC 6455 §5.1: clients mask every frame and servers none, so the MASK bit tells. */
function guessSender(frames: Buffer): Direction {
  return frames.length >= 2 && frames[1] & 0x80 ? 'client' : 'server';
}

/**
 * Decodes raw frames, or a stream starting with an HTTP upgrade, as connection 1 with ts 0
 * (raw bytes carry no time; a fixed ts keeps the output reproducible).
 *
 * An HTTP stream is either a transcript of both heads (the request, then the response,
 * then the frames of one side), decoded from the handshake on; or one side only (a request
 * and the client's frames, or a response and the server's frames): its head is shown and
 * the frames after it are decoded as that side's, since the handshake cannot be checked
 * without the other head.
 */
export function decodeBytes(bytes: Buffer, kind: 'http' | 'raw', options: DecodeOptions, emit: (event: WsEvent) => void): void {
  const ts = 0;
  const rawFrames = (frames: Buffer, from: Direction, extensions = options.extensions) => {
    const decoder = rawFrameDecoder(options, emit, extensions);
    if (frames.length) decoder.push(from, frames, ts);
    decoder.finish(ts);
  };
  if (kind === 'raw') return rawFrames(bytes, options.from ?? guessSender(bytes));

  const startsResponse = (b: Buffer) => /^HTTP\//.test(b.subarray(0, 5).toString('latin1'));
  const split = (b: Buffer) => {
    const end = headEnd(b, 0);
    return end < 0 ? { head: b, rest: Buffer.alloc(0) } : { head: b.subarray(0, end), rest: b.subarray(end) };
  };
  const headText = (head: Buffer) => head.toString('latin1').replace(/(\r?\n)+$/, '');

  if (startsResponse(bytes)) {
    // The server's side only: RSV1 means compressed if the response accepted permessage-deflate.
    const { head, rest } = split(bytes);
    const parsed = parseResponseHead(headText(head));
    const status = parsed ? `${parsed.head.status} ${parsed.head.reason}` : 'an unreadable status line';
    emit({ event: 'error', ts, conn: 1, message: `only the server's side: a response (${status}) with no request to check it against; the bytes after it are decoded as the server's frames` });
    const extensions = options.extensions ?? (parsed ? headerValue(parsed.head.headers, 'sec-websocket-extensions') ?? undefined : undefined);
    return rawFrames(rest, options.from ?? 'server', extensions);
  }

  const request = split(bytes);
  if (startsResponse(request.rest)) {
    // A transcript of both heads: the decoder checks the whole handshake.
    const response = split(request.rest);
    const decoder = createDecoder({ conn: 1, maxPayload: options.maxPayload, protocol: options.protocol, start: 'handshake', onEvent: emit });
    decoder.push('client', request.head, ts);
    decoder.push('server', response.head, ts);
    if (response.rest.length) decoder.push(options.from ?? guessSender(response.rest), response.rest, ts);
    decoder.finish(ts);
    return;
  }
  // The client's side only: the request and its checks, then the client's frames.
  const parsed = parseRequestHead(headText(request.head));
  if (parsed) {
    emit({ event: 'http', ts, conn: 1, request: parsed.head, response: null, violations: [...parsed.violations, ...checkRequest(parsed.head)] });
  } else {
    emit({ event: 'error', ts, conn: 1, message: 'the input starts like an HTTP request but its request line cannot be read' });
  }
  rawFrames(request.rest, options.from ?? 'client');
}

/** Replays a capture (a file path, its content, or a stream of it) into `emit`. */
async function decodeCapture(input: string | Buffer | NodeJS.ReadableStream, options: DecodeOptions, emit: (event: WsEvent) => void, source = 'capture'): Promise<void> {
  const stream = Buffer.isBuffer(input) ? Readable.from([input]) : input;
  try {
    await replayCaptureFile(stream, emit, { maxPayload: options.maxPayload, protocol: options.protocol, source });
  } catch (err) {
    if (err instanceof CaptureFormatError) throw new CliError(err.message);
    throw err;
  }
}

/** Decodes a pcap, pcapng or HAR stream (src/import) into `emit`. */
async function decodeImport(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, kind: ImportKind, options: DecodeOptions, emit: (event: WsEvent) => void, source: string): Promise<void> {
  try {
    await replayImport(chunks, kind, emit, { maxPayload: options.maxPayload, protocol: options.protocol, source });
  } catch (err) {
    if (err instanceof CaptureFormatError) throw new CliError(err.message);
    throw err;
  }
}

/** Decodes any input (see classifyInput) into `emit`. */
async function decodeInput(content: Buffer, options: DecodeOptions, emit: (event: WsEvent) => void, source = 'input'): Promise<void> {
  if (content.length === 0) throw new CliError(`nothing to decode: ${source} is empty`);
  const kind = classifyInput(content);
  if (kind === 'capture') return decodeCapture(content, options, emit, source);
  if (kind === 'pcap' || kind === 'pcapng' || kind === 'har') return decodeImport([content], kind, options, emit, source);
  if (kind === 'http') return decodeBytes(content, 'http', options, emit);
  const bytes = kind === 'hex' ? (hexTextToBytes(content) as Buffer) : content;
  decodeBytes(bytes, 'raw', options, emit);
}

/** Hex text and HTTP streams are read whole; beyond this size they are refused. */
const MAX_WHOLE_INPUT = 64 * 1024 * 1024;
/** How many first bytes decide what the input is. */
const HEAD_BYTES = 256;

/**
 * Decodes a stream of any input with bounded memory: the first bytes tell what it is;
 * captures are replayed line by line and raw binary frames fed chunk by chunk; hex text and
 * HTTP streams (small by nature) are read whole, up to MAX_WHOLE_INPUT.
 */
export async function decodeStream(chunks: AsyncIterable<Buffer | string>, options: DecodeOptions, emit: (event: WsEvent) => void, source: string): Promise<void> {
  const it = chunks[Symbol.asyncIterator]();
  const next = async (): Promise<Buffer | null> => {
    const r = await it.next();
    return r.done ? null : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
  };
  const headParts: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < HEAD_BYTES) {
    const chunk = await next();
    if (chunk === null) {
      ended = true;
      break;
    }
    headParts.push(chunk);
    headLength += chunk.length;
  }
  const head = Buffer.concat(headParts);
  if (head.length === 0) throw new CliError(`nothing to decode: ${source} is empty`);
  async function* rest(): AsyncGenerator<Buffer> {
    if (ended) return;
    for (let chunk = await next(); chunk !== null; chunk = await next()) yield chunk;
  }
  const kind = classifyInput(head);
  if (kind === 'pcap' || kind === 'pcapng' || kind === 'har') {
    return decodeImport((async function* () {
      yield head;
      yield* rest();
    })(), kind, options, emit, source);
  }
  if (kind === 'capture') {
    return decodeCapture(Readable.from((async function* () {
      yield head;
      yield* rest();
    })()), options, emit, source);
  }
  // A start that is hex text but for a pair or comment cut at its end is read whole too.
  if (kind === 'binary' && hexText(head) === null) {
    const decoder = rawFrameDecoder(options, emit);
    const from = options.from ?? guessSender(head);
    decoder.push(from, head, 0);
    for await (const chunk of rest()) decoder.push(from, chunk, 0);
    decoder.finish(0);
    return;
  }
  const parts: Buffer[] = [head];
  let total = head.length;
  for await (const chunk of rest()) {
    total += chunk.length;
    if (total > MAX_WHOLE_INPUT) throw new CliError(`${source} is larger than ${MAX_WHOLE_INPUT / 1024 / 1024} MiB: hex text and HTTP streams are read whole (raw frame bytes and captures are not)`);
    parts.push(chunk);
  }
  return decodeInput(Buffer.concat(parts), options, emit, source);
}

/** A file's chunks, with the usual errors turned into one line. */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of fs.createReadStream(path)) yield chunk as Buffer;
  } catch (err) {
    throw cannotRead(path, err);
  }
}

/** The one-line error for a file that cannot be read. */
export function cannotRead(path: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
  return new CliError(`cannot read ${path}: ${why}`);
}

export function parseFrom(text: string | undefined): Direction | undefined {
  return text === undefined ? undefined : parseChoice('--from', text, ['client', 'server'] as const);
}

/** `run` with the output going to `write` (for tests). */
export async function decodeMain(argv: string[], write: (text: string) => void, stdin: () => AsyncIterable<Buffer | string> = () => process.stdin): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      hex: { type: 'string' },
      from: { type: 'string' },
      extensions: { type: 'string' },
      ui: { type: 'string', default: 'text' },
      'max-payload': { type: 'string', default: String(DEFAULT_MAX_PAYLOAD) },
      protocol: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    write(HELP);
    return 0;
  }
  const options: DecodeOptions = {
    ui: parseChoice('--ui', values.ui as string, ['text', 'json'] as const),
    from: parseFrom(values.from),
    extensions: values.extensions,
    maxPayload: parseMaxPayload(values['max-payload'] as string),
    protocol: parseProtocol(values.protocol as string | undefined),
  };
  if (positionals.length > 1) throw new CliError(`decode takes one FILE, got ${positionals.length} (${positionals.join(' ')})`);
  if (values.hex !== undefined && positionals.length) throw new CliError('give either --hex or a FILE, not both');
  if (values.hex === undefined && !positionals.length) throw new CliError('decode needs a FILE, - (stdin) or --hex "81 05 48 65 6c 6c 6f" (see wsscope decode --help)');
  const printer = new EventPrinter(options.ui, write, /permessage-deflate/i.test(options.extensions ?? ''));
  if (values.hex !== undefined) {
    const bytes = hexTextToBytes(values.hex);
    if (bytes === null) throw new CliError(`bad --hex: expected pairs of hex digits like "81 05 48 65", got "${values.hex.slice(0, 40)}"`);
    decodeBytes(bytes, 'raw', options, printer.print);
    return 0;
  }
  const file = positionals[0];
  if (file === '-') await decodeStream(stdin(), options, printer.print, 'stdin');
  else await decodeStream(fileChunks(file), options, printer.print, file);
  return 0;
}

/**
 * Writes to stdout; when the reader goes away (`wsscope decode big | head`), stops quietly
 * instead of crashing on EPIPE.
 */
export function stdoutWriter(): (text: string) => void {
  let closed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    closed = true;
    process.exit(0);
  });
  return (text) => {
    if (!closed) process.stdout.write(text);
  };
}

export async function run(argv: string[]): Promise<number> {
  return decodeMain(argv, stdoutWriter());
}

