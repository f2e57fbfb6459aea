/**
 * The library's offline decoding (`require('wsscope')`, docs/api.md): the events that
 * `wsscope decode` prints with `--ui json`, as objects. Both go through the CLI's one
 * decoding path (src/cli/decode.ts: the input recognised by its first bytes), so every
 * input kind the command reads, the library reads too.
 */
import { DEFAULT_MAX_PAYLOAD } from '../decoder';
import type { Direction, WsEvent } from '../decoder/events';
import { decodeBytes as decodeRaw, decodeStream, fileChunks, type DecodeOptions } from '../cli/decode';

export interface DecodeFileOptions {
  /** Who sent raw frames (which masking rule applies); default: guessed from the first frame's MASK bit. */
  from?: Direction;
  /** Raw frames: assume this Sec-WebSocket-Extensions was negotiated, e.g. "permessage-deflate". */
  extensions?: string;
  /** Payload bytes kept per frame/message event (default 65536). */
  maxPayload?: number;
  /** Receives each event as it is decoded (the returned array holds them too). */
  onEvent?: (event: WsEvent) => void;
}

function decodeOptions(options: DecodeFileOptions): DecodeOptions {
  return { ui: 'json', from: options.from, extensions: options.extensions, maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD };
}

function collector(options: DecodeFileOptions): { events: WsEvent[]; emit: (event: WsEvent) => void } {
  const events: WsEvent[] = [];
  return {
    events,
    emit: (event) => {
      events.push(event);
      options.onEvent?.(event);
    },
  };
}

/**
 * Decodes a file: a capture (`--save`), raw frames (binary or hex text), an HTTP upgrade
 * transcript, or any other input `wsscope decode FILE` reads. Rejects with a one-line
 * Error for an unreadable or malformed file.
 */
export async function decodeFile(path: string, options: DecodeFileOptions = {}): Promise<WsEvent[]> {
  const { events, emit } = collector(options);
  await decodeStream(fileChunks(path), decodeOptions(options), emit, path);
  return events;
}

/** Decodes raw frame bytes, as `wsscope decode --hex` does (connection 1, ts 0). */
export function decodeBytes(bytes: Buffer | Uint8Array, options: DecodeFileOptions = {}): WsEvent[] {
  const { events, emit } = collector(options);
  decodeRaw(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'raw', decodeOptions(options), emit);
  return events;
}
