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
  private eventListeners: EventListener[] = [];
  private dataListeners: DataListener[] = [];
  info: SessionInfo = {};

  // The listener lists are replaced, never changed in place, so that a listener that
  // unsubscribes (or subscribes) while an event is being published does not make publish
  // skip or repeat another listener, and publishing needs no copy per event.
  onEvent(listener: EventListener): () => void {
    this.eventListeners = [...this.eventListeners, listener];
    return () => {
      this.eventListeners = this.eventListeners.filter((l) => l !== listener);
    };
  }

  onData(listener: DataListener): () => void {
    this.dataListeners = [...this.dataListeners, listener];
    return () => {
      this.dataListeners = this.dataListeners.filter((l) => l !== listener);
    };
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
