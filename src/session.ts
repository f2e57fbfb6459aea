/**
 * The hub between a source of traffic (the live proxy, or a capture being replayed) and
 * its views (text log, NDJSON, TUI, capture writer, pcap writer). A source publishes the
 * decoder's events and the raw chunks it relayed; views subscribe. Nothing is buffered
 * here: a view that wants history keeps its own bounded store.
 */
import type { Direction, WsEvent } from './decoder/events';

export type EventListener = (event: WsEvent) => void;
/** A raw chunk as it crossed the proxy (handshake included), for capture and pcap writers. */
export type DataListener = (conn: number, dir: Direction, ts: number, chunk: Buffer) => void;

export interface SessionInfo {
  /** The proxy's listening address, when live. */
  proxy?: string;
  /** The upstream target URL, when live. */
  target?: string;
  /** The built-in backend's address, when started. */
  backend?: string;
  /** The capture file, when replaying. */
  replay?: string;
}

export class Session {
  private readonly eventListeners: EventListener[] = [];
  private readonly dataListeners: DataListener[] = [];
  info: SessionInfo = {};

  onEvent(listener: EventListener): () => void {
    this.eventListeners.push(listener);
    return () => remove(this.eventListeners, listener);
  }

  onData(listener: DataListener): () => void {
    this.dataListeners.push(listener);
    return () => remove(this.dataListeners, listener);
  }

  /** True when someone wants raw chunks (so a source can skip the work otherwise). */
  get wantsData(): boolean {
    return this.dataListeners.length > 0;
  }

  publish(event: WsEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }

  publishData(conn: number, dir: Direction, ts: number, chunk: Buffer): void {
    for (const listener of this.dataListeners) listener(conn, dir, ts, chunk);
  }
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
