/**
 * The decoder's public face (sans-IO: Buffer chunks in, events out; no sockets, timers
 * or console). STUB: the decoder issue (#2) replaces the body; the signatures are the
 * contract the proxy, the views and the tests code against.
 */
import type { Direction, WsEvent } from './events';

export * from './events';

export interface ConnectionDecoderOptions {
  /** The connection number stamped on every event. */
  conn: number;
  /** Payload preview cap in bytes for frame and message events (DESIGN.md: default 65536). */
  maxPayload?: number;
  /**
   * 'handshake' (default): the client's bytes start with the HTTP upgrade request and the
   * server's with the response; frames follow. 'frames': both directions are raw frames
   * (e.g. `wsscope decode --hex`), with no extension negotiated unless `extensions` says so.
   */
  start?: 'handshake' | 'frames';
  /** With start 'frames': a Sec-WebSocket-Extensions value to assume, e.g. "permessage-deflate". */
  extensions?: string;
  /** Receives every event, in order, synchronously. */
  onEvent: (event: WsEvent) => void;
}

/**
 * Decodes one connection: both directions, from the handshake on. Feeding the same bytes
 * in any chunking yields the same events (but for `ts`, the time of the chunk that
 * completed the event).
 */
export class ConnectionDecoder {
  constructor(readonly options: ConnectionDecoderOptions) {}

  /** Bytes that one side sent, as they arrived. Never throws. */
  push(dir: Direction, chunk: Buffer, ts: number): void {
    void dir;
    void chunk;
    void ts;
  }

  /** The connection ended: reports what was left unfinished (a partial frame, an open message). */
  finish(ts: number): void {
    void ts;
  }
}
