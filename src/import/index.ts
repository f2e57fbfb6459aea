/**
 * Bring your own capture: pcap and pcapng files (tcpdump, dumpcap, Wireshark) and HAR
 * files (browser DevTools), recognised by their content, read into the same events as a
 * wsscope capture (DESIGN.md, "wsscope in tests").
 *
 * - pcap/pcapng: packets (./packets.ts) → link layer (./link.ts) → IP (./ip.ts) → TCP,
 *   reassembled per direction (./tcp.ts) → WebSocket connections found by their upgrade
 *   request (./flows.ts) → capture records, decoded by the CaptureReplayer as a `--save`
 *   capture is. Streamed: memory is bounded by the reassembly caps, not the file's size.
 * - HAR (./har.ts): read whole (up to MAX_HAR_BYTES): messages only.
 */
import * as fs from 'fs';
import { Readable } from 'stream';
import { CaptureReplayer, replayCaptureFile, type CaptureRecord, type ReplayOptions } from '../capture';
import type { WsEvent } from '../decoder/events';
import { FlowTracker, type FlowOptions } from './flows';
import { harEvents, MAX_HAR_BYTES, sniffHar } from './har';
import { ImportFormatError, NoConnectionError, packetReader, sniffPacketFile, type PacketFileKind } from './packets';

export { ImportFormatError, NoConnectionError } from './packets';
export { HAR_NOTE, type HarInput, type HarInputEntry } from './har';

export type ImportKind = PacketFileKind | 'har';

/** How many first bytes are enough to recognise every kind (and the capture format's header). */
export const SNIFF_BYTES = 256;

/** pcap, pcapng or HAR from a file's first bytes (magic numbers, JSON shape), or null. */
export function sniffImport(head: Buffer): ImportKind | null {
  return sniffPacketFile(head) ?? (sniffHar(head) ? 'har' : null);
}

/** What a file is, from its first bytes (null: not one of ours; also when unreadable). */
export function sniffFile(path: string): ImportKind | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const head = Buffer.alloc(SNIFF_BYTES);
    return sniffImport(head.subarray(0, fs.readSync(fd, head, 0, SNIFF_BYTES, 0)));
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The capture records of the WebSocket connections in a pcap or pcapng stream. */
export async function* packetCaptureRecords(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, kind: PacketFileKind, source: string, options: FlowOptions = {}): AsyncGenerator<CaptureRecord> {
  const reader = packetReader(kind, source);
  const flows = new FlowTracker(options);
  let lastTs = 0;
  for await (const chunk of chunks) {
    for (const packet of reader.push(chunk)) {
      lastTs = packet.ts;
      yield* flows.packet(packet);
    }
  }
  const cut = reader.end();
  if (cut !== null) {
    // A capture stopped abruptly (tcpdump killed) ends inside a packet: what came before
    // is decoded, and the cut is said, not hidden.
    yield { kind: 'error', line: 0, event: { event: 'error', ts: lastTs, message: `${source}: ${cut}: the file is cut short; decoded what came before it` } };
  }
  yield* flows.finish(false);
  // A capture with no WebSocket connection in it is an error of the command, not an empty
  // success (one with connections, cut short or with gaps, is decoded as far as it goes).
  const none = flows.nothingFound();
  if (none !== null) {
    throw new NoConnectionError(source, `${none}: a connection is found by its upgrade request, so the capture must include its start${cut !== null ? `; and the file is cut short: ${cut}` : ''}`);
  }
}

export interface ImportOptions extends ReplayOptions, FlowOptions {
  source?: string;
}

/** Replays an imported file of a known kind (its whole byte stream) into `publish`. */
export async function replayImport(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, kind: ImportKind, publish: (event: WsEvent) => void, options: ImportOptions = {}): Promise<void> {
  const source = options.source ?? kind;
  if (kind === 'har') {
    const parts: Buffer[] = [];
    let total = 0;
    for await (const chunk of chunks) {
      total += chunk.length;
      if (total > MAX_HAR_BYTES) throw new ImportFormatError(source, `a HAR larger than ${MAX_HAR_BYTES / 1024 / 1024} MiB is not read (HAR files are JSON, read whole)`);
      parts.push(chunk);
    }
    for (const event of harEvents(Buffer.concat(parts).toString('utf8'), { source, maxPayload: options.maxPayload, protocol: options.protocol })) publish(event);
    return;
  }
  const replayer = new CaptureReplayer(publish, options);
  for await (const record of packetCaptureRecords(chunks, kind, source, options)) replayer.feed(record);
  replayer.finish();
}

/** A stream's chunks as Buffers. */
async function* buffers(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  for await (const chunk of input) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
}

/**
 * The first bytes of a stream (at least SNIFF_BYTES unless it ends first), and the whole
 * stream again, those bytes included.
 */
export async function peekStream(input: AsyncIterable<Buffer | string>, bytes = SNIFF_BYTES): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const it = buffers(input)[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < bytes) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    parts.push(r.value);
    length += r.value.length;
  }
  const head = Buffer.concat(parts);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { head, all: all() };
}

/**
 * Replays any file wsscope reads as a session: a wsscope capture (`--save`), pcap, pcapng
 * or HAR, told apart by content. What `wsscope replay` and the TUI open.
 */
export async function replayAnyFile(input: string | NodeJS.ReadableStream, publish: (event: WsEvent) => void, options: ImportOptions = {}): Promise<void> {
  const source = options.source ?? (typeof input === 'string' ? input : 'capture');
  const stream = typeof input === 'string' ? fs.createReadStream(input) : input;
  try {
    const { head, all } = await peekStream(stream as AsyncIterable<Buffer | string>);
    const kind = sniffImport(head);
    if (kind) return await replayImport(all, kind, publish, { ...options, source });
    await replayCaptureFile(Readable.from(all), publish, { ...options, source });
  } finally {
    if (typeof input === 'string') (stream as fs.ReadStream).destroy();
  }
}
